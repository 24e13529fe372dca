//! Framing: the netlink message header, and the walk over the messages that
//! one datagram carries.
//!
//! Everything here borrows from the caller's buffer: nothing allocates, and
//! no input, however malformed, makes any function panic.

use std::fmt;
use std::iter::FusedIterator;

/// The size of a netlink message header (`struct nlmsghdr`) in bytes.
pub const NLMSG_HDRLEN: usize = 16;

/// Netlink aligns messages and attributes to this many bytes.
const NLMSG_ALIGNTO: usize = 4;

/// Message type of a message that carries nothing and is to be ignored.
pub const NLMSG_NOOP: u16 = 1;
/// Message type of an error or an acknowledgement (`struct nlmsgerr`).
pub const NLMSG_ERROR: u16 = 2;
/// Message type that ends a multipart message, such as a dump.
pub const NLMSG_DONE: u16 = 3;
/// Message type reporting that data was lost.
pub const NLMSG_OVERRUN: u16 = 4;

/// Flag: the message is a request.
pub const NLM_F_REQUEST: u16 = 0x1;
/// Flag: the message is part of a multipart message ended by `NLMSG_DONE`.
pub const NLM_F_MULTI: u16 = 0x2;
/// Flag: the sender asks for an acknowledgement.
pub const NLM_F_ACK: u16 = 0x4;
/// Flag: the sender asks to receive its own request back.
pub const NLM_F_ECHO: u16 = 0x8;
/// Flag: the dump was interrupted by a change, so it may be inconsistent.
pub const NLM_F_DUMP_INTR: u16 = 0x10;
/// Flag: the dump was filtered as the request asked.
pub const NLM_F_DUMP_FILTERED: u16 = 0x20;

/// Get request flag: return the whole table rather than one entry.
pub const NLM_F_ROOT: u16 = 0x100;
/// Get request flag: return every entry that matches the request.
pub const NLM_F_MATCH: u16 = 0x200;
/// Get request flag: take an atomic snapshot of the table.
pub const NLM_F_ATOMIC: u16 = 0x400;
/// Get request flags for a dump: `NLM_F_ROOT | NLM_F_MATCH`.
pub const NLM_F_DUMP: u16 = NLM_F_ROOT | NLM_F_MATCH;

/// Acknowledgement flag: the echoed request was cut to its header.
///
/// It shares its bit with `NLM_F_ROOT`; the message type says which applies.
pub const NLM_F_CAPPED: u16 = 0x100;
/// Acknowledgement flag: extended acknowledgement attributes follow.
///
/// It shares its bit with `NLM_F_MATCH`; the message type says which applies.
pub const NLM_F_ACK_TLVS: u16 = 0x200;

/// Rounds `len` up to the next multiple of 4, as `NLMSG_ALIGN` does.
///
/// A length within 3 of `usize::MAX` rounds down to the last multiple of 4
/// instead of overflowing.
pub fn align(len: usize) -> usize {
    len.saturating_add(NLMSG_ALIGNTO - 1) & !(NLMSG_ALIGNTO - 1)
}

/// A netlink message header (`struct nlmsghdr`), in host byte order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Header {
    /// The length of the message in bytes, header included, padding not.
    pub length: u32,
    /// The message type: `NLMSG_*` or a family's own type.
    pub kind: u16,
    /// The `NLM_F_*` flags.
    pub flags: u16,
    /// The sequence number that pairs replies with their request.
    pub sequence: u32,
    /// The port ID of the sender; 0 when the kernel sent the message.
    pub pid: u32,
}

impl Header {
    /// Reads a header from the first 16 bytes of `buf`, in native byte
    /// order, as netlink uses host order.
    ///
    /// Returns `None` when `buf` holds fewer than 16 bytes.
    pub fn parse(buf: &[u8]) -> Option<Header> {
        let bytes: [u8; NLMSG_HDRLEN] =
            buf.get(..NLMSG_HDRLEN)?.try_into().ok()?;
        let [l0, l1, l2, l3, k0, k1, f0, f1, s0, s1, s2, s3, p0, p1, p2, p3] =
            bytes;

        Some(Header {
            length: u32::from_ne_bytes([l0, l1, l2, l3]),
            kind: u16::from_ne_bytes([k0, k1]),
            flags: u16::from_ne_bytes([f0, f1]),
            sequence: u32::from_ne_bytes([s0, s1, s2, s3]),
            pid: u32::from_ne_bytes([p0, p1, p2, p3]),
        })
    }

