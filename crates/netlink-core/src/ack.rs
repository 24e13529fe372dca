//! Acknowledgements and errors: decoding the payloads of `NLMSG_ERROR` and
//! `NLMSG_DONE` messages, with their extended acknowledgements.
//!
//! The decoding is tolerant: a malformed extended acknowledgement loses only
//! the attributes from the fault on, never the errno. Nothing panics, and
//! only the extended acknowledgement's message and cookie allocate.

use std::fmt;

use crate::message::{
    align, Header, NLMSG_HDRLEN, NLM_F_ACK_TLVS, NLM_F_CAPPED,
};

/// The size of the errno (`int error`) that opens both payloads.
const ERRNO_LEN: usize = 4;

/// The size of an attribute header (`struct nlattr`).
const NLA_HDRLEN: usize = 4;

/// Clears `NLA_F_NESTED` and `NLA_F_NET_BYTEORDER` from an attribute type.
const NLA_TYPE_MASK: u16 = 0x3fff;

// Extended acknowledgement attributes (`enum nlmsgerr_attrs`).
const NLMSGERR_ATTR_MSG: u16 = 1;
const NLMSGERR_ATTR_OFFS: u16 = 2;
const NLMSGERR_ATTR_COOKIE: u16 = 3;
const NLMSGERR_ATTR_POLICY: u16 = 4;
const NLMSGERR_ATTR_MISS_TYPE: u16 = 5;
const NLMSGERR_ATTR_MISS_NEST: u16 = 6;

// Policy attributes (`enum netlink_policy_type_attr`).
const NL_POLICY_TYPE_ATTR_TYPE: u16 = 1;
const NL_POLICY_TYPE_ATTR_MIN_VALUE_S: u16 = 2;
const NL_POLICY_TYPE_ATTR_MAX_VALUE_S: u16 = 3;
const NL_POLICY_TYPE_ATTR_MIN_VALUE_U: u16 = 4;
const NL_POLICY_TYPE_ATTR_MAX_VALUE_U: u16 = 5;
const NL_POLICY_TYPE_ATTR_MIN_LENGTH: u16 = 6;
const NL_POLICY_TYPE_ATTR_MAX_LENGTH: u16 = 7;
const NL_POLICY_TYPE_ATTR_POLICY_IDX: u16 = 8;
const NL_POLICY_TYPE_ATTR_POLICY_MAXTYPE: u16 = 9;
const NL_POLICY_TYPE_ATTR_BITFIELD32_MASK: u16 = 10;
const NL_POLICY_TYPE_ATTR_MASK: u16 = 12;

/// The policy of the attribute a request was rejected for
/// (`NLMSGERR_ATTR_POLICY`).
///
/// Each field is `None` when the kernel did not send it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Policy {
    /// The attribute's type, an `enum netlink_attribute_type` value
    /// (`NL_POLICY_TYPE_ATTR_TYPE`).
    pub kind: Option<u32>,
    /// The smallest signed value allowed (`NL_POLICY_TYPE_ATTR_MIN_VALUE_S`).
    pub min_value_signed: Option<i64>,
    /// The largest signed value allowed (`NL_POLICY_TYPE_ATTR_MAX_VALUE_S`).
    pub max_value_signed: Option<i64>,
    /// The smallest unsigned value allowed
    /// (`NL_POLICY_TYPE_ATTR_MIN_VALUE_U`).
    pub min_value_unsigned: Option<u64>,
    /// The largest unsigned value allowed (`NL_POLICY_TYPE_ATTR_MAX_VALUE_U`).
    pub max_value_unsigned: Option<u64>,
    /// The shortest length allowed (`NL_POLICY_TYPE_ATTR_MIN_LENGTH`).
    pub min_length: Option<u32>,
    /// The longest length allowed (`NL_POLICY_TYPE_ATTR_MAX_LENGTH`).
    pub max_length: Option<u32>,
    /// The index of the nested policy (`NL_POLICY_TYPE_ATTR_POLICY_IDX`).
    pub policy_index: Option<u32>,
    /// The largest attribute type of the nested policy
    /// (`NL_POLICY_TYPE_ATTR_POLICY_MAXTYPE`).
    pub policy_max_type: Option<u32>,
    /// The bits a bitfield32 may set
    /// (`NL_POLICY_TYPE_ATTR_BITFIELD32_MASK`).
    pub bitfield32_mask: Option<u32>,
    /// The bits an integer may set (`NL_POLICY_TYPE_ATTR_MASK`).
    pub mask: Option<u64>,
}

