/**
 * Closing a Conn in the middle of things: many requests in flight, a
 * dump half read through `receive()`, a `for await` body suspended on
 * something else, and close called twice. Everything pending rejects or
 * ends with `EBADF`; nothing hangs.
 */
import type { ExecutionContext } from 'ava'
import { HeaderType, NetlinkError } from '../index'
import { caught, dialIn } from './helpers/conn'
import { ipBatch, kernelTest, uniqueName } from './helpers/netns'
import { RTM_NEWLINK, RTNLGRP_LINK, getLink, getLinkDump } from './helpers/rtnl'

/** A request the kernel never answers: `NLMSG_NOOP` without ACK. */
const NEVER_ANSWERED = { header: { type: HeaderType.Noop } }

function isEBADF(t: ExecutionContext, err: unknown): void {
  t.true(err instanceof NetlinkError, String(err))
  t.is((err as NetlinkError).code, 'EBADF')
}

/** Adds `count` bridges to `ns`, enough links for a dump of many parts. */
function addBridges(ns: string, count: number): void {
  const lines = []
  for (let i = 0; i < count; i++) {
    lines.push(`link add ${uniqueName('nlt')} type bridge`)
  }
  ipBatch(ns, lines)
}

kernelTest(
  'close rejects a thousand executes in flight with EBADF',
  async (t, ns) => {
    const conn = dialIn(t, ns)
    const pending = []
    for (let i = 0; i < 1000; i++) {
      pending.push(caught(() => conn.execute(NEVER_ANSWERED)))
    }
    // The kernel has seen every request once the next one is answered.
    await conn.execute(getLink(1))

    await conn.close()

    const errors = await Promise.all(pending)
    t.is(errors.length, 1000)
    for (const err of errors) isEBADF(t, err)
  },
)

kernelTest(
  'close during a dump read through receive ends the reader with EBADF',
  async (t, ns) => {
    addBridges(ns, 300)
    const conn = dialIn(t, ns)
    const dump = getLinkDump()
    await conn.send(dump)

    let read = 0
    const err = await caught(async () => {
      for await (const m of conn.receive()) {
        t.is(m.header.type, RTM_NEWLINK)
        // Ten links in, far from the DONE of three hundred.
        if (++read === 10) void conn.close()
      }
    })

    isEBADF(t, err)
    t.is(read, 10)
    isEBADF(t, await caught(() => conn.receive().next()))
  },
)

kernelTest(
  'close while a for-await body awaits ends the loop with EBADF',
  async (t, ns) => {
    const conn = dialIn(t, ns)
    conn.joinGroup(RTNLGRP_LINK)
    let release: () => void = () => {}
    const held = new Promise<void>((done) => (release = done))
    let bodies = 0

    const loop = caught(async () => {
      for await (const m of conn.receive()) {
        void m
        bodies++
        await held
      }
    })
    ipBatch(ns, [`link add ${uniqueName('nlt')} type bridge`])
    // The notification is in the body once the request after it is back
    // and a turn of the event loop has passed.
    await conn.execute(getLink(1))
    await new Promise((done) => setImmediate(done))

    await conn.close()
    release()

    isEBADF(t, await loop)
    t.is(bodies, 1)
  },
)

kernelTest(
  'close twice, at once and later, resolves each time',
  async (t, ns) => {
    const conn = dialIn(t, ns)
    const pending = caught(() => conn.execute(NEVER_ANSWERED))

    await Promise.all([conn.close(), conn.close()])
    await conn.close()

    isEBADF(t, await pending)
    // Counters stay readable after close.
    t.is(typeof conn.stats().datagrams, 'number')
    isEBADF(t, await caught(() => conn.execute(getLink(1))))
  },
)
