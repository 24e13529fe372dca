//! `sendThenReadInto`: `sendThenRead` without a batch of its own. What
//! arrives is copied into memory the caller owns, after what earlier calls
//! wrote there, so a request answered inside `sendmsg` costs no allocation
//! here and no external buffers there: JavaScript routes what each call
//! wrote where it lies and moves on to fresh memory when it runs short.

use std::cell::RefCell;
use std::panic::{self, AssertUnwindSafe};

use napi::bindgen_prelude::{BufferSlice, Either, Uint32ArraySlice};
use napi_derive::napi;
use netlink_core::batch::{field, BatchBuilder, RECORD_LEN};
use netlink_core::error::SysError;
use netlink_core::reactor;

use crate::batch::{self, BatchJs};
use crate::error::{invalid, to_napi};
use crate::handles;
use crate::panic::Point;

/// Datagrams read at once at most, as `sendThenRead` reads.
const READ_NOW_DATAGRAMS: usize = 4;

thread_local! {
    /// The read buffer of `send_then_read_into`, one per JavaScript
    /// thread.
    static READ_INTO: RefCell<BatchBuilder> = RefCell::new(BatchBuilder::new(
        READ_NOW_DATAGRAMS * reactor::MIN_RECEIVE_SPACE,
        false,
    ));
}

/// Sends `datagram` on the socket numbered `handle` (`NativeConn.handle`)
/// like `send`, then copies what already arrived into `data` from byte
/// `data_at` and into `records` from field `records_at` (batch layout,
/// offsets counted from the start of `data`), and returns the number of
/// record fields written: 0 when nothing was read, which is left to the
/// I/O thread. What does not fit, or carries an extended acknowledgement,
/// comes back as a batch of its own instead. Nothing before the two
/// offsets is written, so the caller can hand out what an earlier call
/// wrote there and carry on after it. A plain function, not a method:
/// see `handles`. Fails with `EBADF` for a closed or unknown socket.
// Called from JavaScript only, so a test build sees no caller.
#[cfg_attr(test, allow(dead_code))]
#[napi(catch_unwind)]
pub fn send_then_read_into(
    handle: u32,
    datagram: BufferSlice,
    mut data: BufferSlice,
    data_at: u32,
    mut records: Uint32ArraySlice,
    records_at: u32,
) -> napi::Result<Either<u32, BatchJs>> {
    let registration =
        handles::get(handle).ok_or_else(|| to_napi(SysError::closed()))?;
    let records = unsafe { records.as_mut() };
    let (data_at, records_at) = (data_at as usize, records_at as usize);
    if data_at > data.len() || records_at > records.len() {
        return Err(invalid("send_then_read_into offset past the end"));
    }
    READ_INTO.with(|builder| {
        let mut builder = builder.try_borrow_mut().map_err(|_| {
            invalid("send_then_read_into re-entered on one thread")
        })?;
        let read = registration
            .send_then_fill(&datagram, &mut builder, READ_NOW_DATAGRAMS)
            .map_err(to_napi)?;
        if !read {
            return Ok(Either::A(0));
        }

        // What was read is lost to a panic; say so as an overrun.
        let copied = panic::catch_unwind(AssertUnwindSafe(|| {
            crate::panic::at(Point::Batch);
            builder.take_into(&mut data[data_at..], &mut records[records_at..])
        }));
        match copied {
            Ok(Some((_, fields))) => {
                let written = &mut records[records_at..records_at + fields];
                for record in written.chunks_exact_mut(RECORD_LEN) {
                    record[field::OFFSET] += data_at as u32;
                }
                Ok(Either::A(fields as u32))
            }
            Ok(None) => {
                Ok(Either::B(batch::to_object_or_overrun(builder.take())))
            }
            Err(_) => {
                builder.take();
                Ok(Either::B(batch::overrun()))
            }
        }
    })
}
