//! The handover: a registration's batches between the I/O thread that
//! reads them and the consumer that takes them. It coalesces: while a
//! batch waits to be taken, what is read next joins it, up to a size, so a
//! consumer that is slower than the wake-ups of the I/O thread gets fewer,
//! larger batches instead of one crossing per wake-up.
//!
//! A batch that others joined is copied into one allocation of its exact
//! size when taken (`Batch::concat`), so joining never reallocates and
//! copies a growing buffer.
//!
//! The consumer is notified once and takes one batch per notice; a notice
//! goes out when a batch arrives in an empty handover, and again on each take
//! that leaves batches behind.
//!
//! Notices for multicast messages are paced: within `interval` of the last
//! notice, the next waits for the interval to end, and what arrives
//! meanwhile joins the batch. A lone message, after a quiet interval,
//! goes out at once; a stream of them reaches the consumer in a batch per
//! interval rather than in one per wake-up of the I/O thread, each of
//! which wakes the consumer's thread too. Anything else (a reply, an
//! acknowledgement, an overrun) is noticed at once, with whatever waits.
//!
//! The handover itself is not synchronised: its owner keeps it under a lock,
//! notifies outside of it, and keeps the time of notices that are due.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::batch::{Batch, BatchBuilder};

/// Batches handed over and not yet taken, oldest first. The newest one
/// grows with what is put in until it is taken or full.
#[derive(Debug)]
pub struct Handover {
    batches: VecDeque<Pending>,
    /// Bytes of datagrams a batch may hold before another starts.
    limit: usize,
    /// Least time between two notices for multicast messages.
    interval: Duration,
    state: State,
    noticed_at: Option<Instant>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// No notice is out: the consumer took every batch it was told of.
    Idle,
    /// A notice is out and no batch was taken since.
    Out,
    /// A notice is owed at this time.
    Due(Instant),
}

/// A batch in the handover: the parts put in, to be made one when taken.
#[derive(Debug)]
struct Pending {
    parts: Vec<Batch>,
    data_len: usize,
}

/// What the owner of a handover must do to tell its consumer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    /// Nothing: a notice is out or due.
    None,
    /// Notify now.
    Now,
    /// Call `Handover::fire` at this time, and notify if it says so.
    At(Instant),
}

/// What `Handover::put` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Put {
    /// The records started a batch of their own.
    pub new_batch: bool,
    /// Whether and when to notify the consumer.
    pub notice: Notice,
}

impl Handover {
    /// An empty handover whose batches hold up to `limit` bytes of
    /// datagrams (more only when one `put` brings more), noticing
    /// multicast messages at most once an `interval`.
    pub fn new(limit: usize, interval: Duration) -> Self {
        Handover {
            batches: VecDeque::new(),
            limit,
            interval,
            state: State::Idle,
            noticed_at: None,
        }
    }

    /// Moves what `builder` recorded in, at time `now`: onto the newest
    /// batch while that stays within the limit, else as a new batch.
    pub fn put(&mut self, builder: &mut BatchBuilder, now: Instant) -> Put {
        let urgent = !builder.is_multicast();
        let (limit, data_len) = (self.limit, builder.data_len());
        let part = builder.take();
        let joined = match self.batches.back_mut() {
            Some(last) if last.data_len + data_len <= limit => Some(last),
            _ => None,
        };
        let new_batch = joined.is_none();
        match joined {
            Some(last) => {
                last.parts.push(part);
                last.data_len += data_len;
            }
            None => self.batches.push_back(Pending {
                parts: vec![part],
                data_len,
            }),
        }

        let notice = match self.state {
            State::Out => Notice::None,
            State::Due(_) if !urgent => Notice::None,
            State::Idle if !urgent => self.pace(now),
            State::Idle | State::Due(_) => self.notice_now(now),
        };
        Put { new_batch, notice }
    }

    /// Sends the notice owed, when its time came by `now`: true when the
    /// owner must notify the consumer.
    pub fn fire(&mut self, now: Instant) -> bool {
        match self.state {
            State::Due(at) if at <= now => {
                self.notice_now(now);
                true
            }
            _ => false,
        }
    }

