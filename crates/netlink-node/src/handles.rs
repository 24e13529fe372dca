//! Numbers for the open sockets of a JavaScript thread, so that the call
//! made for every request can be a plain function taking a number rather
//! than a method of `NativeConn`: napi-rs checks a method's receiver and
//! tracks the borrow of it on every call, about 200 ns that a round trip
//! of 5 µs notices.
//!
//! Each JavaScript thread (the main one, each worker) has a table of its
//! own, and a `NativeConn` is used only on the thread that opened it. A
//! number carries its table's tag in its high bits, so that one taken to
//! another thread finds nothing there instead of that thread's socket of
//! the same index. The table holds weak references: it never keeps a
//! socket open.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Weak};

use netlink_core::error::SysError;
use netlink_core::reactor::Registration;

/// Bits of a number that give the index in its table.
const INDEX_BITS: u32 = 20;
const INDEX_MASK: u32 = (1 << INDEX_BITS) - 1;

/// Tags for tables, one a thread that opens a socket; 0 is never used.
static NEXT_TAG: AtomicU32 = AtomicU32::new(1);

thread_local! {
    static TABLE: RefCell<Table> = RefCell::new(Table::new());
}

struct Table {
    tag: u32,
    slots: Vec<Option<Weak<Registration>>>,
    free: Vec<u32>,
}

impl Table {
    fn new() -> Self {
        // Tags wrap after 4,095 threads; 0 stays out of the way.
        let tag = NEXT_TAG.fetch_add(1, Ordering::Relaxed) % 4095 + 1;
        Table {
            tag,
            slots: Vec::new(),
            free: Vec::new(),
        }
    }

    /// The index of `handle` in this table, if the handle is this table's.
    fn index(&self, handle: u32) -> Option<usize> {
        let ours = handle >> INDEX_BITS == self.tag;
        ours.then_some((handle & INDEX_MASK) as usize)
    }
}

/// Numbers `registration` on this thread; `forget` gives the number back.
/// Fails with `EMFILE` past 2^20 sockets open on one thread.
pub fn insert(registration: &Arc<Registration>) -> Result<u32, SysError> {
    TABLE.with(|table| {
        let mut table = table.borrow_mut();
        let weak = Some(Arc::downgrade(registration));
        let index = match table.free.pop() {
            Some(index) => {
                table.slots[index as usize] = weak;
                index
            }
            None if table.slots.len() > INDEX_MASK as usize => {
                let message = "too many sockets open on one thread";
                return Err(SysError::new(libc::EMFILE, message));
            }
            None => {
                table.slots.push(weak);
                (table.slots.len() - 1) as u32
            }
        };
        Ok(table.tag << INDEX_BITS | index)
    })
}

/// The registration numbered `handle` on this thread, while it is alive.
pub fn get(handle: u32) -> Option<Arc<Registration>> {
    TABLE
        .try_with(|table| {
            let table = table.borrow();
            let index = table.index(handle)?;
            table.slots.get(index)?.as_ref()?.upgrade()
        })
        .ok()
        .flatten()
}

/// Frees the number `handle` if it is still `registration`'s: a number
/// freed by `close` may already be another socket's when the first is
/// dropped. Does nothing once the thread's table is gone (at thread exit).
pub fn forget(handle: u32, registration: &Arc<Registration>) {
    let _ = TABLE.try_with(|table| {
        let mut table = table.borrow_mut();
        let Some(index) = table.index(handle) else {
            return;
        };
        let Some(slot) = table.slots.get_mut(index) else {
            return;
        };
        let ours = slot
            .as_ref()
            .is_some_and(|weak| weak.as_ptr() == Arc::as_ptr(registration));
        if ours {
            *slot = None;
            table.free.push(index as u32);
        }
    });
}