/// An extended acknowledgement: the details the kernel adds to an error or
/// an acknowledgement when the socket has `NETLINK_EXT_ACK` on.
///
/// Each field is `None` when the kernel did not send it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExtAck {
    /// A human-readable explanation (`NLMSGERR_ATTR_MSG`).
    pub message: Option<String>,
    /// The byte offset in the request of the attribute at fault, counted
    /// from the start of the request's header (`NLMSGERR_ATTR_OFFS`).
    pub offset: Option<u32>,
    /// Opaque data for the requester (`NLMSGERR_ATTR_COOKIE`).
    pub cookie: Option<Vec<u8>>,
    /// The policy of the attribute at fault (`NLMSGERR_ATTR_POLICY`).
    pub policy: Option<Policy>,
    /// The type of an attribute the request lacks
    /// (`NLMSGERR_ATTR_MISS_TYPE`).
    pub missing_type: Option<u32>,
    /// The offset of the nest that lacks `missing_type`
    /// (`NLMSGERR_ATTR_MISS_NEST`).
    pub missing_nest: Option<u32>,
}

impl ExtAck {
    /// Reports whether the extended acknowledgement carries nothing.
    pub fn is_empty(&self) -> bool {
        self.message.is_none()
            && self.offset.is_none()
            && self.cookie.is_none()
            && self.policy.is_none()
            && self.missing_type.is_none()
            && self.missing_nest.is_none()
    }
}

/// The outcome the kernel reported for a request or a dump.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ack {
    /// The errno as a positive number; 0 for success.
    ///
    /// The kernel sends it negative. A positive value, which only a
    /// userspace peer could send, is kept as it is.
    pub errno: i32,
    /// The echoed request header (`NLMSG_ERROR` messages only).
    pub request: Option<Header>,
    /// The extended acknowledgement; empty when none was sent.
    pub ext: ExtAck,
}

/// Why an `NLMSG_ERROR` payload could not be decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AckError {
    /// An ERROR payload shorter than errno + echoed header (20 bytes).
    Short {
        /// The length of the payload.
        length: usize,
    },
}

impl fmt::Display for AckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            AckError::Short { length } => write!(
                f,
                "error message payload of {length} bytes is shorter than \
                 the {} bytes of errno and echoed header",
                ERRNO_LEN + NLMSG_HDRLEN
            ),
        }
    }
}

impl std::error::Error for AckError {}

/// Parses the payload of an `NLMSG_ERROR` message whose header is `header`.
///
/// The payload is a `struct nlmsgerr`: the errno, then the echoed request,
/// cut to its header when `header` has `NLM_F_CAPPED`. When `header` has
/// `NLM_F_ACK_TLVS`, extended acknowledgement attributes follow.
///
/// # Errors
///
/// [`AckError::Short`] when the payload cannot hold the errno and the
/// echoed header. A malformed extended acknowledgement is no error: the
/// attributes decoded before the fault are kept.
pub fn parse_error(header: &Header, payload: &[u8]) -> Result<Ack, AckError> {
    let short = AckError::Short {
        length: payload.len(),
    };
    let error = read_errno(payload).ok_or(short)?;
    let request = payload
        .get(ERRNO_LEN..)
        .and_then(Header::parse)
        .ok_or(short)?;

    let mut ext = ExtAck::default();
    if header.flags & NLM_F_ACK_TLVS != 0 {
        let start = attributes_start(header, &request, payload.len());
        if let Some(attributes) = start.and_then(|at| payload.get(at..)) {
            ext = parse_ext_ack(attributes);
        }
    }

    Ok(Ack {
        errno: positive(error),
        request: Some(request),
        ext,
    })
}

