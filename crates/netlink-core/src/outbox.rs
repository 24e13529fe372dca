//! The outbox: a registration's batches between the I/O thread that
//! reads them and the consumer that takes them. It coalesces: while a
//! batch waits to be taken, what is read next joins it, up to a size, so a
//! consumer that is slower than the wake-ups of the I/O thread gets fewer,
//! larger batches instead of one crossing per wake-up.
//!
//! The consumer is notified once and takes one batch per notice; a notice
//! goes out when a batch arrives in an empty outbox, and again on each take
//! that leaves batches behind. The outbox itself is not synchronised: its
//! owner keeps it under a lock and notifies outside of it.

use std::collections::VecDeque;

use crate::batch::{Batch, BatchBuilder};

/// Batches handed over and not yet taken, oldest first. The newest one
/// grows with what is put in until it is taken or full.
#[derive(Debug)]
pub struct Outbox {
    batches: VecDeque<Batch>,
    /// Bytes of datagrams a batch may hold before another starts.
    limit: usize,
    /// A notice is out and no batch was taken since.
    notified: bool,
}

/// What `Outbox::put` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Put {
    /// The records started a batch of their own.
    pub new_batch: bool,
    /// The consumer must be notified.
    pub notify: bool,
}

impl Outbox {
    /// An empty outbox whose batches hold up to `limit` bytes of
    /// datagrams (more only when one `put` brings more).
    pub fn new(limit: usize) -> Self {
        Outbox {
            batches: VecDeque::new(),
            limit,
            notified: false,
        }
    }

    /// Moves what `builder` recorded in: onto the newest batch while that
    /// stays within the limit, else as a new batch.
    pub fn put(&mut self, builder: &mut BatchBuilder) -> Put {
        let limit = self.limit;
        let joined = match self.batches.back_mut() {
            Some(last) if last.data.len() + builder.data_len() <= limit => {
                builder.take_onto(last);
                true
            }
            _ => false,
        };
        if !joined {
            self.batches.push_back(builder.take());
        }
        Put {
            new_batch: !joined,
            notify: !std::mem::replace(&mut self.notified, true),
        }
    }

    /// Takes the oldest batch, and says whether the consumer must be
    /// notified again because others wait.
    pub fn take(&mut self) -> (Option<Batch>, bool) {
        let batch = self.batches.pop_front();
        self.notified = !self.batches.is_empty();
        (batch, self.notified)
    }

    /// Forgets the notice that is out, so that the next `put` sends one:
    /// for when a notice may have been lost.
    pub fn forget_notice(&mut self) {
        self.notified = false;
    }

    /// Number of batches waiting.
    pub fn len(&self) -> usize {
        self.batches.len()
    }

    /// Whether no batch waits.
    pub fn is_empty(&self) -> bool {
        self.batches.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::field;
    use crate::message::Header;
    use crate::socket::Datagram;

    /// A builder holding `count` messages of `size` bytes, with sequences
    /// from `first` on.
    fn burst(first: u32, count: u32, size: usize) -> BatchBuilder {
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
                ..Datagram::default()
            });
        }
        builder
    }

    fn sequences(batch: &Batch) -> Vec<u32> {
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

    #[test]
    fn a_lone_burst_is_noticed_at_once() {
        let mut outbox = Outbox::new(1024);
        let put = outbox.put(&mut burst(1, 1, 20));
        assert_eq!(
            put,
            Put {
                new_batch: true,
                notify: true
            }
        );
        let (batch, again) = outbox.take();
        assert_eq!(sequences(&batch.unwrap()), [1]);
        assert!(!again);
    }

    #[test]
    fn bursts_put_while_a_batch_waits_join_it_in_order() {
        let mut outbox = Outbox::new(1024);
        assert!(outbox.put(&mut burst(1, 2, 20)).notify);
        let second = outbox.put(&mut burst(3, 3, 20));
        assert_eq!(
            second,
            Put {
                new_batch: false,
                notify: false
            }
        );
        assert_eq!(outbox.len(), 1);

        let (batch, again) = outbox.take();
        assert_eq!(sequences(&batch.unwrap()), [1, 2, 3, 4, 5]);
        assert!(!again);
        assert!(outbox.is_empty());
    }

    #[test]
    fn a_burst_after_a_take_starts_a_batch_and_a_notice() {
        let mut outbox = Outbox::new(1024);
        outbox.put(&mut burst(1, 1, 20));
        outbox.take();
        let put = outbox.put(&mut burst(2, 1, 20));
        assert_eq!(
            put,
            Put {
                new_batch: true,
                notify: true
            }
        );
    }

    #[test]
    fn a_full_batch_is_followed_by_another_noticed_on_take() {
        let mut outbox = Outbox::new(100);
        outbox.put(&mut burst(1, 4, 20));
        let put = outbox.put(&mut burst(5, 2, 20));
        assert_eq!(
            put,
            Put {
                new_batch: true,
                notify: false
            }
        );
        outbox.put(&mut burst(7, 1, 20));
        assert_eq!(outbox.len(), 2);

        let (first, again) = outbox.take();
        assert_eq!(sequences(&first.unwrap()), [1, 2, 3, 4]);
        assert!(again, "a batch still waits: notify again");
        let (second, again) = outbox.take();
        assert_eq!(sequences(&second.unwrap()), [5, 6, 7]);
        assert!(!again);
    }

    #[test]
    fn a_burst_larger_than_the_limit_is_a_batch_of_its_own() {
        let mut outbox = Outbox::new(50);
        outbox.put(&mut burst(1, 1, 20));
        outbox.put(&mut burst(2, 4, 20));
        assert_eq!(outbox.len(), 2);
        let (_, again) = outbox.take();
        assert!(again);
        assert_eq!(sequences(&outbox.take().0.unwrap()), [2, 3, 4, 5]);
    }

    #[test]
    fn a_forgotten_notice_is_sent_again() {
        let mut outbox = Outbox::new(1024);
        outbox.put(&mut burst(1, 1, 20));
        outbox.forget_notice();
        assert!(outbox.put(&mut burst(2, 1, 20)).notify);
        assert_eq!(sequences(&outbox.take().0.unwrap()), [1, 2]);
        let (batch, again) = outbox.take();
        assert!(batch.is_none() && !again);
    }
}
