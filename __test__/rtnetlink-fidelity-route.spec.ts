/**
 * Fidelity: in a namespace with veths, a bridge with a port, a vxlan,
 * IPv4 and IPv6 addresses, routes in several tables and neighbours, what
 * `Routes.list` and `Neighbours.list` return matches what iproute2's
 * `ip -j` prints from the same kernel, object for object, on the fields
 * both carry.
 */
import { execFileSync } from 'node:child_process'
import { setTimeout as sleep } from 'node:timers/promises'
import { isDeepStrictEqual } from 'node:util'

import type { ExecutionContext } from 'ava'
import { Neighbours, type Neighbour } from '../lib/rtnetlink/neighbour'
import { Routes, type Nexthop, type Route } from '../lib/rtnetlink/route'
import { dialIn } from './helpers/conn'
import { ipBatch, ipIn, kernelTest } from './helpers/netns'

/** An object with its undefined fields dropped, for comparing. */
type Plain = Record<string, unknown>

function plain(o: Plain): Plain {
  return Object.fromEntries(
    Object.entries(o).filter(([, v]) => v !== undefined),
  )
}

/** Builds the namespace the comparisons run in. */
function populate(ns: string): void {
  ipBatch(ns, [
    'link set lo up',
    'link add va type veth peer name vb',
    'link add vc type veth peer name vd',
    'link add br0 type bridge',
    'link set vc master br0',
    'link add vx0 type vxlan id 42 dstport 4789 local 192.0.2.1 dev va',
    'link set vx0 master br0',
    'link set va up',
    'link set vb up',
    'link set vc up',
    'link set vd up',
    'link set br0 up',
    'link set vx0 up',
    'addr add 192.0.2.1/26 dev va',
    'addr add 192.0.2.65/26 dev br0',
    'addr add 2001:db8::1/64 dev va nodad',
    'addr add 2001:db8:1::1/64 dev br0 nodad',
    'route add 198.18.1.0/24 via 192.0.2.2',
    'route add 198.18.2.0/24 dev va table 100 proto static',
    'route add default via 192.0.2.2 table 200 metric 5',
    'route add blackhole 198.18.3.0/24',
    'route add unreachable 198.18.4.0/24 table 100',
    'route add prohibit 198.18.4.0/24 table 1000',
    'route add 198.18.5.0/24 nexthop via 192.0.2.2 weight 2' +
      ' nexthop via 192.0.2.66 dev br0',
    'route add 198.18.6.0/24 via 192.0.2.3 src 192.0.2.1 mtu 1400',
    'route add 198.18.7.0/24 dev br0 scope link proto 99',
    'nexthop add id 7 via 192.0.2.2 dev va',
    'route add 198.18.8.0/24 nhid 7 table 200',
    'route add 2001:db8:2::/48 via 2001:db8::2 metric 42',
    'route add 2001:db8:3::/48 table 100 nexthop via 2001:db8::2' +
      ' nexthop via 2001:db8:1::2',
    'neigh add 192.0.2.2 lladdr 02:00:00:00:00:02 dev va nud permanent',
    'neigh add 192.0.2.3 lladdr 02:00:00:00:00:03 dev va nud stale',
    'neigh add 192.0.2.66 lladdr 02:00:00:00:00:42 dev br0 nud reachable',
    'neigh add 2001:db8::2 lladdr 02:00:00:00:00:62 dev va router',
    'neigh add 2001:db8:1::2 lladdr 02:00:00:00:00:63 dev br0 nud noarp',
  ])
}

/** Interface indexes by name, from `ip -j link show`. */
function indexes(ns: string): Map<string, number> {
  const links = JSON.parse(ipIn(ns, '-j', 'link', 'show')) as Plain[]
  return new Map(links.map((l) => [l.ifname as string, l.ifindex as number]))
}

/** Runs iproute2's `bridge -n NS args...` and returns what it printed. */
function bridge(ns: string, ...args: string[]): string {
  return execFileSync('bridge', ['-n', ns, ...args], { encoding: 'utf8' })
}

/** `bridge -j fdb show`: the bridge tool's view of the fdb. */
function bridgeFdb(ns: string): Plain[] {
  return JSON.parse(bridge(ns, '-j', 'fdb', 'show'))
}

const TABLES: Record<string, number> = { default: 253, main: 254, local: 255 }

/** A route as iproute2's JSON has it, in `Route`'s terms. */
function fromIp(r: Plain, index: Map<string, number>): Plain {
  const dst = r.dst as string
  const full = dst.includes(':') ? '/128' : '/32'
  const table = (r.table as string | undefined) ?? 'main'
  const hops = r.nexthops as Plain[] | undefined
  return plain({
    destination: dst === 'default' || dst.includes('/') ? dst : dst + full,
    gateway: r.gateway,
    index: r.dev === undefined ? undefined : index.get(r.dev as string),
    table: TABLES[table] ?? Number(table),
    priority: r.metric,
    protocol: r.protocol ?? 'boot',
    scope: r.scope ?? 'global',
    type: r.type ?? 'unicast',
    preferredSource: r.prefsrc,
    nexthopId: r.nhid,
    nexthops: hops?.map((h) =>
      plain({
        gateway: h.gateway,
        index: index.get(h.dev as string),
        weight: h.weight,
      }),
    ),
  })
}

