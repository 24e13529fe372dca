//! The Node.js binding of netlink-core: a `NativeConn` class over one
//! registered socket, handing batches to JavaScript through a threadsafe
//! function. `lib/conn.ts` is its only caller; the public API lives there.

mod batch;
mod buffer;
mod conn;
mod env;
mod error;
mod handles;
mod panic;
mod read_now;

pub use conn::NativeConn;
