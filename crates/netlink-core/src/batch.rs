//! Batches: what the I/O thread hands to a consumer after draining a
//! socket. One batch holds every datagram read in one burst, copied into a
//! buffer of its own, and a flat index of the messages found in it, so a
//! consumer crosses into its runtime once per burst, not once per message.

use std::mem;

use crate::ack::{self, ExtAck};
use crate::message::{self, Header, NLMSG_DONE, NLMSG_ERROR};
use crate::pool;
use crate::socket::Datagram;

/// Number of `u32` fields in one record of `Batch::records`.
pub const RECORD_LEN: usize = 11;

/// The fields of a record, by position.
pub mod field {
    /// One of `kind::*`, with `kind::HAS_NSID` or-ed in.
    pub const KIND: usize = 0;
    /// Where the message (its header) starts in `Batch::data`.
    pub const OFFSET: usize = 1;
    /// Bytes of the message in `Batch::data`, header included.
    pub const LENGTH: usize = 2;
    /// The header's type in the low 16 bits, its flags in the high 16.
    pub const TYPE_FLAGS: usize = 3;
    /// The header's sequence number.
    pub const SEQUENCE: usize = 4;
    /// The header's port ID field.
    pub const PID: usize = 5;
    /// The sender's port ID, from the datagram's source address.
    pub const PORT: usize = 6;
    /// The multicast group of the datagram; 0 for unicast.
    pub const GROUP: usize = 7;
    /// A positive errno: an error or DONE message's, or the fault's.
    pub const ERRNO: usize = 8;
    /// 1 + the index of this message's entry in `Batch::ext_acks`; 0 when
    /// it has none.
    pub const EXT_ACK: usize = 9;
    /// The peer namespace id (bits of an `i32`) when `HAS_NSID` is set.
    pub const NSID: usize = 10;
}

/// What a record stands for.
pub mod kind {
    /// A netlink message.
    pub const MESSAGE: u32 = 0;
    /// A whole datagram, delivered unparsed (raw mode).
    pub const DATAGRAM: u32 = 1;
    /// The socket overran: the kernel dropped datagrams (`ENOBUFS`).
    pub const OVERRUN: u32 = 2;
    /// A datagram larger than the read buffer was cut and dropped; the
    /// header fields are those of its first message where readable.
    pub const TRUNCATED: u32 = 3;
    /// Bytes that are no valid message; header fields where readable.
    pub const MALFORMED: u32 = 4;
    /// Flag: the record's `NSID` field is set.
    pub const HAS_NSID: u32 = 0x100;
}

/// Datagrams read in one burst and the messages found in them.
#[derive(Debug, Default)]
pub struct Batch {
    /// The datagrams, back to back.
    pub data: Vec<u8>,
    /// `RECORD_LEN` fields per record.
    pub records: Vec<u32>,
    /// The extended acknowledgements records point to.
    pub ext_acks: Vec<ExtAck>,
}

impl Batch {
    /// Number of records.
    pub fn len(&self) -> usize {
        self.records.len() / RECORD_LEN
    }

    /// Whether the batch has no record.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// The record at `index`.
    pub fn record(&self, index: usize) -> &[u32] {
        &self.records[index * RECORD_LEN..(index + 1) * RECORD_LEN]
    }

    /// Memory the batch holds, for accounting.
    pub fn bytes(&self) -> usize {
        self.data.len() + self.records.len() * 4
    }

    /// One batch of `parts`, in order, in memory sized to fit: records
    /// point into its `data` and its `ext_acks`. One part is returned as
    /// it is; none makes an empty batch.
    pub fn concat(mut parts: Vec<Batch>) -> Batch {
        if parts.len() <= 1 {
            return parts.pop().unwrap_or_default();
        }
        let data = parts.iter().map(|part| part.data.len()).sum();
        let fields = parts.iter().map(|part| part.records.len()).sum();
        let mut pool = pool::shared();
        let mut out = Batch {
            data: pool.bytes(data),
            records: pool.words(fields),
            ext_acks: Vec::new(),
        };

        // The parts were never handed over: their memory is free once
        // copied.
        for part in parts {
            let base = out.data.len() as u32;
            let acks = out.ext_acks.len() as u32;
            out.data.extend_from_slice(&part.data);
            let first = out.records.len();
            out.records.extend_from_slice(&part.records);
            for record in out.records[first..].chunks_exact_mut(RECORD_LEN) {
                record[field::OFFSET] += base;
                if record[field::EXT_ACK] != 0 {
                    record[field::EXT_ACK] += acks;
                }
            }
            out.ext_acks.extend(part.ext_acks);
            pool.recycle_bytes(part.data);
            pool.recycle_words(part.records);
        }
        out
    }
}

