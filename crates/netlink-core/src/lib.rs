//! The protocol and I/O core of netlink-node, free of any runtime binding:
//! message framing, errors and extended acknowledgements, sockets and their
//! options, network namespaces, and the I/O thread that reads every socket
//! and hands over what arrived in batches.

pub mod ack;
pub mod batch;
pub mod error;
pub mod handover;
pub mod message;
pub mod netns;
pub mod options;
pub mod outbox;
pub mod pool;
pub mod reactor;
pub mod socket;

pub use error::{Result, SysError};
