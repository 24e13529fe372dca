/**
 * `Conn[eachReply]`, which the rtnetlink collections decode dumps with:
 * each message of a reply is handed over as it is routed.
 */
import test from 'ava'

import type { Conn, Message } from '../index'
import { Field, Kind, RECORD_LEN } from '../lib/batch'
import { eachReply } from '../lib/conn'
import { HeaderFlags, HeaderType } from '../lib/constants'
import { Links } from '../lib/rtnetlink/links'
import { dialIn } from './helpers/conn'
import { ipBatch, kernelTest } from './helpers/netns'
import { fedConn, marked } from './helpers/routing'
import { RTM_NEWLINK, getLinkDump, linkNames } from './helpers/rtnl'

/** Veth pairs: a dump of them spans many datagrams. */
const PAIRS = 200

function addVeths(ns: string): void {
  ipBatch(
    ns,
    Array.from(
      { length: PAIRS },
      (_, i) => `link add e${i}a type veth peer name e${i}b`,
    ),
  )
}

kernelTest(
  'a dump is handed over as it is routed, letting the event loop turn',
  async (t, ns) => {
    addVeths(ns)
    const conn = dialIn(t, ns)

    // Turns of the event loop, counted from an immediate. Handed over as
    // they are routed, messages that take long to take in are spread
    // over routing slices, with turns in between; handed over once the
    // dump has ended, they would all come in one turn.
    let turn = 0
    let counting = true
    const count = () => {
      turn++
      if (counting) setImmediate(count)
    }
    setImmediate(count)

    const turns = new Set<number>()
    const messages: Message[] = []
    await conn[eachReply](getLinkDump(), (m) => {
      turns.add(turn)
      messages.push(m)
      busy(0.05)
    })
    counting = false

    t.is(new Set(linkNames(messages)).size, 2 * PAIRS + 1)
    t.true(turns.size > 1, `handed over in ${turns.size} turn(s)`)
  },
)

/** Keeps the thread busy for `ms` milliseconds. */
function busy(ms: number): void {
  const until = performance.now() + ms
  while (performance.now() < until) {
    // Spinning stands for a decoder's work.
  }
}

kernelTest(
  'what the callback throws rejects the dump and the Conn goes on',
  async (t, ns) => {
    addVeths(ns)
    const conn = dialIn(t, ns)
    const thrown = new Error('no more')

    let calls = 0
    const failed = conn[eachReply](getLinkDump(), () => {
      calls++
      if (calls === 10) throw thrown
    })

    t.is(await t.throwsAsync(failed), thrown)
    t.is(calls, 10)
    const after = await conn.execute(getLinkDump())
    t.is(after.filter((m) => m.header.type === RTM_NEWLINK).length, 401)
  },
)

kernelTest('eachReply wants a function to hand over to', async (t, ns) => {
  const conn = dialIn(t, ns)
  const each = 'each' as unknown as (m: Message) => void

  t.throws(() => conn[eachReply](getLinkDump(), each), {
    instanceOf: TypeError,
  })
})

kernelTest(
  'a collection over something with only execute still lists links',
  async (t, ns) => {
    addVeths(ns)
    const conn = dialIn(t, ns)
    const bare = { execute: conn.execute.bind(conn) } as unknown as Conn

    const links = await new Links(bare).list()

    t.is(links.length, 2 * PAIRS + 1)
    t.true(links.some((l) => l.name === 'e0a'))
  },
)

test('an overrun fails no dump under way or waiting its turn', async (t) => {
  // The kernel makes a dump's next part only when the socket has room,
  // so an overrun does not cut a dump under way: neither gathered nor
  // handed over, the dump must go on to its DONE.
  const { conn, transport, deliver, deliverRecords } = fedConn()
  const handed: Message[] = []
  const gathered = conn.execute(getLinkDump())
  const each = conn[eachReply](getLinkDump(), (m) => handed.push(m))
  const overrun = new Uint32Array(RECORD_LEN)
  overrun[Field.Kind] = Kind.Overrun
  const { Multi } = HeaderFlags

  // The second dump waits for the first, and is not sent during the
  // first overrun; each dump gets a part before an overrun, then the rest.
  const first = transport.requests[0].header.sequence
  deliver(marked(RTM_NEWLINK, Multi, first))
  deliverRecords(overrun)
  deliver(marked(HeaderType.Done, Multi, first))
  t.is((await gathered).length, 1)

  const second = transport.requests[1].header.sequence
  deliver(marked(RTM_NEWLINK, Multi, second))
  deliverRecords(overrun)
  deliver(marked(RTM_NEWLINK, Multi, second))
  deliver(marked(HeaderType.Done, Multi, second))
  await each
  t.is(handed.length, 2)
  await conn.close()
})
