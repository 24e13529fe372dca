//! Memory of batches their consumer is done with, kept for the batches to
//! come. Without it a batch's bytes and records are fresh memory each
//! time: a route dump of 65,536 messages then costs some 1,700 page faults
//! (3.9 MB of bytes, 2.9 MB of records), which on a virtual machine take
//! about as long as splitting the messages, and handing the memory back
//! to the kernel costs the other CPUs a TLB flush.
//!
//! Memory enters the pool only from its consumer, once nothing can read it
//! any more (for JavaScript: the finalizer of the Buffer or Uint32Array it
//! became), so a batch made of pooled memory never shares it with one
//! still held. The pool is process-wide, holds at most `LIMIT` bytes, and
//! any thread may use it.

use std::mem;
use std::sync::{Mutex, MutexGuard};

/// Bytes the process-wide pool keeps at most: a route dump's worth.
pub const LIMIT: usize = 16 << 20;

/// Smaller allocations are not kept: `malloc` serves them from memory it
/// keeps anyway.
pub const SMALLEST: usize = 64 << 10;

/// Allocations kept at most, whatever their size.
const MOST: usize = 64;

/// Kept allocations of bytes and of record words, up to a limit.
pub struct Pool {
    limit: usize,
    bytes: Vec<Vec<u8>>,
    words: Vec<Vec<u32>>,
    /// Capacity in bytes of everything kept.
    held: usize,
}

impl Pool {
    /// An empty pool that keeps up to `limit` bytes.
    pub const fn new(limit: usize) -> Pool {
        Pool {
            limit,
            bytes: Vec::new(),
            words: Vec::new(),
            held: 0,
        }
    }

    /// An empty Vec with room for `len` bytes: kept memory when some fits.
    /// Memory worth keeping is made in sizes that are powers of two, so
    /// that what one kind of batch let go of fits the batches of another
    /// (a link dump's of 340 KB, a route dump's of 350 KB): what is not
    /// written of it stays virtual.
    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        take(&mut self.bytes, &mut self.held, len)
    }

    /// An empty Vec with room for `len` words, as `bytes`.
    pub fn words(&mut self, len: usize) -> Vec<u32> {
        take(&mut self.words, &mut self.held, len)
    }

    /// Keeps the memory of `bytes`, which nothing reads any more, unless
    /// it is too small to be worth keeping or larger than the limit. The
    /// memory kept longest goes to make room: the next batches are most
    /// like the last ones.
    pub fn recycle_bytes(&mut self, bytes: Vec<u8>) {
        if let Some(bytes) = self.admit(bytes) {
            self.bytes.push(bytes);
        }
    }

    /// Keeps the memory of `words`, as `recycle_bytes`.
    pub fn recycle_words(&mut self, words: Vec<u32>) {
        if let Some(words) = self.admit(words) {
            self.words.push(words);
        }
    }

    /// Bytes kept now.
    pub fn held(&self) -> usize {
        self.held
    }

    /// Counts `memory` as kept, emptied, once the oldest allocations made
    /// room for it; `None` when it is not worth keeping or never fits.
    fn admit<T>(&mut self, mut memory: Vec<T>) -> Option<Vec<T>> {
        let size = memory.capacity() * mem::size_of::<T>();
        if size < SMALLEST || size > self.limit {
            return None;
        }
        while self.held + size > self.limit || self.count() >= MOST {
            // Each list is oldest first; free from the longer one.
            let freed = if self.bytes.len() >= self.words.len() {
                self.bytes.remove(0).capacity()
            } else {
                self.words.remove(0).capacity() * 4
            };
            self.held -= freed;
        }
        memory.clear();
        self.held += size;
        Some(memory)
    }

    fn count(&self) -> usize {
        self.bytes.len() + self.words.len()
    }
}

/// An empty Vec with room for `len` elements: the smallest of `kept`
/// with that room, taken out of `held`, unless it has room for more than
/// twice as many (a small batch must not hold on to a large allocation
/// for as long as JavaScript holds it); else a fresh one.
fn take<T>(kept: &mut Vec<Vec<T>>, held: &mut usize, len: usize) -> Vec<T> {
    let unit = mem::size_of::<T>();
    if len * unit < SMALLEST {
        return Vec::with_capacity(len);
    }
    let fits = |v: &Vec<T>| v.capacity() >= len && v.capacity() / 2 <= len;
    let at = (0..kept.len())
        .filter(|&i| fits(&kept[i]))
        .min_by_key(|&i| kept[i].capacity());
    match at {
        Some(at) => {
            // Removed in place: the lists stay oldest first.
            let memory = kept.remove(at);
            *held -= memory.capacity() * unit;
            memory
        }
        None => Vec::with_capacity(len.next_power_of_two()),
    }
}

