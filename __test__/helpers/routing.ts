/**
 * Routing tests without a kernel: a Conn over a fake transport that
 * answers nothing, fed batches by hand as the I/O thread would feed it.
 */
import { batchOf } from '../../binding'
import { Conn, type BatchHandler } from '../../lib/conn'
import { Family } from '../../lib/constants'
import { FakeTransport } from '../../lib/testing/transport'

/** A Conn, its transport, and the way to hand it batches. */
export interface Fed {
  conn: Conn
  transport: FakeTransport
  /** Hands over the batch the binding makes of one kernel datagram. */
  deliver(datagram: Buffer): void
  /** Hands over records as they are, with no bytes. */
  deliverRecords(records: Uint32Array): void
}

/** A ROUTE Conn whose requests are recorded and never answered. */
export function fedConn(): Fed {
  let onBatch: BatchHandler | undefined
  let transport: FakeTransport | undefined
  const conn = new Conn(Family.ROUTE, {}, (options, handler) => {
    onBatch = handler
    transport = new FakeTransport(options, handler, () => new Promise(() => {}))
    return transport
  })
  const handler = onBatch as BatchHandler
  return {
    conn,
    transport: transport as FakeTransport,
    deliver(datagram) {
      const batch = batchOf(datagram, 0, false)
      handler(batch.data, batch.records, batch.extAcks)
    },
    deliverRecords(records) {
      handler(Buffer.alloc(0), records, [])
    },
  }
}

/**
 * A message of `type`, `flags` and `sequence` whose four-byte payload is
 * `mark`, to tell messages apart.
 */
export function marked(
  type: number,
  flags: number,
  sequence: number,
  mark = 0,
): Buffer {
  const bytes = Buffer.alloc(20)
  bytes.writeUInt32LE(20, 0)
  bytes.writeUInt16LE(type, 4)
  bytes.writeUInt16LE(flags, 6)
  bytes.writeUInt32LE(sequence, 8)
  bytes.writeUInt32LE(mark, 16)
  return bytes
}
