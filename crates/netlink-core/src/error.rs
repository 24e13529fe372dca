//! The error every fallible operation of this crate returns: the kernel's
//! errno and a sentence saying what failed.

use std::fmt;
use std::io;

/// A failed system call: the errno, kept inspectable, and what was being
/// done when it failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SysError {
    /// The positive errno (`libc::EPERM`, ...).
    pub errno: i32,
    /// A short lowercase sentence: what failed and with what.
    pub message: String,
}

impl SysError {
    /// An error with `errno` and a message of the caller's.
    pub fn new(errno: i32, message: impl Into<String>) -> Self {
        SysError {
            errno,
            message: message.into(),
        }
    }

    /// Wraps an I/O error, keeping its errno (`EIO` when it has none).
    pub fn from_io(err: &io::Error, what: &str) -> Self {
        let errno = err.raw_os_error().unwrap_or(libc::EIO);
        SysError::new(errno, format!("{what}: {}", describe(errno)))
    }

    /// The error of any use of a closed socket: `EBADF`.
    pub fn closed() -> Self {
        SysError::new(libc::EBADF, "connection closed")
    }

    /// The errno of the last failed libc call on this thread.
    pub fn last(what: &str) -> Self {
        SysError::from_io(&io::Error::last_os_error(), what)
    }
}

impl fmt::Display for SysError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SysError {}

/// The C library's description of an errno, lowercased the way Node prints
/// system errors ("operation not permitted").
pub fn describe(errno: i32) -> String {
    let text = io::Error::from_raw_os_error(errno).to_string();

    // std formats "Operation not permitted (os error 1)": keep the words.
    let words = text.split(" (os error").next().unwrap_or(&text);
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The result type of this crate.
pub type Result<T> = std::result::Result<T, SysError>;
