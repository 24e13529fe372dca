/**
 * How a Conn routes what the I/O thread hands over: a batch may hold a
 * burst of thousands of messages, and routing it must still let the
 * event loop turn every few milliseconds.
 */
import test from 'ava'

import { batchOf } from '../binding'
import { Conn, type BatchHandler } from '../lib/conn'
import { Family, HeaderFlags, HeaderType } from '../lib/constants'
import type { NetlinkError } from '../lib/errors'
import type { Message } from '../lib/message'
import { FakeTransport } from '../lib/testing/transport'
import { fedConn, marked } from './helpers/routing'

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

test('parts of a dump in a run still see what comes between', async (t) => {
  // Parts of one dump that follow each other in a batch are added to it
  // without routing each: a reply to another request, a message nobody
  // waits for and a part flagged interrupted must break such a run.
  const { conn, transport, deliver } = fedConn()
  const dump = conn.execute({ header: { type: 26, flags: HeaderFlags.Dump } })
  const single = conn.execute({ header: { type: 18 } })
  const [s, other] = transport.requests.map((m) => m.header.sequence)
  const { Multi, DumpInterrupted } = HeaderFlags
  const datagram = Buffer.concat([
    marked(24, Multi, s, 1),
    marked(24, Multi, s, 2),
    marked(24, Multi | DumpInterrupted, s, 3),
    marked(16, 0, other, 100),
    marked(24, Multi, s, 4),
    marked(24, Multi, s + 1000, 200),
    marked(24, Multi, s, 5),
    marked(HeaderType.Done, Multi, s, 0),
  ])
  const received = conn.receive()[Symbol.asyncIterator]().next()

  deliver(datagram)

  const mark = (m: { data: Buffer }) => m.data.readUInt32LE(0)
  t.deepEqual((await single).map(mark), [100])
  const err = await t.throwsAsync<NetlinkError>(dump)
  t.is(err?.code, 'EINTR')
  const messages = (err as unknown as { messages: Message[] }).messages
  t.deepEqual(messages.map(mark), [1, 2, 3, 4, 5])
  t.is(mark((await received).value as Message), 200)
  await conn.close()
})