    /// Takes the oldest batch at time `now`, as the parts it was put in
    /// as (`Batch::concat` makes them one), and says whether the consumer
    /// must be notified again because others wait.
    pub fn take(&mut self, now: Instant) -> (Option<Vec<Batch>>, bool) {
        let batch = self.batches.pop_front().map(|pending| pending.parts);
        let more = !self.batches.is_empty();
        if more {
            self.notice_now(now);
        } else {
            self.state = State::Idle;
        }
        (batch, more)
    }

    /// Forgets the notice that is out or due, so that the next `put`
    /// sends one at once: for when a notice may have been lost.
    pub fn forget_notice(&mut self) {
        self.state = State::Idle;
        self.noticed_at = None;
    }

    /// Number of batches waiting.
    pub fn len(&self) -> usize {
        self.batches.len()
    }

    /// Whether no batch waits.
    pub fn is_empty(&self) -> bool {
        self.batches.is_empty()
    }

    /// A notice now, or at the end of the interval that the last one
    /// started.
    fn pace(&mut self, now: Instant) -> Notice {
        let next = self.noticed_at.map(|last| last + self.interval);
        match next {
            Some(at) if now < at => {
                self.state = State::Due(at);
                Notice::At(at)
            }
            _ => self.notice_now(now),
        }
    }