    /// Writes the header into the first 16 bytes of `out`, in native byte
    /// order.
    ///
    /// Returns `false`, leaving `out` untouched, when `out` holds fewer than
    /// 16 bytes.
    pub fn write(&self, out: &mut [u8]) -> bool {
        let Some(out) = out.get_mut(..NLMSG_HDRLEN) else {
            return false;
        };

        let bytes = self
            .length
            .to_ne_bytes()
            .into_iter()
            .chain(self.kind.to_ne_bytes())
            .chain(self.flags.to_ne_bytes())
            .chain(self.sequence.to_ne_bytes())
            .chain(self.pid.to_ne_bytes());
        for (slot, byte) in out.iter_mut().zip(bytes) {
            *slot = byte;
        }
        true
    }
}

/// Why the walk over a datagram's messages stopped before its end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameError {
    /// Fewer bytes than a header remain at `offset` (trailing garbage).
    Trailing {
        /// Where the leftover bytes start in the datagram.
        offset: usize,
        /// How many bytes are left, from 1 to 15.
        remaining: usize,
    },
    /// The header at `offset` claims a length under 16.
    ShortLength {
        /// Where the header starts in the datagram.
        offset: usize,
        /// The length the header claims.
        length: u32,
    },
    /// The header at `offset` claims more bytes than the datagram holds.
    PastEnd {
        /// Where the header starts in the datagram.
        offset: usize,
        /// The length the header claims.
        length: u32,
        /// How many bytes the datagram holds from `offset` on.
        remaining: usize,
    },
}

impl FrameError {
    /// Where the fault starts in the datagram.
    pub fn offset(&self) -> usize {
        match *self {
            FrameError::Trailing { offset, .. }
            | FrameError::ShortLength { offset, .. }
            | FrameError::PastEnd { offset, .. } => offset,
        }
    }
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            FrameError::Trailing { offset, remaining } => write!(
                f,
                "{remaining} trailing bytes at offset {offset} are too few \
                 for a message header"
            ),
            FrameError::ShortLength { offset, length } => write!(
                f,
                "message at offset {offset} has length {length}, under the \
                 {NLMSG_HDRLEN}-byte header"
            ),
            FrameError::PastEnd {
                offset,
                length,
                remaining,
            } => write!(
                f,
                "message at offset {offset} has length {length} but only \
                 {remaining} bytes remain"
            ),
        }
    }
}

impl std::error::Error for FrameError {}

/// One message found in a datagram.
#[derive(Clone, Copy, Debug)]
pub struct Frame<'a> {
    /// Where the message's header starts in the datagram.
    pub offset: usize,
    /// The message's header.
    pub header: Header,
    /// The bytes after the header, up to `header.length`; the alignment
    /// padding after the message is not included.
    pub payload: &'a [u8],
}

/// Iterator over the messages of one datagram.
///
/// It yields `Ok(Frame)` for each message, and at most one `Err(FrameError)`,
/// after which it yields `None`. Messages before the error are yielded
/// normally, so none is lost to a malformed one that follows.
#[derive(Clone, Debug)]
pub struct Frames<'a> {
    datagram: &'a [u8],
    offset: usize,
    failed: bool,
}

/// Walks the messages of `datagram`, as received from a netlink socket.
///
/// The last message may go without its alignment padding, as nfnetlink's
/// queue, log and conntrack messages do.
pub fn frames(datagram: &[u8]) -> Frames<'_> {
    Frames {
        datagram,
        offset: 0,
        failed: false,
    }
}

impl<'a> Frames<'a> {
    /// Ends the walk with `error`.
    fn fail(
        &mut self,
        error: FrameError,
    ) -> Option<Result<Frame<'a>, FrameError>> {
        self.failed = true;
        Some(Err(error))
    }
}

impl<'a> Iterator for Frames<'a> {
    type Item = Result<Frame<'a>, FrameError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }

        // The padding after an unpadded last message may take the offset
        // past the end: that ends the walk as cleanly as landing on it.
        let offset = self.offset;
        let rest = self.datagram.get(offset..).unwrap_or_default();
        if rest.is_empty() {
            return None;
        }

        let Some(header) = Header::parse(rest) else {
            return self.fail(FrameError::Trailing {
                offset,
                remaining: rest.len(),
            });
        };

