//! Errors as they cross into JavaScript.
//!
//! A napi error carries a message and a status, not an errno, so the errno
//! travels at the front of the message as `"<errno>:<message>"`;
//! `lib/native.ts` turns that back into a `NetlinkError`.

use netlink_core::SysError;

/// A napi error from a core error.
pub fn to_napi(err: SysError) -> napi::Error {
    napi::Error::from_reason(format!("{}:{}", err.errno, err.message))
}

/// An argument the caller got wrong: `EINVAL`.
pub fn invalid(message: impl Into<String>) -> napi::Error {
    to_napi(SysError::new(libc::EINVAL, message))
}

/// The C library's description of `errno`, lowercased like Node's system
/// errors ("no such device").
// Called from JavaScript only, so a test build sees no caller.
#[cfg_attr(test, allow(dead_code))]
#[napi_derive::napi(catch_unwind)]
pub fn errno_message(errno: i32) -> String {
    netlink_core::error::describe(errno)
}