/// Builds batches: the reader receives straight into `spare()`, then says
/// what arrived. `take` hands over an exact-size copy of the bytes, so
/// memory given to a consumer is never written again.
pub struct BatchBuilder {
    buf: Vec<u8>,
    used: usize,
    out: Records,
    raw: bool,
}

impl BatchBuilder {
    /// A builder reading into `capacity` bytes; `raw` keeps datagrams
    /// whole instead of splitting them into messages.
    pub fn new(capacity: usize, raw: bool) -> Self {
        BatchBuilder {
            buf: vec![0; capacity],
            used: 0,
            out: Records::default(),
            raw,
        }
    }

    /// Switches between raw and parsed mode for the datagrams to come.
    pub fn set_raw(&mut self, raw: bool) {
        self.raw = raw;
    }

    /// The free part of the read buffer, where the next datagram goes.
    pub fn spare(&mut self) -> &mut [u8] {
        &mut self.buf[self.used..]
    }

    /// Bytes free in the read buffer.
    pub fn spare_len(&self) -> usize {
        self.buf.len() - self.used
    }

    /// Whether nothing was recorded since the last `take`.
    pub fn is_empty(&self) -> bool {
        self.out.records.is_empty()
    }

    /// Records the datagram `recv` just wrote at the start of `spare()`.
    pub fn push_datagram(&mut self, datagram: &Datagram) {
        let start = self.used;
        let end = start + datagram.length.min(self.spare_len());
        let bytes = &self.buf[start..end];
        let meta = Meta::of(datagram);

        if datagram.truncated {
            let header = Header::parse(bytes).unwrap_or_default();
            let errno = libc::EMSGSIZE;
            self.out
                .push(kind::TRUNCATED, &meta, start, 0, header, errno);
            return;
        }
        if self.raw {
            let header = Header::default();
            self.out
                .push(kind::DATAGRAM, &meta, start, bytes.len(), header, 0);
        } else {
            self.out.split(bytes, start, &meta);
        }
        self.used = end;
    }

    /// Records that the socket overran before the datagrams to come.
    pub fn push_overrun(&mut self) {
        let (meta, header) = (Meta::default(), Header::default());
        let errno = libc::ENOBUFS;
        self.out
            .push(kind::OVERRUN, &meta, self.used, 0, header, errno);
    }

    /// Copies everything recorded into `data` and `records`, memory the
    /// caller owns and copies out of before it calls again, and starts
    /// afresh; returns the bytes and record fields written. Returns `None`,
    /// keeping everything for `take`, when it does not fit or carries an
    /// extended acknowledgement (which has no place in those slices).
    ///
    /// This spares a reader that gets a few small datagrams at a time the
    /// allocation of a batch of their own.
    pub fn take_into(
        &mut self,
        data: &mut [u8],
        records: &mut [u32],
    ) -> Option<(usize, usize)> {
        let fields = self.out.records.len();
        let fits = self.used <= data.len() && fields <= records.len();
        if !fits || !self.out.ext_acks.is_empty() {
            return None;
        }

        data[..self.used].copy_from_slice(&self.buf[..self.used]);
        records[..fields].copy_from_slice(&self.out.records);
        let written = (self.used, fields);
        self.used = 0;
        self.out.records.clear();
        Some(written)
    }

    /// Bytes the batch `take` would make holds, for accounting: as
    /// `Batch::bytes`.
    pub fn bytes(&self) -> usize {
        self.used + self.out.records.len() * 4
    }