/// Parses the payload of an `NLMSG_DONE` message (never fails: an empty or
/// short payload means errno 0 with no ext ack; a payload of 1-3 bytes
/// likewise).
///
/// A full payload opens with the dump's errno; when `header` has
/// `NLM_F_ACK_TLVS`, extended acknowledgement attributes follow it directly.
pub fn parse_done(header: &Header, payload: &[u8]) -> Ack {
    let Some(error) = read_errno(payload) else {
        return Ack {
            errno: 0,
            request: None,
            ext: ExtAck::default(),
        };
    };

    let mut ext = ExtAck::default();
    if header.flags & NLM_F_ACK_TLVS != 0 {
        ext = parse_ext_ack(payload.get(ERRNO_LEN..).unwrap_or_default());
    }

    Ack {
        errno: positive(error),
        request: None,
        ext,
    }
}

/// Finds where the extended acknowledgement starts in an ERROR payload of
/// `payload_len` bytes, or `None` when the echoed request's length cannot
/// be trusted.
fn attributes_start(
    header: &Header,
    request: &Header,
    payload_len: usize,
) -> Option<usize> {
    if header.flags & NLM_F_CAPPED != 0 {
        return Some(ERRNO_LEN + NLMSG_HDRLEN);
    }

    // An uncapped request is echoed whole and padded, so its length must
    // cover its header and fit in the payload; otherwise the bytes after
    // it are not attributes.
    let echoed = usize::try_from(request.length).ok()?;
    let end = ERRNO_LEN.checked_add(echoed)?;
    if echoed < NLMSG_HDRLEN || end > payload_len {
        return None;
    }
    Some(align(end))
}

/// Decodes the extended acknowledgement attributes in `buf`.
fn parse_ext_ack(buf: &[u8]) -> ExtAck {
    let mut ext = ExtAck::default();

    for (kind, value) in attributes(buf) {
        match kind {
            NLMSGERR_ATTR_MSG => ext.message = Some(string(value)),
            NLMSGERR_ATTR_OFFS => store(&mut ext.offset, u32_value(value)),
            NLMSGERR_ATTR_COOKIE => ext.cookie = Some(value.to_vec()),
            NLMSGERR_ATTR_POLICY => ext.policy = Some(parse_policy(value)),
            NLMSGERR_ATTR_MISS_TYPE => {
                store(&mut ext.missing_type, u32_value(value));
            }
            NLMSGERR_ATTR_MISS_NEST => {
                store(&mut ext.missing_nest, u32_value(value));
            }
            _ => {}
        }
    }
    ext
}

/// Decodes the policy attributes nested in `buf`.
fn parse_policy(buf: &[u8]) -> Policy {
    let mut p = Policy::default();

    for (kind, value) in attributes(buf) {
        let (v32, v64, s64) =
            (u32_value(value), u64_value(value), i64_value(value));
        match kind {
            NL_POLICY_TYPE_ATTR_TYPE => store(&mut p.kind, v32),
            NL_POLICY_TYPE_ATTR_MIN_VALUE_S => {
                store(&mut p.min_value_signed, s64);
            }
            NL_POLICY_TYPE_ATTR_MAX_VALUE_S => {
                store(&mut p.max_value_signed, s64);
            }
            NL_POLICY_TYPE_ATTR_MIN_VALUE_U => {
                store(&mut p.min_value_unsigned, v64);
            }
            NL_POLICY_TYPE_ATTR_MAX_VALUE_U => {
                store(&mut p.max_value_unsigned, v64);
            }
            NL_POLICY_TYPE_ATTR_MIN_LENGTH => store(&mut p.min_length, v32),
            NL_POLICY_TYPE_ATTR_MAX_LENGTH => store(&mut p.max_length, v32),
            NL_POLICY_TYPE_ATTR_POLICY_IDX => store(&mut p.policy_index, v32),
            NL_POLICY_TYPE_ATTR_POLICY_MAXTYPE => {
                store(&mut p.policy_max_type, v32);
            }
            NL_POLICY_TYPE_ATTR_BITFIELD32_MASK => {
                store(&mut p.bitfield32_mask, v32);
            }
            NL_POLICY_TYPE_ATTR_MASK => store(&mut p.mask, v64),
            _ => {}
        }
    }
    p
}

