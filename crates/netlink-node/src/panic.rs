//! A test-only switch that makes the binding panic where it must not
//! bring the process down, so tests can see the panic turn into an error.
//!
//! `NETLINK_TEST_PANIC=method` makes `NativeConn.stats()` panic inside
//! its call from JavaScript; `NETLINK_TEST_PANIC=batch` makes handing a
//! batch over to JavaScript panic. Read once, at first use; unset in
//! normal use, when every check is one load of a cached value.

use std::sync::OnceLock;

/// The environment variable naming the place to panic.
pub const TEST_PANIC: &str = "NETLINK_TEST_PANIC";

/// A place that can be made to panic.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Point {
    /// A method called from JavaScript (`stats`).
    Method,
    /// The conversion of a batch on its way to the batch callback.
    Batch,
}

/// Panics when `TEST_PANIC` names `point`.
pub fn at(point: Point) {
    static FORCED: OnceLock<Option<Point>> = OnceLock::new();
    let forced =
        FORCED.get_or_init(|| match std::env::var(TEST_PANIC).as_deref() {
            Ok("method") => Some(Point::Method),
            Ok("batch") => Some(Point::Batch),
            _ => None,
        });
    if *forced == Some(point) {
        panic!("forced by {TEST_PANIC}");
    }
}
