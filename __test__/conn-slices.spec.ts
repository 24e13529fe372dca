/**
 * How a Conn routes what the I/O thread hands over: a batch may hold a
 * burst of thousands of messages, and routing it must still let the
 * event loop turn every few milliseconds.
 */
import test from 'ava'

import { batchOf } from '../binding'
import { Conn, type BatchHandler } from '../lib/conn'
import { Family } from '../lib/constants'
import { FakeTransport } from '../lib/testing/transport'

/** One datagram of `count` bare messages, with sequences 1 to `count`. */
function messages(count: number): Buffer {
  const datagram = Buffer.alloc(16 * count)
  for (let i = 0; i < count; i++) {
    datagram.writeUInt32LE(16, 16 * i) // length
    datagram.writeUInt16LE(24, 16 * i + 4) // RTM_NEWROUTE
    datagram.writeUInt32LE(i + 1, 16 * i + 8) // sequence
  }
  return datagram
}

test('a large batch is routed in slices the event loop runs between', async (t) => {
  let deliver: BatchHandler | undefined
  const conn = new Conn(Family.ROUTE, {}, (options, onBatch) => {
    deliver = onBatch
    return new FakeTransport(options, onBatch, () => null)
  })
  const count = 100_000
  const batch = batchOf(messages(count), 7, false)

  let seen = 0
  let inOrder = true
  const reading = (async () => {
    for await (const message of conn.receive()) {
      inOrder &&= message.header.sequence === seen + 1
      if (++seen === count) return
    }
  })()

  // Queued before the batch comes: it runs at the first turn after.
  let seenAtFirstTurn = -1
  setImmediate(() => (seenAtFirstTurn = seen))
  deliver?.(batch.data, batch.records, batch.extAcks)
  await reading
  await conn.close()

  t.true(seenAtFirstTurn > 0, `${seenAtFirstTurn} routed before the turn`)
  t.true(seenAtFirstTurn < count, `${seenAtFirstTurn} routed before the turn`)
  t.is(seen, count)
  t.true(inOrder)
})
