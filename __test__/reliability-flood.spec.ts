/**
 * Floods of notifications against consumers that fall behind: one that
 * never reads while tens of thousands of routes are added, and one whose
 * loop body throws. Nothing aborts, memory stays within the documented
 * bound (32 MiB held by the I/O thread plus `maxQueuedBytes`), the loss
 * is reported as `ENOBUFS`, and reading goes on afterwards.
 */
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { NetlinkError, type Conn } from '../index'
import { caught, dialIn, receiveUntil } from './helpers/conn'
import { ipBatchAsync, ipIn, kernelTest } from './helpers/netns'
import { RTM_NEWROUTE, RTNLGRP_IPV4_ROUTE, getLink } from './helpers/rtnl'

/** Routes to add in one flood. */
const ROUTES = 20_000

/** What the I/O thread and the receive queue may hold, and some slack. */
const QUEUE_BYTES = 1 << 20
const MEMORY_BOUND = (32 << 20) + QUEUE_BYTES + (8 << 20)

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

/**
 * Memory held once garbage is collected: the JavaScript heap in use and
 * what native code allocated for it (batches). RSS is no measure here:
 * V8 keeps the heap it grew to for the flood's garbage.
 */
function held(): number {
  gc()
  const { heapUsed, external } = process.memoryUsage()
  return heapUsed + external
}

/** `ip -batch` lines adding `count` host routes from 198.18.0.0/16. */
function routes(count: number, verb = 'add'): string[] {
  const lines = []
  for (let i = 0; i < count; i++) {
    lines.push(`route ${verb} 198.18.${i >> 8}.${i & 255}/32 dev lo`)
  }
  return lines
}

/**
 * Reads until the route to 198.19.0.`last` is announced, going on past
 * the `ENOBUFS` errors that mark each overrun of the flood before it.
 */
async function routeTo(conn: Conn, last: number): Promise<number> {
  const wanted = Buffer.from([198, 19, 0, last])
  let overruns = 0
  for (;;) {
    try {
      await receiveUntil(
        conn,
        (m) => m.header.type === RTM_NEWROUTE && m.data.includes(wanted),
      )
      return overruns
    } catch (err) {
      if (!(err instanceof NetlinkError && err.code === 'ENOBUFS')) throw err
      overruns++
    }
  }
}

kernelTest(
  'a consumer that never reads stays bounded, sees ENOBUFS, reads on',
  async (t, ns) => {
    ipIn(ns, 'link', 'set', 'lo', 'up')
    const conn = dialIn(t, ns, {
      maxQueuedBytes: QUEUE_BYTES,
      readBufferSize: 16 << 10,
    })
    conn.joinGroup(RTNLGRP_IPV4_ROUTE)
    const before = held()

    await ipBatchAsync(ns, routes(ROUTES))
    // The reply comes after every notification the kernel kept.
    await conn.execute(getLink(1))
    const grown = held() - before

    let delivered = 0
    const err = await caught(async () => {
      for await (const m of conn.receive()) {
        void m
        delivered++
      }
    })
    t.true(err instanceof NetlinkError, String(err))
    t.is((err as NetlinkError).code, 'ENOBUFS')
    const stats = conn.stats()
    t.true(stats.overruns + stats.queueDrops > 0, 'the loss was not counted')
    t.true(grown < MEMORY_BOUND, `memory held grew ${grown} bytes`)
    t.log(
      `${ROUTES} routes: ${delivered} delivered before ENOBUFS, ` +
        `${stats.overruns} overruns, ${stats.queueDrops} queue drops, ` +
        `memory held +${grown} bytes`,
    )

    ipIn(ns, 'route', 'add', '198.19.0.1/32', 'dev', 'lo')
    const more = await routeTo(conn, 1)
    t.log(`${more} more ENOBUFS before the next route`)
  },
)

kernelTest(
  'a consumer whose loop throws during a flood can read again',
  async (t, ns) => {
    ipIn(ns, 'link', 'set', 'lo', 'up')
    const conn = dialIn(t, ns)
    conn.joinGroup(RTNLGRP_IPV4_ROUTE)
    const flood = ipBatchAsync(ns, routes(ROUTES))

    const thrown = new Error('the consumer failed')
    const err = await caught(async () => {
      for await (const m of conn.receive()) {
        if (m.header.type === RTM_NEWROUTE) throw thrown
      }
    })
    t.is(err, thrown)
    await flood

    ipIn(ns, 'route', 'add', '198.19.0.2/32', 'dev', 'lo')
    await routeTo(conn, 2)
  },
)
