//! A batch as JavaScript sees it: the datagrams as one Buffer, the record
//! index as a Uint32Array, and the extended acknowledgements as objects.

use std::panic::{self, AssertUnwindSafe};

use napi::bindgen_prelude::{BigInt, Buffer, FnArgs};
use napi_derive::napi;
use netlink_core::ack::{ExtAck, Policy};
use netlink_core::batch::{field, kind, Batch, BatchBuilder, RECORD_LEN};
use netlink_core::socket::Datagram;

use crate::buffer::{Bytes, Words};
use crate::panic::Point;

/// The policy of the attribute at fault (`NLMSGERR_ATTR_POLICY`).
#[napi(object)]
pub struct PolicyJs {
    #[napi(js_name = "type")]
    pub kind: Option<u32>,
    pub min_value: Option<BigInt>,
    pub max_value: Option<BigInt>,
    pub min_length: Option<u32>,
    pub max_length: Option<u32>,
    pub policy_index: Option<u32>,
    pub policy_max_type: Option<u32>,
    pub bitfield32_mask: Option<u32>,
    pub mask: Option<BigInt>,
}

/// An extended acknowledgement (`NLMSGERR_ATTR_*`).
#[napi(object, object_from_js = false)]
pub struct ExtAckJs {
    pub message: Option<String>,
    pub offset: Option<u32>,
    #[napi(ts_type = "Buffer")]
    pub cookie: Option<Bytes>,
    pub policy: Option<PolicyJs>,
    pub missing_type: Option<u32>,
    pub missing_nest: Option<u32>,
}

/// The arguments the batch callback is called with, spread.
pub type BatchArgs = FnArgs<(Bytes, Words, Vec<ExtAckJs>)>;

/// A batch read on the JavaScript thread, returned rather than called
/// back with.
#[napi(object, object_from_js = false)]
pub struct BatchJs {
    #[napi(ts_type = "Buffer")]
    pub data: Bytes,
    #[napi(ts_type = "Uint32Array")]
    pub records: Words,
    pub ext_acks: Vec<ExtAckJs>,
}

/// Moves a batch's memory into JavaScript values, without copying it
/// unless external buffers are off (see `buffer`).
pub fn to_object(batch: Batch) -> BatchJs {
    crate::panic::at(Point::Batch);
    BatchJs {
        data: Bytes(batch.data),
        records: Words(batch.records),
        ext_acks: batch.ext_acks.into_iter().map(ext_ack).collect(),
    }
}

/// `to_object`, where nothing may unwind. A panic loses the batch; what
/// JavaScript gets instead is `overrun()`.
pub fn to_object_or_overrun(batch: Batch) -> BatchJs {
    panic::catch_unwind(AssertUnwindSafe(|| to_object(batch)))
        .unwrap_or_else(|_| overrun())
}

/// A batch of one `OVERRUN` record, for a batch lost to a panic: the Conn
/// reports it as `ENOBUFS` like any other loss of data, so waiting
/// requests fail instead of waiting for replies that will never come.
pub fn overrun() -> BatchJs {
    let mut records = vec![0u32; RECORD_LEN];
    records[field::KIND] = kind::OVERRUN;
    records[field::ERRNO] = libc::ENOBUFS as u32;
    BatchJs {
        data: Bytes(Vec::new()),
        records: Words(records),
        ext_acks: Vec::new(),
    }
}

/// `to_object_or_overrun`, as the arguments of the batch callback.
pub fn to_js_or_overrun(batch: Batch) -> BatchArgs {
    let BatchJs {
        data,
        records,
        ext_acks,
    } = to_object_or_overrun(batch);
    FnArgs::from((data, records, ext_acks))
}

fn ext_ack(ext: ExtAck) -> ExtAckJs {
    ExtAckJs {
        message: ext.message,
        offset: ext.offset,
        cookie: ext.cookie.map(Bytes),
        policy: ext.policy.map(policy),
        missing_type: ext.missing_type,
        missing_nest: ext.missing_nest,
    }
}

fn policy(p: Policy) -> PolicyJs {
    // The kernel sends signed or unsigned bounds, never both.
    let min = p.min_value_signed.map(BigInt::from);
    let max = p.max_value_signed.map(BigInt::from);
    PolicyJs {
        kind: p.kind,
        min_value: min.or(p.min_value_unsigned.map(BigInt::from)),
        max_value: max.or(p.max_value_unsigned.map(BigInt::from)),
        min_length: p.min_length,
        max_length: p.max_length,
        policy_index: p.policy_index,
        policy_max_type: p.policy_max_type,
        bitfield32_mask: p.bitfield32_mask,
        mask: p.mask.map(BigInt::from),
    }
}

/// The batch the I/O thread would make of one datagram sent by the kernel
/// to `group` (0 for unicast), for test doubles: a fake transport's replies
/// then go through the very parser a socket's do.
// Called from JavaScript only, so a test build sees no caller.
#[cfg_attr(test, allow(dead_code))]
#[napi(catch_unwind)]
pub fn batch_of(datagram: Buffer, group: u32, raw: bool) -> BatchJs {
    let mut builder = BatchBuilder::new(datagram.len(), raw);
    builder.spare().copy_from_slice(&datagram);
    builder.push_datagram(&Datagram {
        length: datagram.len(),
        group,
        ..Datagram::default()
    });
    to_object(builder.take())
}

/// Bytes of batch memory the process keeps for reuse now (see
/// `netlink_core::pool`), for tests.
// Called from JavaScript only, so a test build sees no caller.
#[cfg_attr(test, allow(dead_code))]
#[napi(catch_unwind)]
pub fn pooled_bytes() -> f64 {
    netlink_core::pool::shared().held() as f64
}
