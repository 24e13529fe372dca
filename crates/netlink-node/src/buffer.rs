//! Batch bytes and records as JavaScript values: handed over without a
//! copy (external memory) where the runtime allows it, copied where it
//! does not.
//!
//! Runtimes that refuse external buffers (Electron with the V8 memory
//! cage) answer `napi_no_external_buffers_allowed`; napi-rs then copies on
//! its own. `NETLINK_NO_EXTERNAL_BUFFERS=1` takes the copying path
//! everywhere, so it can be tested, or chosen, under plain Node.js.

use std::ptr;
use std::sync::OnceLock;

use napi::bindgen_prelude::{Buffer, ToNapiValue, Uint32Array};
use napi::{check_status, sys};

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
/// copied as `copying()` says. Once converted nothing writes them again.
pub struct Bytes(pub Vec<u8>);

impl ToNapiValue for Bytes {
    unsafe fn to_napi_value(
        env: sys::napi_env,
        val: Self,
    ) -> napi::Result<sys::napi_value> {
        if !copying() {
            return unsafe { Buffer::to_napi_value(env, Buffer::from(val.0)) };
        }

        // An empty Vec's pointer is dangling; ask for an empty buffer.
        let mut value = ptr::null_mut();
        let status = if val.0.is_empty() {
            unsafe {
                sys::napi_create_buffer(env, 0, ptr::null_mut(), &mut value)
            }
        } else {
            unsafe {
                sys::napi_create_buffer_copy(
                    env,
                    val.0.len(),
                    val.0.as_ptr().cast(),
                    ptr::null_mut(),
                    &mut value,
                )
            }
        };
        check_status!(status, "copy {} batch bytes", val.0.len())?;
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
        if !copying() {
            let array = Uint32Array::new(val.0);
            return unsafe { Uint32Array::to_napi_value(env, array) };
        }

        let bytes = val.0.len() * 4;
        let mut data = ptr::null_mut();
        let mut buffer = ptr::null_mut();
        let status = unsafe {
            sys::napi_create_arraybuffer(env, bytes, &mut data, &mut buffer)
        };
        check_status!(status, "copy {} record bytes", bytes)?;
        if bytes > 0 {
            unsafe {
                ptr::copy_nonoverlapping(
                    val.0.as_ptr(),
                    data.cast(),
                    val.0.len(),
                )
            };
        }

        let mut value = ptr::null_mut();
        let status = unsafe {
            sys::napi_create_typedarray(
                env,
                sys::TypedarrayType::uint32_array,
                val.0.len(),
                buffer,
                0,
                &mut value,
            )
        };
        check_status!(status, "make a Uint32Array of records")?;
        Ok(value)
    }
}
