//! Requests queued for the I/O thread to send, and the error replies that
//! stand in for the kernel's when a queued send fails.
//!
//! A request made while others are in flight is handed to the I/O thread
//! rather than sent on the caller's thread: the kernel answers inside
//! `sendmsg`, so whoever sends does the kernel's work, and the I/O thread
//! doing it leaves the caller's thread free to route the replies.

use crate::message::{align, frames, Header, NLMSG_ERROR, NLMSG_HDRLEN};

/// `NLM_F_CAPPED`: an error reply holds the request's header only.
const NLM_F_CAPPED: u16 = 0x100;

/// Bytes of an error reply carrying the request's header: a header, the
/// errno, and the request's header.
pub const FAILURE_LEN: usize = NLMSG_HDRLEN + 4 + NLMSG_HDRLEN;

/// Datagrams waiting for the I/O thread, in the order they were queued.
#[derive(Debug, Default)]
pub struct Outbox {
    bytes: Vec<u8>,
    ends: Vec<usize>,
    sending: bool,
}

/// What the I/O thread took from an outbox to send.
#[derive(Debug, Default)]
pub struct Queued {
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

impl Outbox {
    /// Whether nothing is queued or being sent: a datagram sent now by the
    /// caller goes out after everything queued before it.
    pub fn is_idle(&self) -> bool {
        self.ends.is_empty() && !self.sending
    }

    /// Queues `datagram`. True when the outbox was idle, so that the I/O
    /// thread has to be told; otherwise it is already at work on it.
    pub fn push(&mut self, datagram: &[u8]) -> bool {
        let idle = self.is_idle();
        self.bytes.extend_from_slice(datagram);
        self.ends.push(self.bytes.len());
        idle
    }

    /// Takes what is queued and marks the outbox as sending, or, when
    /// nothing is queued, marks it idle and returns `None`.
    pub fn take(&mut self) -> Option<Queued> {
        if self.ends.is_empty() {
            self.sending = false;
            return None;
        }
        self.sending = true;
        Some(Queued {
            bytes: std::mem::take(&mut self.bytes),
            ends: std::mem::take(&mut self.ends),
        })
    }

    /// Drops whatever is queued (the socket closed).
    pub fn clear(&mut self) {
        *self = Outbox::default();
    }
}

impl Queued {
    /// The datagrams, in order.
    pub fn datagrams(&self) -> impl Iterator<Item = &[u8]> {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts
            .zip(&self.ends)
            .map(|(start, &end)| &self.bytes[start..end])
    }
}

/// The headers of the messages in `datagram`, for the error replies a
/// failed send stands in for.
pub fn request_headers(datagram: &[u8]) -> Vec<Header> {
    frames(datagram)
        .filter_map(|frame| frame.ok())
        .map(|frame| frame.header)
        .collect()
}

/// Writes at the start of `out` the error reply the kernel would send
/// for `request` failing with `errno`; returns its length, or `None`
/// when `out` is too short.
pub fn write_failure(
    out: &mut [u8],
    request: &Header,
    errno: i32,
) -> Option<usize> {
    let out = out.get_mut(..align(FAILURE_LEN))?;
    out.fill(0);

    let reply = Header {
        length: FAILURE_LEN as u32,
        kind: NLMSG_ERROR,
        flags: NLM_F_CAPPED,
        sequence: request.sequence,
        pid: request.pid,
    };
    reply.write(out);
    out[NLMSG_HDRLEN..NLMSG_HDRLEN + 4]
        .copy_from_slice(&(-errno).to_ne_bytes());
    let echoed = Header {
        length: NLMSG_HDRLEN as u32,
        ..*request
    };
    echoed.write(&mut out[NLMSG_HDRLEN + 4..]);
    Some(FAILURE_LEN)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::NLM_F_REQUEST;

    fn request(sequence: u32) -> Vec<u8> {
        let mut bytes = vec![0u8; 20];
        Header {
            length: 20,
            kind: 18,
            flags: NLM_F_REQUEST,
            sequence,
            pid: 77,
        }
        .write(&mut bytes);
        bytes
    }

    #[test]
    fn datagrams_come_out_in_the_order_they_were_queued() {
        let mut outbox = Outbox::default();
        assert!(outbox.push(&request(1)));
        assert!(!outbox.push(&request(2)));
        assert!(!outbox.is_idle());

        let queued = outbox.take().unwrap();
        let sequences: Vec<u32> = queued
            .datagrams()
            .map(|d| Header::parse(d).unwrap().sequence)
            .collect();
        assert_eq!(sequences, [1, 2]);
        assert!(!outbox.is_idle(), "sending until taken again");
    }

    #[test]
    fn a_push_while_sending_needs_no_new_wakeup() {
        let mut outbox = Outbox::default();
        outbox.push(&request(1));
        let _ = outbox.take();
        assert!(!outbox.push(&request(2)));
        assert!(outbox.take().is_some());
        assert!(outbox.take().is_none());
        assert!(outbox.is_idle());
    }

    #[test]
    fn a_failure_reads_as_the_kernel_error_reply() {
        let sent = Header::parse(&request(9)).unwrap();
        let mut out = [0xffu8; 64];
        let len = write_failure(&mut out, &sent, libc::EMSGSIZE).unwrap();

        let frame = frames(&out[..len]).next().unwrap().unwrap();
        assert_eq!(frame.header.kind, NLMSG_ERROR);
        assert_eq!(frame.header.sequence, 9);
        assert_eq!(frame.header.pid, 77);
        let errno = i32::from_ne_bytes(frame.payload[..4].try_into().unwrap());
        assert_eq!(errno, -libc::EMSGSIZE);
        let echoed = Header::parse(&frame.payload[4..]).unwrap();
        assert_eq!(echoed.kind, 18);
        assert_eq!(echoed.sequence, 9);
    }

    #[test]
    fn a_failure_needs_room() {
        let sent = Header::parse(&request(1)).unwrap();
        assert!(write_failure(&mut [0u8; 20], &sent, libc::EIO).is_none());
    }
}