/// Stores `value` in `field` unless it is `None`, so that an integer
/// attribute of the wrong size leaves the field as it was.
fn store<T>(field: &mut Option<T>, value: Option<T>) {
    if value.is_some() {
        *field = value;
    }
}

/// Walks the attributes in `buf`, yielding each one's masked type and
/// value, and stops quietly at the first malformed attribute.
fn attributes(buf: &[u8]) -> Attributes<'_> {
    Attributes { rest: buf }
}

/// Iterator behind [`attributes`].
struct Attributes<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Attributes<'a> {
    type Item = (u16, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        let rest = std::mem::take(&mut self.rest);
        let [l0, l1, t0, t1] = fixed(rest.get(..NLA_HDRLEN)?)?;
        let length = usize::from(u16::from_ne_bytes([l0, l1]));
        let kind = u16::from_ne_bytes([t0, t1]) & NLA_TYPE_MASK;

        // A length under the attribute header or past the end leaves
        // `rest` empty, which ends the walk.
        if length < NLA_HDRLEN {
            return None;
        }
        let value = rest.get(NLA_HDRLEN..length)?;

        // The last attribute may go without its padding.
        self.rest = rest.get(align(length)..).unwrap_or_default();
        Some((kind, value))
    }
}

/// Reads the errno that opens an ERROR or DONE payload.
fn read_errno(payload: &[u8]) -> Option<i32> {
    fixed(payload.get(..ERRNO_LEN)?).map(i32::from_ne_bytes)
}

/// Turns the kernel's negative errno into a positive one.
fn positive(error: i32) -> i32 {
    error.saturating_abs()
}

/// Decodes a string attribute: lossy UTF-8, up to the first NUL if any.
fn string(value: &[u8]) -> String {
    let text = value.split(|&b| b == 0).next().unwrap_or_default();
    String::from_utf8_lossy(text).into_owned()
}

/// Views `value` as an array of exactly `N` bytes.
fn fixed<const N: usize>(value: &[u8]) -> Option<[u8; N]> {
    value.try_into().ok()
}

/// Decodes a u32 attribute, or `None` when it is not 4 bytes.
fn u32_value(value: &[u8]) -> Option<u32> {
    fixed(value).map(u32::from_ne_bytes)
}

/// Decodes a u64 attribute, or `None` when it is not 8 bytes.
fn u64_value(value: &[u8]) -> Option<u64> {
    fixed(value).map(u64::from_ne_bytes)
}

