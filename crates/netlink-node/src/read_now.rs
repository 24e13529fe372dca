//! `sendThenReadInto`: `sendThenRead` without a batch of its own. What
//! arrives is copied into scratch memory the caller owns and reuses, so a
//! request answered inside `sendmsg` costs no allocation here and no
//! external buffers there: JavaScript copies the few bytes out into
//! memory of its own before it calls again.

use std::cell::RefCell;
use std::panic::{self, AssertUnwindSafe};

use napi::bindgen_prelude::{BufferSlice, Either, Uint32ArraySlice};
use napi_derive::napi;
use netlink_core::batch::BatchBuilder;
use netlink_core::reactor;

use crate::batch::{self, BatchJs};
use crate::conn::NativeConn;
use crate::error::{invalid, to_napi};
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

#[napi]
impl NativeConn {
    /// Sends like `send`, then copies what already arrived into `data` and
    /// `records` (batch layout) and returns the number of record fields
    /// written: 0 when nothing was read, which is left to the I/O thread.
    /// What does not fit, or carries an extended acknowledgement, comes
    /// back as a batch of its own instead. The scratch memory is written
    /// again by the next call on this thread.
    #[napi(catch_unwind)]
    pub fn send_then_read_into(
        &self,
        datagram: BufferSlice,
        mut data: BufferSlice,
        mut records: Uint32ArraySlice,
    ) -> napi::Result<Either<u32, BatchJs>> {
        READ_INTO.with(|builder| {
            let mut builder = builder.try_borrow_mut().map_err(|_| {
                invalid("send_then_read_into re-entered on one thread")
            })?;
            let read = self
                .registration
                .send_then_fill(&datagram, &mut builder, READ_NOW_DATAGRAMS)
                .map_err(to_napi)?;
            if !read {
                return Ok(Either::A(0));
            }

            // What was read is lost to a panic; say so as an overrun.
            let records = unsafe { records.as_mut() };
            let copied = panic::catch_unwind(AssertUnwindSafe(|| {
                crate::panic::at(Point::Batch);
                builder.take_into(&mut data, records)
            }));
            match copied {
                Ok(Some((_, fields))) => Ok(Either::A(fields as u32)),
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
}