    /// Whether every record since the last `take` is a message or a
    /// datagram sent to a multicast group: nothing a request waits for.
    /// False when there is none.
    pub fn is_multicast(&self) -> bool {
        let mut records = self.out.records.chunks_exact(RECORD_LEN);
        !self.out.records.is_empty()
            && records.all(|record| {
                let what = record[field::KIND] & !kind::HAS_NSID;
                let message = what == kind::MESSAGE || what == kind::DATAGRAM;
                message && record[field::GROUP] != 0
            })
    }

    /// Bytes of datagrams recorded since the last `take`.
    pub fn data_len(&self) -> usize {
        self.used
    }

    /// Hands over everything recorded as a batch and starts afresh. The
    /// batch's bytes, and the records of the next, are made of pooled
    /// memory where the pool has some (see `pool`).
    pub fn take(&mut self) -> Batch {
        let (mut data, records) = {
            let mut pool = pool::shared();
            (pool.bytes(self.used), pool.words(self.out.records.len()))
        };
        data.extend_from_slice(&self.buf[..self.used]);
        self.used = 0;
        Batch {
            data,
            records: mem::replace(&mut self.out.records, records),
            ext_acks: mem::take(&mut self.out.ext_acks),
        }
    }
}

/// The records of the batch being built, apart from the read buffer they
/// describe.
#[derive(Default)]
struct Records {
    records: Vec<u32>,
    ext_acks: Vec<ExtAck>,
}

impl Records {
    /// Records the messages of `datagram`, which starts at `start` in the
    /// read buffer; a fault ends it with a malformed record.
    fn split(&mut self, datagram: &[u8], start: usize, meta: &Meta) {
        for frame in message::frames(datagram) {
            let frame = match frame {
                Ok(frame) => frame,
                Err(fault) => {
                    let at = fault.offset();
                    let header = Header::parse(&datagram[at..]);
                    let header = header.unwrap_or_default();
                    let errno = libc::EBADMSG;
                    let offset = start + at;
                    self.push(kind::MALFORMED, meta, offset, 0, header, errno);
                    break;
                }
            };

            let offset = start + frame.offset;
            let length = message::NLMSG_HDRLEN + frame.payload.len();
            let header = frame.header;
            match header.kind {
                NLMSG_ERROR | NLMSG_DONE => self.push_outcome(
                    meta,
                    offset,
                    length,
                    header,
                    frame.payload,
                ),
                _ => self.push(kind::MESSAGE, meta, offset, length, header, 0),
            }
        }
    }

    /// Records an ERROR or DONE message, with its errno and extended
    /// acknowledgement: the only messages that carry them.
    fn push_outcome(
        &mut self,
        meta: &Meta,
        offset: usize,
        length: usize,
        header: Header,
        payload: &[u8],
    ) {
        let (what, errno, ext) = match header.kind {
            NLMSG_ERROR => match ack::parse_error(&header, payload) {
                Ok(ack) => (kind::MESSAGE, ack.errno, ack.ext),
                // Too short for its errno: it cannot answer anything.
                Err(_) => (kind::MALFORMED, libc::EBADMSG, ExtAck::default()),
            },
            _ => {
                let ack = ack::parse_done(&header, payload);
                (kind::MESSAGE, ack.errno, ack.ext)
            }
        };
        self.push(what, meta, offset, length, header, errno);
        self.attach(ext);
    }

    /// Points the last record at `ext`, when the kernel said anything.
    fn attach(&mut self, ext: ExtAck) {
        if ext.is_empty() {
            return;
        }
        self.ext_acks.push(ext);
        let last = self.records.len() - RECORD_LEN + field::EXT_ACK;
        self.records[last] = self.ext_acks.len() as u32;
    }

    fn push(
        &mut self,
        kind: u32,
        meta: &Meta,
        offset: usize,
        length: usize,
        header: Header,
        errno: i32,
    ) {
        let nsid_flag = match meta.nsid {
            Some(_) => kind::HAS_NSID,
            None => 0,
        };
        self.records.extend_from_slice(&[
            kind | nsid_flag,
            offset as u32,
            length as u32,
            header.kind as u32 | (header.flags as u32) << 16,
            header.sequence,
            header.pid,
            meta.port,
            meta.group,
            errno.unsigned_abs(),
            0,
            meta.nsid.unwrap_or(0) as u32,
        ]);
    }
}

