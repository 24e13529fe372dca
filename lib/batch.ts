/**
 * The batch layout the binding hands over, mirrored from
 * `crates/netlink-core/src/batch.rs`: one Buffer of datagrams and a flat
 * Uint32Array of records, `RECORD_LEN` fields each.
 */
import type { ReceivedMessage } from './conn'

/** Fields per record. */
export const RECORD_LEN = 11

/** Field positions in a record. */
export const Field = {
  Kind: 0,
  Offset: 1,
  Length: 2,
  TypeFlags: 3,
  Sequence: 4,
  Pid: 5,
  Port: 6,
  Group: 7,
  Errno: 8,
  ExtAck: 9,
  Nsid: 10,
} as const

/** Record kinds (the low byte of `Field.Kind`). */
export const Kind = {
  Message: 0,
  Datagram: 1,
  Overrun: 2,
  Truncated: 3,
  Malformed: 4,
} as const

/** Flag in `Field.Kind`: `Field.Nsid` holds a namespace id. */
export const HAS_NSID = 0x100

/**
 * The message of record `at` (an index into `records`, not a record
 * number). `data` is a view into the batch buffer, which nothing writes
 * again.
 */
export function messageAt(
  data: Buffer,
  records: Uint32Array,
  at: number,
): ReceivedMessage {
  const offset = records[at + Field.Offset]
  const length = records[at + Field.Length]
  const typeFlags = records[at + Field.TypeFlags]
  const raw = (records[at + Field.Kind] & 0xff) === Kind.Datagram

  const message: ReceivedMessage = {
    header: {
      length,
      type: typeFlags & 0xffff,
      flags: typeFlags >>> 16,
      sequence: records[at + Field.Sequence],
      pid: records[at + Field.Pid],
    },
    data: data.subarray(raw ? offset : offset + 16, offset + length),
    group: records[at + Field.Group],
    port: records[at + Field.Port],
  }
  if (records[at + Field.Kind] & HAS_NSID) {
    message.nsid = records[at + Field.Nsid] | 0
  }
  return message
}
