//! Message framing: `frames` over any bytes yields messages that lie
//! inside the datagram, in order, then at most one error, then nothing.

#![no_main]

use libfuzzer_sys::fuzz_target;
use netlink_core::message::{frames, NLMSG_HDRLEN};

fuzz_target!(|datagram: &[u8]| {
    let mut end = 0;
    let mut walk = frames(datagram);
    for item in walk.by_ref() {
        let Ok(frame) = item else { break };
        assert!(frame.offset >= end, "frames overlap");
        let stop = frame.offset + NLMSG_HDRLEN + frame.payload.len();
        assert!(stop <= datagram.len(), "a frame runs past the datagram");
        assert_eq!(frame.header.length as usize, stop - frame.offset);
        end = stop;
    }
    assert!(walk.next().is_none(), "frames went on after an error");
});