/** The same fields of a `Route`. */
function fromLibrary(r: Route): Plain {
  return plain({
    destination: r.destination,
    gateway: r.gateway,
    index: r.index,
    table: r.table,
    priority: r.priority,
    protocol: r.protocol,
    scope: r.scope,
    type: r.type,
    preferredSource: r.preferredSource,
    nexthopId: r.nexthopId,
    nexthops: r.nexthops?.map((h: Nexthop) =>
      plain({ gateway: h.gateway, index: h.index, weight: h.weight }),
    ),
  })
}

/** A neighbour as iproute2's JSON has it, in `Neighbour`'s terms. */
function neighbourFromIp(n: Plain, index: Map<string, number>): Plain {
  return plain({
    address: n.dst,
    index: index.get(n.dev as string),
    lladdr: n.lladdr,
    state: n.state ?? ['NONE'],
    router: 'router' in n,
  })
}

function neighbourFromLibrary(n: Neighbour): Plain {
  return plain({
    address: n.address,
    index: n.index,
    lladdr: n.lladdr,
    state: n.state,
    router: n.router,
  })
}

/**
 * Reads the library's list between two readings of iproute2's until
 * those agree, so that what the kernel adds on its own meanwhile (IPv6
 * multicast neighbours, link-local routes once DAD ends) cannot make the
 * two differ.
 */
async function snapshot(
  ours: () => Promise<Plain[]>,
  theirs: () => Plain[],
): Promise<[Plain[], Plain[]]> {
  for (let attempt = 1; ; attempt++) {
    const before = theirs()
    const listed = await ours()
    const after = theirs()
    if (isDeepStrictEqual(before, after) || attempt === 50) {
      return [listed, after]
    }
    await sleep(100)
  }
}

function compare(t: ExecutionContext, ours: Plain[], theirs: Plain[]) {
  t.true(theirs.length > 0)
  t.is(ours.length, theirs.length)
  t.log(`${ours.length} objects compared`)
  ours.forEach((o, i) => t.deepEqual(o, theirs[i], `object ${i}`))
}

kernelTest('routes match ip -j route show table all', async (t, ns) => {
  populate(ns)
  const routes = new Routes(dialIn(t, ns, { strict: true }))
  const index = indexes(ns)

  const [ours, shown] = await snapshot(
    async () => (await routes.list()).map(fromLibrary),
    () =>
      JSON.parse(ipIn(ns, '-j', 'route', 'show', 'table', 'all')).map(
        (r: Plain) => fromIp(r, index),
      ),
  )

  compare(t, ours, shown)
})

kernelTest('one table matches ip -j route show table 100', async (t, ns) => {
  populate(ns)
  const routes = new Routes(dialIn(t, ns, { strict: true }))
  const index = indexes(ns)

  // Listing one table, iproute2 leaves the table out of its objects.
  const show = (...args: string[]) =>
    JSON.parse(ipIn(ns, '-j', ...args, 'route', 'show', 'table', '100'))
  const [ours, shown] = await snapshot(
    async () => (await routes.list({ table: 100 })).map(fromLibrary),
    () =>
      [...show('-4'), ...show('-6')].map((r: Plain) =>
        fromIp({ ...r, table: '100' }, index),
      ),
  )

  compare(t, ours, shown)
})

kernelTest('neighbours match ip -j neigh show nud all', async (t, ns) => {
  populate(ns)
  const neighbours = new Neighbours(dialIn(t, ns, { strict: true }))
  const index = indexes(ns)

  const [ours, shown] = await snapshot(
    async () => (await neighbours.list()).map(neighbourFromLibrary),
    () =>
      JSON.parse(ipIn(ns, '-j', 'neigh', 'show', 'nud', 'all')).map(
        (n: Plain) => neighbourFromIp(n, index),
      ),
  )

  compare(t, ours, shown)
})

kernelTest('bridge entries match bridge -j fdb show', async (t, ns) => {
  populate(ns)
  ipIn(ns, 'link', 'set', 'vc', 'address', '02:00:00:00:00:0c')
  bridge(
    ns,
    'fdb',
    'append',
    '00:00:00:00:00:00',
    'dev',
    'vx0',
    'dst',
    '192.0.2.2',
  )
  const neighbours = new Neighbours(dialIn(t, ns, { strict: true }))
  const index = indexes(ns)

  const [ours, shown] = await snapshot(
    async () =>
      (await neighbours.list({ family: 'bridge' })).map((n) =>
        plain({
          address: n.address,
          lladdr: n.lladdr,
          index: n.index,
          master: n.master,
          vlan: n.vlan,
        }),
      ),
    () =>
      bridgeFdb(ns).map((f) =>
        plain({
          address: f.dst ?? f.mac,
          lladdr: f.mac,
          index: index.get(f.ifname as string),
          master:
            f.master === undefined ? undefined : index.get(f.master as string),
          vlan: f.vlan,
        }),
      ),
  )

  // The vxlan's entry names its remote; the others are addressed by MAC.
  t.true(ours.some((n) => n.address === '192.0.2.2'))
  compare(t, ours, shown)
})
