/**
 * Where a turn's gathered requests are sent: on the JavaScript thread,
 * reading the replies at once, until the kernel's work on them has taken
 * a slice of time; then by the I/O thread, so that slow requests in
 * flight do not hold the event loop for all of their length. (That
 * quick ones all go from the JavaScript thread depends on the clock, and
 * shows in the benchmark's 64 in flight.)
 */
import test from 'ava'

import type { BatchJs } from '../binding'
import { Conn } from '../lib/conn'
import { Family } from '../lib/constants'
import { FakeTransport } from '../lib/testing/transport'

/** A transport whose in-line sends take `cost` ms, as a slow kernel's. */
class SlowTransport extends FakeTransport {
  /** How many requests each path sent, datagram by datagram. */
  readonly inline: number[] = []
  readonly handedOver: number[] = []
  cost = 0

  sendThenRead(datagram: Buffer): BatchJs | null {
    const until = performance.now() + this.cost
    while (performance.now() < until);
    this.inline.push(requestsIn(datagram))
    this.send(datagram)
    return null
  }

  enqueue(datagram: Buffer): void {
    this.handedOver.push(requestsIn(datagram))
    this.send(datagram)
  }

  watch(): void {}
}

function requestsIn(datagram: Buffer): number {
  let count = 0
  for (let at = 0; at < datagram.length; at += datagram.readUInt32LE(at)) {
    count++
  }
  return count
}

function dialSlow(): [Conn, SlowTransport] {
  let transport: SlowTransport | undefined
  const conn = new Conn(Family.ROUTE, {}, (options, onBatch) => {
    transport = new SlowTransport(options, onBatch, () => ({
      header: { type: 16 },
      data: Buffer.alloc(16),
    }))
    return transport
  })
  return [conn, transport as SlowTransport]
}

const getLink = { header: { type: 18 }, data: Buffer.alloc(16) }

test('slow gathered requests go to the I/O thread after a slice', async (t) => {
  const [conn, transport] = dialSlow()
  transport.cost = 3

  // A lone request, then 100 more in the same turn: 32 bytes each, 16
  // to a 512-byte datagram.
  const replies = await Promise.all(
    Array.from({ length: 101 }, () => conn.execute(getLink)),
  )
  await conn.close()

  t.is(replies.length, 101)
  t.deepEqual(transport.inline, [1, 16])
  t.deepEqual(transport.handedOver, [16, 16, 16, 16, 16, 4])
})
