//! The whole path a datagram takes on the I/O thread: framing, the
//! parsing of errors and DONE messages, and the records a batch keeps.
//! Every record must point inside the batch's bytes, and every
//! extended-acknowledgement index at an entry that exists.
//!
//! The first byte picks the mode (bit 0: raw, bit 1: truncated, bits 2-3:
//! unicast or a group); the rest is the datagram.

#![no_main]

use libfuzzer_sys::fuzz_target;
use netlink_core::batch::{field, kind, BatchBuilder};
use netlink_core::socket::Datagram;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, datagram)) = data.split_first() else {
        return;
    };

    let mut builder = BatchBuilder::new(datagram.len().max(1), mode & 1 != 0);
    builder.spare()[..datagram.len()].copy_from_slice(datagram);
    builder.push_datagram(&Datagram {
        length: datagram.len(),
        truncated: mode & 2 != 0,
        group: u32::from(mode >> 2 & 3),
        ..Datagram::default()
    });
    let batch = builder.take();

    for index in 0..batch.len() {
        let record = batch.record(index);
        let offset = record[field::OFFSET] as usize;
        let length = record[field::LENGTH] as usize;
        assert!(offset + length <= batch.data.len(), "record out of bounds");
        let ack = record[field::EXT_ACK] as usize;
        assert!(ack <= batch.ext_acks.len(), "ext ack index out of bounds");
        assert!(record[field::KIND] & 0xff <= kind::MALFORMED);
    }
});
