/**
 * Where replies read at once are written: memory shared by the Conns of a
 * thread, handed out a piece at a time and never written twice.
 */
import type { BatchJs, ExtAckJs } from '../binding'
import { Field, RECORD_LEN } from './batch'

/** Bytes of a data arena: what a held reply may keep alive at most. */
const DATA_BYTES = 32 << 10
/** Room a call needs; a reply that does not fit comes as its own batch. */
const DATA_ROOM = 8 << 10
/** Record fields of a records arena, and the room a call needs. */
const RECORD_FIELDS = 2048
const RECORD_ROOM = 16 * RECORD_LEN
const NO_ACKS: ExtAckJs[] = []

/**
 * Memory that `sendThenReadInto` writes replies into, after what earlier
 * calls wrote. The part a reply took is handed out as views and the next
 * call writes after it; when the room left runs short, fresh memory is
 * taken and the old stays with the views that hold it. So a reply read at
 * once costs two views, no copy and no allocation of its own, and nothing
 * handed out is ever written again. Used from one thread, one call at a
 * time.
 */
export class ReplyArena {
  data = Buffer.allocUnsafeSlow(DATA_BYTES)
  dataAt = 0
  records = new Uint32Array(RECORD_FIELDS)
  recordsAt = 0

  /** Makes sure the next call has room. */
  prepare(): void {
    if (this.data.length - this.dataAt < DATA_ROOM) {
      this.data = Buffer.allocUnsafeSlow(DATA_BYTES)
      this.dataAt = 0
    }
    if (this.records.length - this.recordsAt < RECORD_ROOM) {
      this.records = new Uint32Array(RECORD_FIELDS)
      this.recordsAt = 0
    }
  }

  /** Hands out the `fields` record fields the call wrote, and their data. */
  claim(fields: number): BatchJs {
    const records = this.records
    const first = this.recordsAt
    let end = 0
    for (let at = first; at < first + fields; at += RECORD_LEN) {
      const stop = records[at + Field.Offset] + records[at + Field.Length]
      if (stop > end) end = stop
    }
    const start = this.dataAt
    const data = this.data.subarray(start, start + end)
    // The next reply starts 8-aligned, as the binding's batches do.
    this.dataAt = Math.min(this.data.length, (start + end + 7) & ~7)
    this.recordsAt = first + fields
    return {
      data,
      records: records.subarray(first, first + fields),
      extAcks: NO_ACKS,
    }
  }
}