static POOL: Mutex<Pool> = Mutex::new(Pool::new(LIMIT));

/// The process-wide pool batches are made from.
pub fn shared() -> MutexGuard<'static, Pool> {
    POOL.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gives_back_kept_memory_empty_for_what_it_can_hold() {
        let mut pool = Pool::new(LIMIT);
        let mut big = Vec::with_capacity(SMALLEST * 2);
        big.extend_from_slice(&[7u8; 100]);
        let at = big.as_ptr();
        pool.recycle_bytes(big);
        assert_eq!(pool.held(), SMALLEST * 2);

        let again = pool.bytes(SMALLEST + 1);
        assert_eq!(again.as_ptr(), at);
        assert!(again.is_empty());
        assert_eq!(pool.held(), 0);
    }

    #[test]
    fn makes_afresh_what_nothing_kept_can_hold() {
        let mut pool = Pool::new(LIMIT);
        pool.recycle_words(Vec::with_capacity(SMALLEST));

        let larger = pool.words(SMALLEST * 2);
        assert!(larger.capacity() >= SMALLEST * 2);
        assert_eq!(pool.held(), SMALLEST * 4);

        let fitting = pool.words(SMALLEST);
        assert_eq!(fitting.capacity(), SMALLEST);
        assert_eq!(pool.held(), 0);
    }

    #[test]
    fn keeps_nothing_small_and_nothing_past_its_limit() {
        let mut pool = Pool::new(SMALLEST * 3);
        pool.recycle_bytes(Vec::with_capacity(SMALLEST - 1));
        pool.recycle_bytes(Vec::with_capacity(SMALLEST * 4));
        assert_eq!(pool.held(), 0);

        for _ in 0..3 {
            pool.recycle_bytes(Vec::with_capacity(SMALLEST * 2));
        }
        assert_eq!(pool.held(), SMALLEST * 2);
    }

    #[test]
    fn frees_what_it_kept_longest_to_keep_the_newest() {
        let mut pool = Pool::new(SMALLEST * 4);
        let old: Vec<u8> = Vec::with_capacity(SMALLEST * 2);
        let old_at = old.as_ptr();
        pool.recycle_bytes(old);
        pool.recycle_words(Vec::with_capacity(SMALLEST / 4));
        let new: Vec<u8> = Vec::with_capacity(SMALLEST * 2);
        let new_at = new.as_ptr();
        pool.recycle_bytes(new);

        assert_eq!(pool.held(), SMALLEST * 3);
        let kept = pool.bytes(SMALLEST * 2);
        assert_eq!(kept.as_ptr(), new_at);
        assert_ne!(kept.as_ptr(), old_at);
    }

    #[test]
    fn keeps_large_memory_from_requests_of_half_its_size_or_less() {
        let mut pool = Pool::new(LIMIT);
        pool.recycle_bytes(Vec::with_capacity(SMALLEST * 4));

        let half = pool.bytes(SMALLEST * 2 - 1);
        assert_eq!(half.capacity(), SMALLEST * 2);
        assert_eq!(pool.held(), SMALLEST * 4);
    }

    #[test]
    fn makes_sizes_worth_keeping_in_powers_of_two() {
        let mut pool = Pool::new(LIMIT);
        let made = pool.bytes(SMALLEST * 3);
        assert_eq!(made.capacity(), SMALLEST * 4);
        let at = made.as_ptr();
        pool.recycle_bytes(made);

        // A batch a little larger than the one before takes its memory.
        let again = pool.bytes(SMALLEST * 3 + 1000);
        assert_eq!(again.as_ptr(), at);
        assert_eq!(pool.bytes(100).capacity(), 100);
    }

    #[test]
    fn small_requests_leave_kept_memory_for_large_ones() {
        let mut pool = Pool::new(LIMIT);
        pool.recycle_bytes(Vec::with_capacity(SMALLEST));

        let small = pool.bytes(100);
        assert!(small.capacity() < SMALLEST);
        assert_eq!(pool.held(), SMALLEST);
    }
}
