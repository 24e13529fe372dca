//! Numbers for the open sockets of a JavaScript thread, so that the call
//! made for every request can be a plain function taking a number rather
//! than a method of `NativeConn`: napi-rs checks a method's receiver and
//! tracks the borrow of it on every call, about 200 ns that a round trip
//! of 5 µs notices.
//!
//! Each JavaScript thread (the main one, each worker) has a table of its
//! own, and a `NativeConn` is used only on the thread that opened it. The
//! table holds weak references: it never keeps a socket open.

use std::cell::RefCell;
use std::sync::{Arc, Weak};

use netlink_core::reactor::Registration;

thread_local! {
    static TABLE: RefCell<Table> = const { RefCell::new(Table::new()) };
}

struct Table {
    slots: Vec<Option<Weak<Registration>>>,
    free: Vec<u32>,
}

impl Table {
    const fn new() -> Self {
        Table {
            slots: Vec::new(),
            free: Vec::new(),
        }
    }
}

/// Numbers `registration` on this thread; `forget` gives the number back.
pub fn insert(registration: &Arc<Registration>) -> u32 {
    TABLE.with(|table| {
        let mut table = table.borrow_mut();
        let weak = Some(Arc::downgrade(registration));
        match table.free.pop() {
            Some(id) => {
                table.slots[id as usize] = weak;
                id
            }
            None => {
                table.slots.push(weak);
                (table.slots.len() - 1) as u32
            }
        }
    })
}

/// The registration numbered `id` on this thread, while it is alive.
pub fn get(id: u32) -> Option<Arc<Registration>> {
    TABLE
        .try_with(|table| {
            let table = table.borrow();
            table.slots.get(id as usize)?.as_ref()?.upgrade()
        })
        .ok()
        .flatten()
}

/// Frees the number `id` if it is still `registration`'s: a number freed
/// by `close` may already be another socket's when the first is dropped.
/// Does nothing once the thread's table is gone (at thread exit).
pub fn forget(id: u32, registration: &Arc<Registration>) {
    let _ = TABLE.try_with(|table| {
        let mut table = table.borrow_mut();
        let Some(slot) = table.slots.get_mut(id as usize) else {
            return;
        };
        let ours = slot
            .as_ref()
            .is_some_and(|weak| weak.as_ptr() == Arc::as_ptr(registration));
        if ours {
            *slot = None;
            table.free.push(id);
        }
    });
}
