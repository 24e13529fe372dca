//! Batch bytes and records as JavaScript values: handed over without a
//! copy (external memory) where the runtime allows it, copied where it
//! does not. Either way the memory goes back to the batch pool
//! (`netlink_core::pool`) once JavaScript is done with it: at once after
//! a copy, else when the finalizer of the Buffer or Uint32Array runs,
//! when no view of it is left.
//!
//! Runtimes that refuse external buffers (Electron with the V8 memory
//! cage) answer `napi_no_external_buffers_allowed`, and the bytes are
//! copied. `NETLINK_NO_EXTERNAL_BUFFERS=1` takes the copying path
//! everywhere, so it can be tested, or chosen, under plain Node.js.

use std::ffi::c_void;
use std::ptr;
use std::sync::OnceLock;

use napi::bindgen_prelude::ToNapiValue;
use napi::{check_status, sys};
use netlink_core::pool;

/// The environment variable that turns external buffers off when it is
/// `1`. Read once, when the first batch is handed over.
pub const NO_EXTERNAL_BUFFERS: &str = "NETLINK_NO_EXTERNAL_BUFFERS";

/// Whether batch bytes and records are copied into memory JavaScript
/// owns.
pub fn copying() -> bool {
    static COPYING: OnceLock<bool> = OnceLock::new();
    *COPYING.get_or_init(|| {
        std::env::var_os(NO_EXTERNAL_BUFFERS).is_some_and(|v| v == "1")
    })
}

/// Bytes that become a `Buffer` when they cross into JavaScript, moved or
/// copied as `copying()` says. Once converted nothing writes them again
/// until JavaScript has let go of them.
pub struct Bytes(pub Vec<u8>);

impl ToNapiValue for Bytes {
    unsafe fn to_napi_value(
        env: sys::napi_env,
        val: Self,
    ) -> napi::Result<sys::napi_value> {
        let bytes = val.0;
        let mut value = ptr::null_mut();
        // An empty Vec's pointer is dangling; ask for an empty buffer.
        if bytes.is_empty() {
            let status = unsafe {
                sys::napi_create_buffer(env, 0, ptr::null_mut(), &mut value)
            };
            check_status!(status, "make an empty batch buffer")?;
            return Ok(value);
        }

        let bytes = if copying() {
            bytes
        } else {
            // Its finalizer recycles the bytes.
            let lent = unsafe {
                lend(bytes, |data, len, finalize, held| {
                    sys::napi_create_external_buffer(
                        env, len, data, finalize, held, &mut value,
                    )
                })
            };
            match lent {
                Lent::Lent(status) => {
                    check_status!(status, "hand over batch bytes")?;
                    return Ok(value);
                }
                Lent::Refused(bytes) => bytes,
            }
        };

        let status = unsafe {
            sys::napi_create_buffer_copy(
                env,
                bytes.len(),
                bytes.as_ptr().cast(),
                ptr::null_mut(),
                &mut value,
            )
        };
        check_status!(status, "copy {} batch bytes", bytes.len())?;
        bytes.give_back();
        Ok(value)
    }
}

/// Record fields that become a `Uint32Array` when they cross into
/// JavaScript, moved or copied as `copying()` says, like `Bytes`.
pub struct Words(pub Vec<u32>);

impl ToNapiValue for Words {
    unsafe fn to_napi_value(
        env: sys::napi_env,
        val: Self,
    ) -> napi::Result<sys::napi_value> {
        let words = val.0;
        let len = words.len();
        let mut buffer = ptr::null_mut();
        let lent = if copying() || words.is_empty() {
            Lent::Refused(words)
        } else {
            unsafe {
                lend(words, |data, bytes, finalize, held| {
                    sys::napi_create_external_arraybuffer(
                        env,
                        data,
                        bytes,
                        finalize,
                        held,
                        &mut buffer,
                    )
                })
            }
        };

        match lent {
            Lent::Lent(status) => check_status!(status, "hand over records")?,
            Lent::Refused(words) => {
                let bytes = len * 4;
                let mut data = ptr::null_mut();
                let status = unsafe {
                    sys::napi_create_arraybuffer(
                        env,
                        bytes,
                        &mut data,
                        &mut buffer,
                    )
                };
                check_status!(status, "copy {} record bytes", bytes)?;
                if len > 0 {
                    unsafe {
                        ptr::copy_nonoverlapping(
                            words.as_ptr(),
                            data.cast(),
                            len,
                        )
                    };
                }
                words.give_back();
            }
        }

        let mut value = ptr::null_mut();
        let status = unsafe {
            sys::napi_create_typedarray(
                env,
                sys::TypedarrayType::uint32_array,
                len,
                buffer,
                0,
                &mut value,
            )
        };
        check_status!(status, "make a Uint32Array of records")?;
        Ok(value)
    }
}

/// What became of memory offered to JavaScript without a copy.
enum Lent<T> {
    /// Taken, or lost to a failure (the status says which); either way
    /// it belongs to the runtime now, which may have freed it.
    Lent(sys::napi_status),
    /// Refused (`napi_no_external_buffers_allowed`): still ours.
    Refused(T),
}

/// Offers the memory of `memory` to `create` (its address, its length in
/// bytes, the finalizer and the hint to pass it), which makes a
/// JavaScript value of it; the finalizer gives the Vec back to the pool.
unsafe fn lend<T>(
    memory: Vec<T>,
    create: impl FnOnce(
        *mut c_void,
        usize,
        sys::napi_finalize,
        *mut c_void,
    ) -> sys::napi_status,
) -> Lent<Vec<T>>
where
    Vec<T>: Pooled,
{
    let data = memory.as_ptr() as *mut c_void;
    let bytes = std::mem::size_of_val(memory.as_slice());
    let held = Box::into_raw(Box::new(memory));
    let status = create(data, bytes, Some(recycle::<Vec<T>>), held.cast());
    if status == sys::Status::napi_no_external_buffers_allowed {
        // Refused before anything took ownership.
        return Lent::Refused(*unsafe { Box::from_raw(held) });
    }
    Lent::Lent(status)
}

/// Memory the batch pool takes back.
trait Pooled {
    fn give_back(self);
}

impl Pooled for Vec<u8> {
    fn give_back(self) {
        pool::shared().recycle_bytes(self);
    }
}

impl Pooled for Vec<u32> {
    fn give_back(self) {
        pool::shared().recycle_words(self);
    }
}

/// The finalizer of memory lent to JavaScript: no view of it is left.
unsafe extern "C" fn recycle<T: Pooled>(
    _env: sys::napi_env,
    _data: *mut c_void,
    held: *mut c_void,
) {
    let memory = unsafe { Box::from_raw(held.cast::<T>()) };
    memory.give_back();
}
