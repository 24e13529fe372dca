/**
 * The rtnetlink monitor against the kernel: typed events for a link
 * created, an address added and a route deleted; and after an overrun
 * forced by a tiny receive buffer and a burst, a resync that leaves no
 * change unreported.
 */
import { setTimeout as delay } from 'node:timers/promises'
import test from 'ava'
import { dialFake } from '../testing'
import { RouteConn, type ChangeEvent, type RouteEvent } from '../rtnetlink'
import { caught } from './helpers/conn'
import { ipBatch, ipIn, kernelTest } from './helpers/netns'
import { routeIn } from './helpers/route'

/** Reads `events` until `match` holds for one, which it returns. */
async function until(
  events: AsyncIterator<RouteEvent>,
  match: (e: RouteEvent) => boolean,
): Promise<RouteEvent> {
  for (;;) {
    const next = await events.next()
    if (next.done) throw new Error('the monitor ended')
    if (match(next.value)) return next.value
  }
}

/**
 * Starts `events` (its first `next()` joins the groups) and returns an
 * iterator that yields its events from the first on.
 */
function start(events: AsyncIterator<RouteEvent>): AsyncIterator<RouteEvent> {
  let first: Promise<IteratorResult<RouteEvent>> | undefined = events.next()
  return {
    next: () => {
      const p = first ?? events.next()
      first = undefined
      return p
    },
  }
}

kernelTest(
  'monitor sees a link created, an address added and a route deleted',
  async (t, ns) => {
    const rt = routeIn(t, ns)
    const events = rt.monitor()
    const it = start(events)

    ipIn(ns, 'link', 'add', 'va', 'type', 'veth', 'peer', 'name', 'vb')
    ipIn(ns, 'link', 'set', 'va', 'up')
    ipIn(ns, 'addr', 'add', '198.18.0.1/24', 'dev', 'va')
    ipIn(ns, 'route', 'add', '198.19.1.0/24', 'via', '198.18.0.2')
    ipIn(ns, 'route', 'del', '198.19.1.0/24')

    const link = await until(
      it,
      (e) => e.kind === 'link' && e.object.name === 'va',
    )
    const address = await until(
      it,
      (e) => e.kind === 'address' && e.object.address === '198.18.0.1',
    )
    const route = await until(
      it,
      (e) =>
        e.kind === 'route' &&
        e.action === 'delete' &&
        e.object.destination === '198.19.1.0/24',
    )
    await events.return?.()

    t.is((link as ChangeEvent).action, 'new')
    t.is((address as ChangeEvent).action, 'new')
    t.is(address.kind === 'address' && address.object.prefixLength, 24)
    t.is(route.kind === 'route' && route.object.gateway, '198.18.0.2')
  },
)

kernelTest(
  'after a forced overrun the resync reports every change missed',
  async (t, ns) => {
    ipIn(ns, 'link', 'add', 'va', 'type', 'veth', 'peer', 'name', 'vb')
    ipIn(ns, 'link', 'set', 'va', 'up')
    ipIn(ns, 'addr', 'add', '198.18.0.1/16', 'dev', 'va')
    const rt = routeIn(t, ns)

    // The smallest receive buffer the kernel allows holds a handful of
    // notifications, and the queue a few more. Once the first event is
    // in, nobody reads until the burst is over, so most of a burst of
    // thousands must be dropped.
    const events = rt.monitor({
      kinds: ['route'],
      resync: true,
      readBufferSize: 1,
      maxQueuedBytes: 4096,
    })
    const it = start(events)
    ipIn(ns, 'route', 'add', '198.18.255.0/24', 'via', '198.18.0.2')
    const first = await it.next()
    const count = 5000
    const lines = []
    for (let i = 0; i < count; i++) {
      const ip = `198.19.${i >> 8}.${i & 0xff}`
      lines.push(`route add ${ip}/32 via 198.18.0.2`)
    }
    lines.push('route add 192.0.2.0/24 via 198.18.0.2')
    ipBatch(ns, lines)
    await delay(200)

    // Follow the routes' state from the events alone, until the last
    // route of the burst is known and the resync, if any, is over.
    const routes = new Set<string>()
    let overruns = 0
    let next = first
    while (!next.done) {
      const e = next.value
      if (e.kind === 'overrun') overruns++
      if (e.kind === 'route' && e.object.table === 254) {
        if (e.action === 'new') routes.add(e.object.destination)
        else routes.delete(e.object.destination)
      }
      const burst = [...routes].filter((r) => r.startsWith('198.19.'))
      if (routes.has('192.0.2.0/24') && burst.length === count) break
      next = await it.next()
    }
    await events.return?.()

    t.true(overruns > 0, 'the burst forced no overrun on this machine')
    t.is([...routes].filter((r) => r.startsWith('198.19.')).length, count)
  },
)

test('monitor options are checked', async (t) => {
  const { conn } = dialFake(() => null)
  const rt = new RouteConn(conn)
  t.teardown(() => rt.close())

  const cases: [unknown, RegExp][] = [
    [{ kinds: [] }, /options\.kinds/],
    [{ kinds: ['rule'] }, /unknown kind/],
    [{ resync: 1 }, /options\.resync/],
    [{ readBufferSize: 0 }, /options\.readBufferSize/],
    [{ colour: 'red' }, /unknown option colour/],
  ]
  for (const [options, message] of cases) {
    const err = await caught(() => rt.monitor(options as never))
    t.regex((err as Error).message, message)
  }
})

test('an undecodable event is yielded as an error, not thrown', async (t) => {
  const { conn, notify } = dialFake(() => null)
  const rt = new RouteConn(conn)
  t.teardown(() => rt.close())
  const events = rt.monitor({ kinds: ['link'] })
  const first = events.next()

  notify(1, { header: { type: 16 }, data: Buffer.alloc(3) })

  const e = (await first).value as RouteEvent
  t.is(e.kind, 'error')
  t.regex(e.kind === 'error' ? e.error.message : '', /shorter than/)
})
