//! The error and extended-acknowledgement parser, and the attribute walk
//! inside it: any header and payload give an `Ack` or an `AckError`,
//! never a panic, and every offset reported lies inside the payload.

#![no_main]

use libfuzzer_sys::fuzz_target;
use netlink_core::ack::{parse_done, parse_error, Ack};
use netlink_core::message::{Header, NLMSG_HDRLEN};

fn check(ack: &Ack) {
    assert!(ack.errno >= 0, "errnos are positive");
    if let Some(message) = &ack.ext.message {
        assert!(!message.contains('\0'), "the message keeps its NUL");
    }
}

fuzz_target!(|data: &[u8]| {
    let Some(header) = Header::parse(data) else {
        return;
    };
    let payload = &data[NLMSG_HDRLEN..];

    if let Ok(ack) = parse_error(&header, payload) {
        check(&ack);
    }
    check(&parse_done(&header, payload));
});