    fn notice_now(&mut self, now: Instant) -> Notice {
        self.state = State::Out;
        self.noticed_at = Some(now);
        Notice::Now
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::field;
    use crate::message::Header;
    use crate::socket::Datagram;

    const MS: Duration = Duration::from_millis(1);

    /// A builder holding `count` messages of `size` bytes sent to `group`
    /// (0: unicast), with sequences from `first` on.
    fn burst(first: u32, count: u32, size: usize, group: u32) -> BatchBuilder {
        let mut builder = BatchBuilder::new(64 << 10, false);
        for sequence in first..first + count {
            let header = Header {
                length: size as u32,
                kind: 24,
                sequence,
                ..Header::default()
            };
            header.write(&mut builder.spare()[..size]);
            builder.push_datagram(&Datagram {
                length: size,
                group,
                ..Datagram::default()
            });
        }
        builder
    }

    /// Unicast messages: replies, never paced.
    fn replies(first: u32, count: u32, size: usize) -> BatchBuilder {
        burst(first, count, size, 0)
    }

    /// Multicast messages: events, paced.
    fn events(first: u32, count: u32) -> BatchBuilder {
        burst(first, count, 20, 11)
    }

    /// Sequences of the messages of a taken batch, made one.
    fn sequences(parts: Option<Vec<Batch>>) -> Vec<u32> {
        let batch = Batch::concat(parts.expect("a batch"));
        (0..batch.len())
            .map(|i| {
                let record = batch.record(i);
                let at = record[field::OFFSET] as usize;
                let header = Header::parse(&batch.data[at..]).unwrap();
                assert_eq!(header.sequence, record[field::SEQUENCE]);
                header.sequence
            })
            .collect()
    }

    fn put(new_batch: bool, notice: Notice) -> Put {
        Put { new_batch, notice }
    }

    #[test]
    fn a_lone_burst_is_noticed_at_once() {
        let mut handover = Handover::new(1024, MS);
        let now = Instant::now();
        let put = handover.put(&mut replies(1, 1, 20), now);
        assert_eq!(put, self::put(true, Notice::Now));
        let (batch, again) = handover.take(now);
        assert_eq!(sequences(batch), [1]);
        assert!(!again);
    }

    #[test]
    fn bursts_put_while_a_batch_waits_join_it_in_order() {
        let mut handover = Handover::new(1024, MS);
        let now = Instant::now();
        handover.put(&mut replies(1, 2, 20), now);
        let second = handover.put(&mut replies(3, 3, 20), now);
        assert_eq!(second, put(false, Notice::None));
        assert_eq!(handover.len(), 1);

        let (batch, again) = handover.take(now);
        assert_eq!(sequences(batch), [1, 2, 3, 4, 5]);
        assert!(!again);
        assert!(handover.is_empty());
    }

    #[test]
    fn a_reply_after_a_take_is_noticed_at_once() {
        let mut handover = Handover::new(1024, MS);
        let now = Instant::now();
        handover.put(&mut replies(1, 1, 20), now);
        handover.take(now);
        let put = handover.put(&mut replies(2, 1, 20), now);
        assert_eq!(put, self::put(true, Notice::Now));
    }

    #[test]
    fn a_full_batch_is_followed_by_another_noticed_on_take() {
        let mut handover = Handover::new(100, MS);
        let now = Instant::now();
        handover.put(&mut replies(1, 4, 20), now);
        let put = handover.put(&mut replies(5, 2, 20), now);
        assert_eq!(put, self::put(true, Notice::None));
        handover.put(&mut replies(7, 1, 20), now);
        assert_eq!(handover.len(), 2);

        let (first, again) = handover.take(now);
        assert_eq!(sequences(first), [1, 2, 3, 4]);
        assert!(again, "a batch still waits: notify again");
        let (second, again) = handover.take(now);
        assert_eq!(sequences(second), [5, 6, 7]);
        assert!(!again);
    }

    #[test]
    fn a_burst_larger_than_the_limit_is_a_batch_of_its_own() {
        let mut handover = Handover::new(50, MS);
        let now = Instant::now();
        handover.put(&mut replies(1, 1, 20), now);
        handover.put(&mut replies(2, 4, 20), now);
        assert_eq!(handover.len(), 2);
        let (_, again) = handover.take(now);
        assert!(again);
        assert_eq!(sequences(handover.take(now).0), [2, 3, 4, 5]);
    }

    #[test]
    fn a_forgotten_notice_is_sent_again() {
        let mut handover = Handover::new(1024, MS);
        let now = Instant::now();
        handover.put(&mut events(1, 1), now);
        handover.forget_notice();
        let put = handover.put(&mut events(2, 1), now);
        assert_eq!(put.notice, Notice::Now);
        assert_eq!(sequences(handover.take(now).0), [1, 2]);
        let (batch, again) = handover.take(now);
        assert!(batch.is_none() && !again);
    }

    #[test]
    fn a_lone_event_is_noticed_at_once() {
        let mut handover = Handover::new(1024, MS);
        let start = Instant::now();
        assert_eq!(handover.put(&mut events(1, 1), start).notice, Notice::Now);
        handover.take(start);

        // A quiet interval later, the next goes out at once too.
        let later = start + 2 * MS;
        assert_eq!(handover.put(&mut events(2, 1), later).notice, Notice::Now);
    }

    #[test]
    fn events_within_the_interval_wait_for_its_end_together() {
        let mut handover = Handover::new(1024, MS);
        let start = Instant::now();
        handover.put(&mut events(1, 1), start);
        handover.take(start);

        let soon = start + MS / 4;
        let end = start + MS;
        assert_eq!(
            handover.put(&mut events(2, 2), soon).notice,
            Notice::At(end)
        );
        let later = start + MS / 2;
        assert_eq!(handover.put(&mut events(4, 1), later).notice, Notice::None);
        assert!(!handover.fire(later), "not before its time");
        assert!(handover.fire(end));
        assert!(!handover.fire(end), "once");

        let (batch, again) = handover.take(end);
        assert_eq!(sequences(batch), [2, 3, 4]);
        assert!(!again);
    }

    #[test]
    fn a_reply_sends_the_notice_events_wait_for() {
        let mut handover = Handover::new(1024, MS);
        let start = Instant::now();
        handover.put(&mut events(1, 1), start);
        handover.take(start);
        let soon = start + MS / 4;
        handover.put(&mut events(2, 1), soon);

        let reply = handover.put(&mut replies(3, 1, 20), soon);
        assert_eq!(reply.notice, Notice::Now);
        assert!(!handover.fire(start + MS), "the notice went out already");
        assert_eq!(sequences(handover.take(soon).0), [2, 3]);
    }

    #[test]
    fn a_slow_consumer_is_not_paced() {
        let mut handover = Handover::new(1024, MS);
        let start = Instant::now();
        handover.put(&mut events(1, 1), start);
        // Taken long after its notice: the next event goes out at once.
        let late = start + 3 * MS;
        handover.take(late);
        let put = handover.put(&mut events(2, 1), late + MS / 10);
        assert_eq!(put.notice, Notice::Now);
    }

    #[test]
    fn no_interval_never_paces() {
        let mut handover = Handover::new(1024, Duration::ZERO);
        let now = Instant::now();
        for sequence in 1..4 {
            let put = handover.put(&mut events(sequence, 1), now);
            assert_eq!(put.notice, Notice::Now);
            handover.take(now);
        }
    }
}