/// What every record of one datagram shares.
#[derive(Default)]
struct Meta {
    port: u32,
    group: u32,
    nsid: Option<i32>,
}

impl Meta {
    fn of(datagram: &Datagram) -> Meta {
        Meta {
            port: datagram.port,
            group: datagram.group,
            nsid: datagram.nsid,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::{NLM_F_ACK_TLVS, NLM_F_MULTI};

    fn message(
        kind: u16,
        flags: u16,
        sequence: u32,
        payload: &[u8],
    ) -> Vec<u8> {
        let length = 16 + payload.len();
        let mut out = vec![0u8; message::align(length)];
        let header = Header {
            length: length as u32,
            kind,
            flags,
            sequence,
            pid: 1,
        };
        header.write(&mut out);
        out[16..length].copy_from_slice(payload);
        out
    }

    fn attribute(kind: u16, value: &[u8]) -> Vec<u8> {
        let length = 4 + value.len();
        let mut out = vec![0u8; message::align(length)];
        out[..2].copy_from_slice(&(length as u16).to_ne_bytes());
        out[2..4].copy_from_slice(&kind.to_ne_bytes());
        out[4..length].copy_from_slice(value);
        out
    }

    fn receive(builder: &mut BatchBuilder, bytes: &[u8], meta: Datagram) {
        builder.spare()[..bytes.len()].copy_from_slice(bytes);
        builder.push_datagram(&Datagram {
            length: bytes.len(),
            ..meta
        });
    }

    #[test]
    fn messages_of_several_datagrams_share_one_batch() {
        let mut builder = BatchBuilder::new(4096, false);
        let first = [
            message(16, NLM_F_MULTI, 5, &[1; 8]),
            message(16, NLM_F_MULTI, 5, &[2; 5]),
        ]
        .concat();
        receive(&mut builder, &first, Datagram::default());
        let done = message(NLMSG_DONE, NLM_F_MULTI, 5, &0i32.to_ne_bytes());
        receive(&mut builder, &done, Datagram::default());

        let batch = builder.take();
        assert_eq!(batch.len(), 3);
        assert_eq!(batch.data.len(), first.len() + done.len());
        let second = batch.record(1);
        assert_eq!(second[field::OFFSET], 24);
        assert_eq!(second[field::LENGTH], 21);
        assert_eq!(second[field::TYPE_FLAGS], 16 | (NLM_F_MULTI as u32) << 16);
        assert_eq!(batch.record(2)[field::OFFSET] as usize, first.len());
        assert!(builder.take().is_empty());
    }

    #[test]
    fn an_errno_inside_done_is_recorded() {
        let mut builder = BatchBuilder::new(4096, false);
        let errno = -libc::ENOBUFS;
        let done = message(NLMSG_DONE, NLM_F_MULTI, 9, &errno.to_ne_bytes());
        receive(&mut builder, &done, Datagram::default());

        let batch = builder.take();
        assert_eq!(batch.record(0)[field::ERRNO], libc::ENOBUFS as u32);
        assert_eq!(batch.record(0)[field::EXT_ACK], 0);
    }

    #[test]
    fn an_error_with_an_extended_ack_points_to_it() {
        let mut builder = BatchBuilder::new(4096, false);
        let request = message(16, 0x1, 3, &[0; 4]);
        let payload = [
            (-libc::EOPNOTSUPP).to_ne_bytes().to_vec(),
            request,
            attribute(1, b"Unknown device type\0"),
        ]
        .concat();
        let error = message(NLMSG_ERROR, NLM_F_ACK_TLVS, 3, &payload);
        receive(&mut builder, &error, Datagram::default());

        let batch = builder.take();
        let record = batch.record(0);
        assert_eq!(record[field::ERRNO], libc::EOPNOTSUPP as u32);
        assert_eq!(record[field::EXT_ACK], 1);
        let message = batch.ext_acks[0].message.as_deref();
        assert_eq!(message, Some("Unknown device type"));
    }

    #[test]
    fn the_datagrams_source_is_on_every_record() {
        let mut builder = BatchBuilder::new(4096, false);
        let bytes = [message(16, 0, 0, &[]), message(17, 0, 0, &[])].concat();
        let meta = Datagram {
            port: 0,
            group: 33,
            nsid: Some(-1),
            ..Datagram::default()
        };
        receive(&mut builder, &bytes, meta);

        let batch = builder.take();
        for index in 0..2 {
            let record = batch.record(index);
            assert_eq!(record[field::GROUP], 33);
            assert_eq!(record[field::KIND], kind::MESSAGE | kind::HAS_NSID);
            assert_eq!(record[field::NSID] as i32, -1);
        }
    }

    #[test]
    fn a_malformed_tail_keeps_the_messages_before_it() {
        let mut builder = BatchBuilder::new(4096, false);
        let mut bytes = message(16, 0, 4, &[7; 4]);
        let mut liar = message(16, 0, 6, &[]);
        liar[..4].copy_from_slice(&500u32.to_ne_bytes());
        bytes.extend_from_slice(&liar);
        receive(&mut builder, &bytes, Datagram::default());

        let batch = builder.take();
        assert_eq!(batch.len(), 2);
        assert_eq!(batch.record(0)[field::KIND], kind::MESSAGE);
        let fault = batch.record(1);
        assert_eq!(fault[field::KIND], kind::MALFORMED);
        assert_eq!(fault[field::ERRNO], libc::EBADMSG as u32);
        assert_eq!(fault[field::SEQUENCE], 6);
    }

    #[test]
    fn a_truncated_datagram_is_recorded_without_its_bytes() {
        let mut builder = BatchBuilder::new(4096, false);
        let bytes = message(16, 0, 11, &[0; 40]);
        builder.spare()[..bytes.len()].copy_from_slice(&bytes);
        builder.push_datagram(&Datagram {
            length: 70_000,
            truncated: true,
            ..Datagram::default()
        });

        let batch = builder.take();
        assert!(batch.data.is_empty());
        let record = batch.record(0);
        assert_eq!(record[field::KIND], kind::TRUNCATED);
        assert_eq!(record[field::ERRNO], libc::EMSGSIZE as u32);
        assert_eq!(record[field::SEQUENCE], 11);
    }

    #[test]
    fn raw_mode_keeps_a_datagram_whole() {
        let mut builder = BatchBuilder::new(4096, true);
        let uevent = b"add@/devices/virtual/net/veth0\0ACTION=add\0";
        receive(&mut builder, uevent, Datagram::default());

        let batch = builder.take();
        let record = batch.record(0);
        assert_eq!(record[field::KIND], kind::DATAGRAM);
        assert_eq!(record[field::LENGTH] as usize, uevent.len());
        assert_eq!(&batch.data[..], &uevent[..]);
    }

    #[test]
    fn an_overrun_is_a_record_of_its_own() {
        let mut builder = BatchBuilder::new(4096, false);
        builder.push_overrun();
        let batch = builder.take();
        assert_eq!(batch.record(0)[field::KIND], kind::OVERRUN);
        assert_eq!(batch.record(0)[field::ERRNO], libc::ENOBUFS as u32);
    }

    #[test]
    fn take_into_copies_and_starts_afresh() {
        let mut builder = BatchBuilder::new(4096, false);
        let bytes = message(16, 0, 1, &[1; 4]);
        receive(&mut builder, &bytes, Datagram::default());

        let (mut data, mut records) = ([0u8; 64], [0u32; 32]);
        let written = builder.take_into(&mut data, &mut records);
        assert_eq!(written, Some((bytes.len(), RECORD_LEN)));
        assert_eq!(&data[..bytes.len()], &bytes[..]);
        assert_eq!(records[field::SEQUENCE], 1);
        assert!(builder.is_empty());
        assert!(builder.take().data.is_empty());
    }

    #[test]
    fn take_into_leaves_what_does_not_fit_to_take() {
        let mut builder = BatchBuilder::new(4096, false);
        let bytes = message(16, 0, 1, &[1; 40]);
        receive(&mut builder, &bytes, Datagram::default());

        let (mut data, mut records) = ([0u8; 16], [0u32; 32]);
        assert_eq!(builder.take_into(&mut data, &mut records), None);
        assert_eq!(builder.take().data, bytes);
    }

    #[test]
    fn take_into_leaves_extended_acks_to_take() {
        let mut builder = BatchBuilder::new(4096, false);
        let payload = [
            (-libc::EINVAL).to_ne_bytes().to_vec(),
            message(16, 0x1, 3, &[0; 4]),
            attribute(1, b"bad\0"),
        ]
        .concat();
        let error = message(NLMSG_ERROR, NLM_F_ACK_TLVS, 3, &payload);
        receive(&mut builder, &error, Datagram::default());

        let (mut data, mut records) = ([0u8; 4096], [0u32; 64]);
        assert_eq!(builder.take_into(&mut data, &mut records), None);
        assert_eq!(builder.take().ext_acks.len(), 1);
    }

    #[test]
    fn concat_shifts_offsets_and_acks_of_later_parts() {
        let mut builder = BatchBuilder::new(4096, false);
        let first = message(16, 0, 1, &[1; 4]);
        receive(&mut builder, &first, Datagram::default());
        let payload = [
            (-libc::EINVAL).to_ne_bytes().to_vec(),
            message(16, 0x1, 3, &[0; 4]),
            attribute(1, b"one\0"),
        ]
        .concat();
        let error = message(NLMSG_ERROR, NLM_F_ACK_TLVS, 3, &payload);
        receive(&mut builder, &error, Datagram::default());
        let one = builder.take();

        let payload = [
            (-libc::EPERM).to_ne_bytes().to_vec(),
            message(16, 0x1, 4, &[0; 4]),
            attribute(1, b"two\0"),
        ]
        .concat();
        let second = message(NLMSG_ERROR, NLM_F_ACK_TLVS, 4, &payload);
        receive(&mut builder, &second, Datagram::default());
        let two = builder.take();
        let bytes = one.bytes() + two.bytes();
        let batch = Batch::concat(vec![one, Batch::default(), two]);

        assert_eq!(batch.bytes(), bytes);
        assert_eq!(batch.data.capacity(), batch.data.len());
        assert_eq!(batch.len(), 3);
        let last = batch.record(2);
        let at = last[field::OFFSET] as usize;
        assert_eq!(at, first.len() + error.len());
        assert_eq!(&batch.data[at..], &second[..]);
        assert_eq!(last[field::EXT_ACK], 2);
        let message = batch.ext_acks[1].message.as_deref();
        assert_eq!(message, Some("two"));
    }

    #[test]
    fn only_messages_to_a_group_are_multicast() {
        let mut builder = BatchBuilder::new(4096, false);
        assert!(!builder.is_multicast(), "nothing is not multicast");
        let event = message(24, 0, 0, &[]);
        let multicast = Datagram {
            group: 11,
            nsid: Some(3),
            ..Datagram::default()
        };
        receive(&mut builder, &event, multicast);
        assert!(builder.is_multicast());

        receive(&mut builder, &event, Datagram::default());
        assert!(!builder.is_multicast(), "a unicast message among them");
        builder.take();
        receive(&mut builder, &event, multicast);
        builder.push_overrun();
        assert!(!builder.is_multicast(), "an overrun among them");
    }

    #[test]
    fn a_batch_owns_an_exact_copy() {
        let mut builder = BatchBuilder::new(4096, false);
        receive(
            &mut builder,
            &message(16, 0, 1, &[1; 4]),
            Datagram::default(),
        );
        let batch = builder.take();

        // The next datagram lands where the first was; the batch keeps its
        // own bytes.
        receive(
            &mut builder,
            &message(16, 0, 2, &[9; 4]),
            Datagram::default(),
        );
        assert_eq!(&batch.data[16..20], &[1; 4]);
        assert_eq!(batch.data.len(), 20);
    }
}