        let length = usize::try_from(header.length).unwrap_or(usize::MAX);
        if length < NLMSG_HDRLEN {
            return self.fail(FrameError::ShortLength {
                offset,
                length: header.length,
            });
        }
        let Some(payload) = rest.get(NLMSG_HDRLEN..length) else {
            return self.fail(FrameError::PastEnd {
                offset,
                length: header.length,
                remaining: rest.len(),
            });
        };

        self.offset = offset.saturating_add(align(length));
        Some(Ok(Frame {
            offset,
            header,
            payload,
        }))
    }
}

impl FusedIterator for Frames<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the tests compare a yielded item by: offset, length, payload.
    type Item = Result<(usize, u32, Vec<u8>), FrameError>;

    /// Builds a message of type 0x10 carrying `payload`, without padding.
    fn message(payload: &[u8]) -> Vec<u8> {
        let length = NLMSG_HDRLEN + payload.len();
        let mut bytes = header_claiming(length as u32);
        bytes.extend_from_slice(payload);
        bytes
    }

    /// Builds a lone 16-byte header that claims `length`.
    fn header_claiming(length: u32) -> Vec<u8> {
        let header = Header {
            length,
            kind: 0x10,
            flags: NLM_F_MULTI,
            sequence: 1,
            pid: 0,
        };
        let mut bytes = vec![0; NLMSG_HDRLEN];
        assert!(header.write(&mut bytes));
        bytes
    }

    /// Pads `bytes` with zeroes to a multiple of 4.
    fn padded(mut bytes: Vec<u8>) -> Vec<u8> {
        bytes.resize(align(bytes.len()), 0);
        bytes
    }

    /// Collects the walk over `datagram` into comparable items.
    fn walk(datagram: &[u8]) -> Vec<Item> {
        frames(datagram)
            .map(|item| {
                item.map(|frame| {
                    (frame.offset, frame.header.length, frame.payload.to_vec())
                })
            })
            .collect()
    }

    fn ok(offset: usize, length: u32, payload: &[u8]) -> Item {
        Ok((offset, length, payload.to_vec()))
    }

    #[test]
    fn frames_walks_datagrams() {
        struct Case {
            name: &'static str,
            datagram: Vec<u8>,
            want: Vec<Item>,
        }

        let cases = [
            Case {
                name: "empty datagram has no messages",
                datagram: Vec::new(),
                want: vec![],
            },
            Case {
                name: "one message",
                datagram: message(b"abcd"),
                want: vec![ok(0, 20, b"abcd")],
            },
            Case {
                name: "several messages",
                datagram: [
                    padded(message(b"ab")),
                    message(b""),
                    message(b"wxyz"),
                ]
                .concat(),
                want: vec![
                    ok(0, 18, b"ab"),
                    ok(20, 16, b""),
                    ok(36, 20, b"wxyz"),
                ],
            },
            Case {
                name: "unpadded last message is accepted",
                datagram: [message(b"abcd"), message(b"abcde")].concat(),
                want: vec![ok(0, 20, b"abcd"), ok(20, 21, b"abcde")],
            },
            Case {
                name: "partial padding after the last message ends the walk",
                datagram: [message(b"abcde"), vec![0]].concat(),
                want: vec![ok(0, 21, b"abcde")],
            },
            Case {
                name: "unaligned length in the middle puts the next header \
                       at the aligned offset",
                datagram: [padded(message(b"abcde")), message(b"z")].concat(),
                want: vec![ok(0, 21, b"abcde"), ok(24, 17, b"z")],
            },
            Case {
                name: "length under the header size",
                datagram: [message(b"ok"), vec![0, 0], header_claiming(8)]
                    .concat(),
                want: vec![
                    ok(0, 18, b"ok"),
                    Err(FrameError::ShortLength {
                        offset: 20,
                        length: 8,
                    }),
                ],
            },
            Case {
                name: "length zero",
                datagram: header_claiming(0),
                want: vec![Err(FrameError::ShortLength {
                    offset: 0,
                    length: 0,
                })],
            },
            Case {
                name: "length past the end of the datagram",
                datagram: [message(b"abcd"), header_claiming(64)].concat(),
                want: vec![
                    ok(0, 20, b"abcd"),
                    Err(FrameError::PastEnd {
                        offset: 20,
                        length: 64,
                        remaining: 16,
                    }),
                ],
            },
            Case {
                name: "length of 0xffffffff",
                datagram: [header_claiming(u32::MAX), vec![0; 8]].concat(),
                want: vec![Err(FrameError::PastEnd {
                    offset: 0,
                    length: u32::MAX,
                    remaining: 24,
                })],
            },
            Case {
                name: "messages after an error are not read",
                datagram: [header_claiming(4), message(b"lost")].concat(),
                want: vec![Err(FrameError::ShortLength {
                    offset: 0,
                    length: 4,
                })],
            },
        ];

        for case in cases {
            assert_eq!(walk(&case.datagram), case.want, "{}", case.name);
        }
    }

    #[test]
    fn trailing_bytes_after_messages_are_one_error() {
        let valid = [message(b"abcd"), message(b"efgh")].concat();

        for remaining in 1..NLMSG_HDRLEN {
            let datagram = [valid.clone(), vec![0xaa; remaining]].concat();
            let want = vec![
                ok(0, 20, b"abcd"),
                ok(20, 20, b"efgh"),
                Err(FrameError::Trailing {
                    offset: 40,
                    remaining,
                }),
            ];
            assert_eq!(walk(&datagram), want, "{remaining} trailing bytes");
        }
    }

    #[test]
    fn iterator_yields_none_after_an_error() {
        let datagram = [message(b"abcd"), header_claiming(3)].concat();
        let mut walk = frames(&datagram);

        assert!(matches!(walk.next(), Some(Ok(_))));
        assert!(matches!(walk.next(), Some(Err(_))));
        for _ in 0..3 {
            assert!(walk.next().is_none());
        }
    }

    #[test]
    fn every_truncation_of_a_datagram_ends_cleanly() {
        let datagram = [
            padded(message(b"abcde")),
            padded(message(b"")),
            message(b"xyz"),
        ]
        .concat();

        for end in 0..=datagram.len() {
            let items = walk(&datagram[..end]);
            let errors = items.iter().filter(|item| item.is_err()).count();
            assert!(errors <= 1, "prefix of {end} bytes");
            if errors == 1 {
                assert!(
                    items.last().unwrap().is_err(),
                    "prefix of {end} bytes"
                );
            }
        }
    }

    #[test]
    fn header_write_then_parse_round_trips() {
        let header = Header {
            length: 0x0102_0304,
            kind: NLMSG_ERROR,
            flags: NLM_F_REQUEST | NLM_F_ACK | NLM_F_DUMP,
            sequence: 0xdead_beef,
            pid: 4242,
        };
        let mut bytes = [0xff; 20];

        assert!(header.write(&mut bytes));
        assert_eq!(Header::parse(&bytes), Some(header));
        assert_eq!(&bytes[16..], &[0xff; 4], "bytes past the header");
        assert_eq!(&bytes[..4], &0x0102_0304u32.to_ne_bytes());
    }

    #[test]
    fn header_needs_sixteen_bytes() {
        let header = Header {
            length: 16,
            kind: NLMSG_NOOP,
            flags: 0,
            sequence: 0,
            pid: 0,
        };
        let mut short = [0u8; 15];

        assert!(!header.write(&mut short));
        assert_eq!(short, [0; 15], "short buffer untouched");
        assert_eq!(Header::parse(&short), None);
        assert_eq!(Header::parse(&[]), None);
    }

    #[test]
    fn align_rounds_up_to_four() {
        let cases = [(0, 0), (1, 4), (3, 4), (4, 4), (16, 16), (21, 24)];

        for (len, want) in cases {
            assert_eq!(align(len), want, "align({len})");
        }
        assert_eq!(align(usize::MAX), usize::MAX & !3, "saturates");
    }

    #[test]
    fn frame_errors_read_as_sentences() {
        let cases = [
            (
                FrameError::Trailing {
                    offset: 40,
                    remaining: 3,
                },
                "3 trailing bytes at offset 40 are too few for a message \
                 header",
            ),
            (
                FrameError::ShortLength {
                    offset: 20,
                    length: 8,
                },
                "message at offset 20 has length 8, under the 16-byte header",
            ),
            (
                FrameError::PastEnd {
                    offset: 0,
                    length: 64,
                    remaining: 16,
                },
                "message at offset 0 has length 64 but only 16 bytes remain",
            ),
        ];

        for (error, want) in cases {
            assert_eq!(error.to_string(), want);
        }
    }
}
