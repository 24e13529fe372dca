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
 * A batch of replies read at once: records `from` to `to` of `records`,
 * whose offsets count from the start of `data`.
 */
export interface EarlyBatch extends BatchJs {
  from: number
  to: number
}

/**
 * Memory that `sendThenReadInto` writes replies into, after what earlier
 * calls wrote. A reply is handed out as the range of records it took, in
 * the arena's own arrays, and the next call writes after it; when the
 * room left runs short, fresh memory is taken and the old stays with the
 * messages that hold it. So a reply read at once costs no copy, no view
 * and no allocation of its own, and nothing handed out is ever written
 * again. Used from one thread, one call at a time.
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
  claim(fields: number): EarlyBatch {
    const records = this.records
    const from = this.recordsAt
    const to = from + fields
    let end = this.dataAt
    for (let at = from; at < to; at += RECORD_LEN) {
      const stop = records[at + Field.Offset] + records[at + Field.Length]
      if (stop > end) end = stop
    }
    // The next reply starts 8-aligned, as the binding's batches do.
    this.dataAt = Math.min(this.data.length, (end + 7) & ~7)
    this.recordsAt = to
    return { data: this.data, records, extAcks: NO_ACKS, from, to }
  }
}

/** A whole batch as an `EarlyBatch`. */
export function wholeBatch(batch: BatchJs): EarlyBatch {
  return {
    data: batch.data,
    records: batch.records,
    extAcks: batch.extAcks,
    from: 0,
    to: batch.records.length,
  }
}

/** An `EarlyBatch` as a batch of its records alone, for the inbox. */
export function ownBatch(batch: EarlyBatch): BatchJs {
  const { data, records, extAcks, from, to } = batch
  if (from === 0 && to === records.length) return batch
  return { data, records: records.subarray(from, to), extAcks }
}