/// Decodes an s64 attribute, or `None` when it is not 8 bytes.
fn i64_value(value: &[u8]) -> Option<i64> {
    fixed(value).map(i64::from_ne_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::{
        NLMSG_DONE, NLMSG_ERROR, NLM_F_ACK, NLM_F_MULTI, NLM_F_REQUEST,
    };

    /// `NLA_F_NESTED`, set by the kernel on `NLMSGERR_ATTR_POLICY`.
    const NLA_F_NESTED: u16 = 0x8000;

    /// A request header of `length` bytes, as the kernel echoes it.
    fn request(length: u32) -> Header {
        Header {
            length,
            kind: 16,
            flags: NLM_F_REQUEST | NLM_F_ACK,
            sequence: 7,
            pid: 1234,
        }
    }

    /// The header of an ERROR or DONE message with `flags`.
    fn reply(kind: u16, flags: u16) -> Header {
        Header {
            length: 0,
            kind,
            flags,
            sequence: 7,
            pid: 0,
        }
    }

    /// Builds an attribute, padded to 4 bytes.
    fn attr(kind: u16, value: &[u8]) -> Vec<u8> {
        let length = (NLA_HDRLEN + value.len()) as u16;
        let mut bytes = [length.to_ne_bytes(), kind.to_ne_bytes()].concat();
        bytes.extend_from_slice(value);
        bytes.resize(align(bytes.len()), 0);
        bytes
    }

    /// Builds an ERROR payload: errno, echoed header, echoed body padded to
    /// 4 bytes, then `tail`.
    fn error_payload(
        error: i32,
        request: Header,
        body: &[u8],
        tail: &[u8],
    ) -> Vec<u8> {
        let mut bytes = error.to_ne_bytes().to_vec();
        let mut echoed = [0u8; NLMSG_HDRLEN];
        assert!(request.write(&mut echoed));
        bytes.extend_from_slice(&echoed);
        bytes.extend_from_slice(body);
        bytes.resize(align(bytes.len()), 0);
        bytes.extend_from_slice(tail);
        bytes
    }

    /// Builds a DONE payload: errno, then `tail`.
    fn done_payload(error: i32, tail: &[u8]) -> Vec<u8> {
        [&error.to_ne_bytes()[..], tail].concat()
    }

    fn ack(errno: i32, request: Option<Header>, ext: ExtAck) -> Ack {
        Ack {
            errno,
            request,
            ext,
        }
    }

    fn message(text: &str) -> ExtAck {
        ExtAck {
            message: Some(text.to_owned()),
            ..ExtAck::default()
        }
    }

    struct Case {
        name: &'static str,
        flags: u16,
        payload: Vec<u8>,
        want: Ack,
    }

    #[test]
    fn parse_error_decodes_errors_and_acknowledgements() {
        let body = [0xab; 8];
        let tlvs = NLM_F_ACK_TLVS;
        let capped = NLM_F_CAPPED | NLM_F_ACK_TLVS;
        let offs = 20u32.to_ne_bytes();

        let policy = [
            attr(NL_POLICY_TYPE_ATTR_TYPE, &3u32.to_ne_bytes()),
            attr(NL_POLICY_TYPE_ATTR_MIN_VALUE_S, &(-5i64).to_ne_bytes()),
            attr(NL_POLICY_TYPE_ATTR_MAX_VALUE_S, &9i64.to_ne_bytes()),
            attr(11, &[0; 4]),
            attr(NL_POLICY_TYPE_ATTR_MIN_VALUE_U, &1u64.to_ne_bytes()),
            attr(NL_POLICY_TYPE_ATTR_MAX_VALUE_U, &u64::MAX.to_ne_bytes()),
            attr(NL_POLICY_TYPE_ATTR_MIN_LENGTH, &2u32.to_ne_bytes()),
            attr(NL_POLICY_TYPE_ATTR_MAX_LENGTH, &64u32.to_ne_bytes()),
            attr(NL_POLICY_TYPE_ATTR_POLICY_IDX, &4u32.to_ne_bytes()),
            attr(NL_POLICY_TYPE_ATTR_POLICY_MAXTYPE, &30u32.to_ne_bytes()),
            attr(NL_POLICY_TYPE_ATTR_BITFIELD32_MASK, &0xfu32.to_ne_bytes()),
            attr(NL_POLICY_TYPE_ATTR_MASK, &0xf0u64.to_ne_bytes()),
        ]
        .concat();
        let full_policy = Policy {
            kind: Some(3),
            min_value_signed: Some(-5),
            max_value_signed: Some(9),
            min_value_unsigned: Some(1),
            max_value_unsigned: Some(u64::MAX),
            min_length: Some(2),
            max_length: Some(64),
            policy_index: Some(4),
            policy_max_type: Some(30),
            bitfield32_mask: Some(0xf),
            mask: Some(0xf0),
        };

        let cases = [
            Case {
                name: "acknowledgement echoes the request with its payload",
                flags: 0,
                payload: error_payload(0, request(24), &body, &[]),
                want: ack(0, Some(request(24)), ExtAck::default()),
            },
            Case {
                name: "error with message and offset after the full request",
                flags: tlvs,
                payload: error_payload(
                    -libc::EINVAL,
                    request(24),
                    &body,
                    &[
                        attr(NLMSGERR_ATTR_MSG, b"bad thing\0"),
                        attr(NLMSGERR_ATTR_OFFS, &offs),
                    ]
                    .concat(),
                ),
                want: ack(
                    libc::EINVAL,
                    Some(request(24)),
                    ExtAck {
                        offset: Some(20),
                        ..message("bad thing")
                    },
                ),
            },
            Case {
                name: "unaligned echoed request is padded before attributes",
                flags: tlvs,
                payload: error_payload(
                    -libc::EINVAL,
                    request(21),
                    b"abcde",
                    &attr(NLMSGERR_ATTR_MSG, b"padded\0"),
                ),
                want: ack(libc::EINVAL, Some(request(21)), message("padded")),
            },
            Case {
                name: "capped acknowledgement has attributes after the echoed \
                       header",
                flags: capped,
                payload: error_payload(
                    -libc::ERANGE,
                    request(64),
                    &[],
                    &attr(NLMSGERR_ATTR_MSG, b"capped\0"),
                ),
                want: ack(libc::ERANGE, Some(request(64)), message("capped")),
            },
            Case {
                name: "capped acknowledgement without attributes",
                flags: NLM_F_CAPPED,
                payload: error_payload(0, request(64), &[], &[]),
                want: ack(0, Some(request(64)), ExtAck::default()),
            },
            Case {
                name: "missing attribute type and nest",
                flags: capped,
                payload: error_payload(
                    -libc::EINVAL,
                    request(32),
                    &[],
                    &[
                        attr(NLMSGERR_ATTR_MISS_TYPE, &3u32.to_ne_bytes()),
                        attr(NLMSGERR_ATTR_MISS_NEST, &24u32.to_ne_bytes()),
                    ]
                    .concat(),
                ),
                want: ack(
                    libc::EINVAL,
                    Some(request(32)),
                    ExtAck {
                        missing_type: Some(3),
                        missing_nest: Some(24),
                        ..ExtAck::default()
                    },
                ),
            },
            Case {
                name: "policy nest of the attribute at fault",
                flags: capped,
                payload: error_payload(
                    -libc::ERANGE,
                    request(32),
                    &[],
                    &[
                        attr(NLMSGERR_ATTR_OFFS, &offs),
                        attr(NLMSGERR_ATTR_POLICY | NLA_F_NESTED, &policy),
                    ]
                    .concat(),
                ),
                want: ack(
                    libc::ERANGE,
                    Some(request(32)),
                    ExtAck {
                        offset: Some(20),
                        policy: Some(full_policy),
                        ..ExtAck::default()
                    },
                ),
            },
            Case {
                name: "cookie",
                flags: capped,
                payload: error_payload(
                    0,
                    request(20),
                    &[],
                    &attr(NLMSGERR_ATTR_COOKIE, &[1, 2, 3, 4, 5]),
                ),
                want: ack(
                    0,
                    Some(request(20)),
                    ExtAck {
                        cookie: Some(vec![1, 2, 3, 4, 5]),
                        ..ExtAck::default()
                    },
                ),
            },
            Case {
                name: "unknown attribute is skipped",
                flags: capped,
                payload: error_payload(
                    -libc::EINVAL,
                    request(20),
                    &[],
                    &[
                        attr(NLMSGERR_ATTR_MSG, b"known\0"),
                        attr(99, b"whatever"),
                        attr(NLMSGERR_ATTR_OFFS, &offs),
                    ]
                    .concat(),
                ),
                want: ack(
                    libc::EINVAL,
                    Some(request(20)),
                    ExtAck {
                        offset: Some(20),
                        ..message("known")
                    },
                ),
            },
            Case {
                name: "attribute type flags are masked",
                flags: capped,
                payload: error_payload(
                    -libc::EINVAL,
                    request(20),
                    &[],
                    &attr(
                        NLMSGERR_ATTR_MISS_TYPE | 0x4000,
                        &8u32.to_ne_bytes(),
                    ),
                ),
                want: ack(
                    libc::EINVAL,
                    Some(request(20)),
                    ExtAck {
                        missing_type: Some(8),
                        ..ExtAck::default()
                    },
                ),
            },
            Case {
                name: "attribute length under its header keeps earlier ones",
                flags: capped,
                payload: error_payload(
                    -libc::EINVAL,
                    request(20),
                    &[],
                    &[
                        attr(NLMSGERR_ATTR_MSG, b"kept\0"),
                        vec![2, 0, 2, 0],
                        attr(NLMSGERR_ATTR_OFFS, &offs),
                    ]
                    .concat(),
                ),
                want: ack(libc::EINVAL, Some(request(20)), message("kept")),
            },
            Case {
                name: "attribute past the end keeps earlier ones",
                flags: capped,
                payload: error_payload(
                    -libc::EINVAL,
                    request(20),
                    &[],
                    &[
                        attr(NLMSGERR_ATTR_MSG, b"kept\0"),
                        attr(NLMSGERR_ATTR_OFFS, &offs)[..6].to_vec(),
                    ]
                    .concat(),
                ),
                want: ack(libc::EINVAL, Some(request(20)), message("kept")),
            },
            Case {
                name: "integer of the wrong size is ignored",
                flags: capped,
                payload: error_payload(
                    -libc::EINVAL,
                    request(20),
                    &[],
                    &[
                        attr(NLMSGERR_ATTR_OFFS, &[1, 2]),
                        attr(NLMSGERR_ATTR_MISS_TYPE, &[0; 8]),
                        attr(NLMSGERR_ATTR_MSG, b"sized\0"),
                    ]
                    .concat(),
                ),
                want: ack(libc::EINVAL, Some(request(20)), message("sized")),
            },
            Case {
                name: "message without a NUL",
                flags: capped,
                payload: error_payload(
                    -libc::EINVAL,
                    request(20),
                    &[],
                    &attr(NLMSGERR_ATTR_MSG, b"no terminator"),
                ),
                want: ack(
                    libc::EINVAL,
                    Some(request(20)),
                    message("no terminator"),
                ),
            },
            Case {
                name: "message ends at the first NUL",
                flags: capped,
                payload: error_payload(
                    -libc::EINVAL,
                    request(20),
                    &[],
                    &attr(NLMSGERR_ATTR_MSG, b"first\0second\0"),
                ),
                want: ack(libc::EINVAL, Some(request(20)), message("first")),
            },
            Case {
                name: "message of invalid UTF-8 is decoded lossily",
                flags: capped,
                payload: error_payload(
                    -libc::EINVAL,
                    request(20),
                    &[],
                    &attr(NLMSGERR_ATTR_MSG, b"a\xffb\0"),
                ),
                want: ack(
                    libc::EINVAL,
                    Some(request(20)),
                    message("a\u{fffd}b"),
                ),
            },
            Case {
                name: "echoed length past the end looks for no attributes",
                flags: tlvs,
                payload: error_payload(
                    -libc::EPERM,
                    request(200),
                    &body,
                    &attr(NLMSGERR_ATTR_MSG, b"garbage\0"),
                ),
                want: ack(libc::EPERM, Some(request(200)), ExtAck::default()),
            },
            Case {
                name: "echoed length under the header size looks for no \
                       attributes",
                flags: tlvs,
                payload: error_payload(
                    -libc::EPERM,
                    request(4),
                    &[],
                    &attr(NLMSGERR_ATTR_MSG, b"garbage\0"),
                ),
                want: ack(libc::EPERM, Some(request(4)), ExtAck::default()),
            },
            Case {
                name: "attributes without NLM_F_ACK_TLVS are ignored",
                flags: NLM_F_CAPPED,
                payload: error_payload(
                    -libc::EINVAL,
                    request(20),
                    &[],
                    &attr(NLMSGERR_ATTR_MSG, b"unflagged\0"),
                ),
                want: ack(libc::EINVAL, Some(request(20)), ExtAck::default()),
            },
            Case {
                name: "positive errno from a peer is kept",
                flags: 0,
                payload: error_payload(libc::EIO, request(16), &[], &[]),
                want: ack(libc::EIO, Some(request(16)), ExtAck::default()),
            },
            Case {
                name: "most negative errno saturates",
                flags: 0,
                payload: error_payload(i32::MIN, request(16), &[], &[]),
                want: ack(i32::MAX, Some(request(16)), ExtAck::default()),
            },
        ];

        for case in cases {
            let header = reply(NLMSG_ERROR, case.flags);
            let got = parse_error(&header, &case.payload);
            assert_eq!(got, Ok(case.want), "{}", case.name);
        }
    }

    #[test]
    fn parse_error_rejects_payloads_under_twenty_bytes() {
        let full = error_payload(-libc::EINVAL, request(16), &[], &[]);
        let header = reply(NLMSG_ERROR, NLM_F_ACK_TLVS);

        for length in 0..full.len() {
            let got = parse_error(&header, &full[..length]);
            assert_eq!(got, Err(AckError::Short { length }), "{length} bytes");
        }
        assert!(parse_error(&header, &full).is_ok());
    }

    #[test]
    fn parse_done_decodes_the_dump_outcome() {
        let cases = [
            Case {
                name: "empty payload is success",
                flags: NLM_F_MULTI,
                payload: Vec::new(),
                want: ack(0, None, ExtAck::default()),
            },
            Case {
                name: "payload under four bytes is success",
                flags: NLM_F_MULTI | NLM_F_ACK_TLVS,
                payload: vec![0xff; 3],
                want: ack(0, None, ExtAck::default()),
            },
            Case {
                name: "errno 0",
                flags: NLM_F_MULTI,
                payload: done_payload(0, &[]),
                want: ack(0, None, ExtAck::default()),
            },
            Case {
                name: "errno without attributes",
                flags: NLM_F_MULTI,
                payload: done_payload(-libc::ENOBUFS, &[]),
                want: ack(libc::ENOBUFS, None, ExtAck::default()),
            },
            Case {
                name: "errno with an extended acknowledgement message",
                flags: NLM_F_MULTI | NLM_F_ACK_TLVS,
                payload: done_payload(
                    -libc::ENOBUFS,
                    &attr(NLMSGERR_ATTR_MSG, b"dump failed\0"),
                ),
                want: ack(libc::ENOBUFS, None, message("dump failed")),
            },
            Case {
                name: "success with an extended acknowledgement message",
                flags: NLM_F_MULTI | NLM_F_ACK_TLVS,
                payload: done_payload(0, &attr(NLMSGERR_ATTR_MSG, b"note\0")),
                want: ack(0, None, message("note")),
            },
            Case {
                name: "attributes without NLM_F_ACK_TLVS are ignored",
                flags: NLM_F_MULTI,
                payload: done_payload(
                    -libc::EINVAL,
                    &attr(NLMSGERR_ATTR_MSG, b"unflagged\0"),
                ),
                want: ack(libc::EINVAL, None, ExtAck::default()),
            },
            Case {
                name: "NLM_F_ACK_TLVS with a malformed region",
                flags: NLM_F_MULTI | NLM_F_ACK_TLVS,
                payload: done_payload(-libc::EINVAL, &[8, 0]),
                want: ack(libc::EINVAL, None, ExtAck::default()),
            },
        ];

        for case in cases {
            let header = reply(NLMSG_DONE, case.flags);
            let got = parse_done(&header, &case.payload);
            assert_eq!(got, case.want, "{}", case.name);
        }
    }

    #[test]
    fn ext_ack_is_empty_only_without_fields() {
        assert!(ExtAck::default().is_empty());
        assert!(!message("x").is_empty());
        assert!(!ExtAck {
            policy: Some(Policy::default()),
            ..ExtAck::default()
        }
        .is_empty());
    }

    #[test]
    fn truncated_payloads_never_panic() {
        let payload = error_payload(
            -libc::EINVAL,
            request(24),
            &[0; 8],
            &[
                attr(NLMSGERR_ATTR_MSG, b"long enough message\0"),
                attr(NLMSGERR_ATTR_POLICY, &attr(1, &[0; 4])),
            ]
            .concat(),
        );

        for flags in [0, NLM_F_ACK_TLVS, NLM_F_CAPPED | NLM_F_ACK_TLVS] {
            for end in 0..=payload.len() {
                let header = reply(NLMSG_ERROR, flags);
                let _ = parse_error(&header, &payload[..end]);
                let _ = parse_done(&header, &payload[..end]);
            }
        }
    }

    #[test]
    fn ack_error_reads_as_a_sentence() {
        let error = AckError::Short { length: 7 };

        assert_eq!(
            error.to_string(),
            "error message payload of 7 bytes is shorter than the 20 bytes \
             of errno and echoed header"
        );
    }
}
