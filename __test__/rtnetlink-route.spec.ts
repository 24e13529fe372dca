/**
 * Routes: decoding and encoding `RTM_*ROUTE` through a fake Conn, then
 * every operation against the kernel in a namespace of the test's own.
 */
import test, { type ExecutionContext } from 'ava'
import { AttributeEncoder, HeaderFlags, NetlinkError } from '../index'
import type { Message } from '../lib/message'
import { readU32, writeU16, writeU32 } from '../lib/host-order'
import {
  RTM_DELROUTE,
  RTM_GETROUTE,
  RTM_NEWROUTE,
} from '../lib/rtnetlink/constants'
import { MalformedError } from '../lib/rtnetlink/request'
import {
  Routes,
  decodeRoute,
  routeKey,
  type Route,
  type RouteInit,
} from '../lib/rtnetlink/route'
import { checkRequest, errorReply, multipart, type Handler } from '../testing'
import {
  fakeRoute,
  refusedUnsent,
  refusesNonConns,
  sentBy,
  type BadArgument,
} from './helpers/collections'
import { caught, dialIn } from './helpers/conn'
import {
  decodesOrIsMalformed,
  garbageIsMalformed,
  refusesNonMessages,
  isMalformed,
  messageOf,
  truncatedIsMalformed,
} from './helpers/decoders'
import { ipBatch, ipIn, kernelTest } from './helpers/netns'

const RTA_DST = 1
const RTA_OIF = 4
const RTA_GATEWAY = 5
const RTA_PRIORITY = 6
const RTA_TABLE = 15
const RTA_MARK = 16

/** Fields of `struct rtmsg`; left out ones are zero. */
interface RtMsg {
  family?: number
  dstLength?: number
  srcLength?: number
  tos?: number
  table?: number
  protocol?: number
  scope?: number
  type?: number
  flags?: number
}

function rtmsg(h: RtMsg, attrs: Buffer = Buffer.alloc(0)): Buffer {
  const b = Buffer.alloc(12)
  b[0] = h.family ?? 2
  b[1] = h.dstLength ?? 0
  b[2] = h.srcLength ?? 0
  b[3] = h.tos ?? 0
  b[4] = h.table ?? 0
  b[5] = h.protocol ?? 0
  b[6] = h.scope ?? 0
  b[7] = h.type ?? 0
  writeU32(b, h.flags ?? 0, 8)
  return Buffer.concat([b, attrs])
}

function message(data: Buffer, type = RTM_NEWROUTE): Message {
  return messageOf(data, type)
}

/** A route to 198.18.1.0/24 via 192.0.2.2 on link 3, in table 100. */
function sampleRoute(): Buffer {
  const attrs = new AttributeEncoder()
    .bytes(RTA_DST, Buffer.from([198, 18, 1, 0]))
    .bytes(RTA_GATEWAY, Buffer.from([192, 0, 2, 2]))
    .uint32(RTA_OIF, 3)
    .uint32(RTA_PRIORITY, 10)
    .uint32(RTA_TABLE, 100)
    .uint32(RTA_MARK, 7)
    .encode()
  return rtmsg(
    { dstLength: 24, table: 100, protocol: 4, type: 1, flags: 0x4 },
    attrs,
  )
}

/** A fake whose Conn is closed when the test ends, and its Routes. */
function fake(t: ExecutionContext, handler: Handler) {
  const f = fakeRoute(t, handler)
  return { ...f, routes: new Routes(f.conn) }
}

test('decodeRoute reads the header and the modelled attributes', (t) => {
  const r = decodeRoute(message(sampleRoute()))

  t.like(r, {
    family: 'inet',
    destination: '198.18.1.0/24',
    gateway: '192.0.2.2',
    index: 3,
    table: 100,
    priority: 10,
    protocol: 'static',
    scope: 'global',
    type: 'unicast',
    tos: 0,
    flags: ['onlink'],
  })
})

test('decodeRoute keeps unmodelled attributes as bytes', (t) => {
  const r = decodeRoute(message(sampleRoute()))

  t.deepEqual(r.attributes, [
    { type: RTA_MARK, data: Buffer.from([7, 0, 0, 0]) },
  ])
})

test('decodeRoute names a zero-length destination default', (t) => {
  const r = decodeRoute(message(rtmsg({ table: 254, type: 1 })))

  t.is(r.destination, 'default')
  t.is(r.table, 254)
})

test('decodeRoute gives unknown numbers as decimal strings', (t) => {
  const r = decodeRoute(message(rtmsg({ protocol: 77, scope: 99, type: 40 })))

  t.is(r.protocol, '77')
  t.is(r.scope, '99')
  t.is(r.type, '40')
})

test('decodeRoute names unknown flag bits in hex', (t) => {
  const r = decodeRoute(message(rtmsg({ flags: 0x200 | 0x40000 })))

  t.deepEqual(r.flags, ['cloned', '0x40000'])
})

test('any message decodes or is a MalformedError, nothing else', (t) => {
  decodesOrIsMalformed(t, decodeRoute, {
    headerSize: 12,
    families: [0, 2, 10, 128],
    maxType: 30,
  })
})

test('a truncated rtmsg is a MalformedError', (t) => {
  truncatedIsMalformed(t, decodeRoute, 12)
})

test('garbage attributes are a MalformedError', (t) => {
  garbageIsMalformed(t, decodeRoute, rtmsg({}), /^route: attribute at offset 0/)
})

test('a gateway of the wrong size is a MalformedError', (t) => {
  const attrs = new AttributeEncoder()
    .bytes(RTA_GATEWAY, Buffer.from([1, 2, 3]))
    .encode()

  isMalformed(t, decodeRoute, rtmsg({}, attrs), /RTA_GATEWAY of 3 bytes/)
})

test('a prefix length over the family size is a MalformedError', (t) => {
  isMalformed(t, decodeRoute, rtmsg({ dstLength: 33 }))
})

test('a route of another family is a MalformedError', (t) => {
  isMalformed(t, decodeRoute, rtmsg({ family: 128 }), /family 128/)
})

test('a next hop running past RTA_MULTIPATH is a MalformedError', (t) => {
  const hop = Buffer.alloc(8)
  writeU16(hop, 40, 0)
  const attrs = new AttributeEncoder().bytes(9, hop).encode()

  isMalformed(t, decodeRoute, rtmsg({}, attrs), /RTA_MULTIPATH/)
})

test('list rejects with a MalformedError for a garbled reply', async (t) => {
  const { routes } = fake(t, () =>
    multipart([{ header: { type: RTM_NEWROUTE }, data: Buffer.alloc(3) }]),
  )

  await t.throwsAsync(routes.list(), { instanceOf: MalformedError })
})

test('list sends a strict dump: zero header, no attributes', async (t) => {
  const request = await sentBy(t, Routes, (routes) => routes.list())

  checkRequest(request, RTM_GETROUTE, HeaderFlags.Dump)
  t.deepEqual(request.data, Buffer.alloc(12))
})

test('list filters by table and link in RTA_TABLE and RTA_OIF', async (t) => {
  const request = await sentBy(t, Routes, (routes) =>
    routes.list({ family: 'inet6', table: 'main', index: 4 }),
  )

  const want = new AttributeEncoder()
    .uint32(RTA_TABLE, 254)
    .uint32(RTA_OIF, 4)
    .encode()
  t.deepEqual(request.data, rtmsg({ family: 10 }, want))
})

test('list also filters what the kernel sends', async (t) => {
  const other = rtmsg({ table: 254 })
  const { routes } = fake(t, () =>
    multipart([
      { header: { type: RTM_NEWROUTE }, data: sampleRoute() },
      { header: { type: RTM_NEWROUTE }, data: other },
    ]),
  )

  const listed = await routes.list({ table: 100, index: 3 })

  t.deepEqual(
    listed.map((r) => r.destination),
    ['198.18.1.0/24'],
  )
})

test('list leaves out routes of other families', async (t) => {
  const { routes } = fake(t, () =>
    multipart([
      { header: { type: RTM_NEWROUTE }, data: rtmsg({ family: 128 }) },
      { header: { type: RTM_NEWROUTE }, data: sampleRoute() },
    ]),
  )

  const listed = await routes.list()

  t.is(listed.length, 1)
  t.is(listed[0].family, 'inet')
})

test('list of a table that does not exist is empty', async (t) => {
  const { routes } = fake(t, () =>
    errorReply('ENOENT', { message: 'ipv4: FIB table does not exist' }),
  )

  t.deepEqual(await routes.list({ family: 'inet', table: 77 }), [])
})

test('list passes other kernel errors on', async (t) => {
  const { routes } = fake(t, () => errorReply('EPERM'))

  await t.throwsAsync(routes.list(), {
    instanceOf: NetlinkError,
    code: 'EPERM',
  })
})

test('add encodes what decodeRoute decodes', async (t) => {
  const init: RouteInit = {
    destination: '198.18.4.0/24',
    gateway: '192.0.2.2',
    index: 3,
    table: 100,
    priority: 20,
    protocol: 'static',
    preferredSource: '192.0.2.1',
    metrics: { mtu: 1400, congctl: 'reno' },
  }
  const request = await sentBy(t, Routes, (routes) => routes.add(init))

  checkRequest(
    request,
    RTM_NEWROUTE,
    HeaderFlags.Create | HeaderFlags.Excl | HeaderFlags.Acknowledge,
  )
  t.like(decodeRoute(request), {
    ...init,
    family: 'inet',
    scope: 'global',
    type: 'unicast',
  })
})

test('add defaults to table main, protocol boot, link scope', async (t) => {
  const request = await sentBy(t, Routes, (routes) =>
    routes.add({ destination: '198.18.5.0/24', index: 3 }),
  )

  t.like(decodeRoute(request), {
    table: 254,
    protocol: 'boot',
    scope: 'link',
    type: 'unicast',
  })
  t.is(request.data[4], 254)
})

test('a table over 255 goes in RTA_TABLE only', async (t) => {
  const request = await sentBy(t, Routes, (routes) =>
    routes.add({ destination: '198.18.5.0/24', index: 3, table: 1000 }),
  )

  t.is(request.data[4], 0)
  t.is(decodeRoute(request).table, 1000)
})

test('multipath next hops round-trip with weights and flags', async (t) => {
  const nexthops = [
    { gateway: '192.0.2.2', index: 3, weight: 1, flags: [] },
    { gateway: '192.0.2.3', index: 4, weight: 256, flags: ['onlink'] },
  ]
  const request = await sentBy(t, Routes, (routes) =>
    routes.replace({ destination: '198.18.6.0/24', nexthops }),
  )

  checkRequest(request, RTM_NEWROUTE, HeaderFlags.Create | HeaderFlags.Replace)
  const r = decodeRoute(request)
  t.deepEqual(r.nexthops, nexthops)
  t.is(r.scope, 'global')
})

test('an IPv6 gateway of an IPv4 route goes in RTA_VIA', async (t) => {
  const request = await sentBy(t, Routes, (routes) =>
    routes.add({ destination: '198.18.7.0/24', gateway: '2001:db8::2' }),
  )

  const r = decodeRoute(request)
  t.is(r.family, 'inet')
  t.is(r.gateway, '2001:db8::2')
})

test('the family of a default route comes from its gateway', async (t) => {
  const request = await sentBy(t, Routes, (routes) =>
    routes.add({ destination: 'default', gateway: '2001:db8::1' }),
  )

  t.like(decodeRoute(request), { family: 'inet6', destination: 'default' })
})

test('delete leaves type and protocol open and scope nowhere', async (t) => {
  const request = await sentBy(t, Routes, (routes) =>
    routes.delete({ destination: '198.18.1.0/24' }),
  )

  checkRequest(request, RTM_DELROUTE, HeaderFlags.Acknowledge)
  t.like(decodeRoute(request), {
    type: 'unspec',
    protocol: 'unspec',
    scope: 'nowhere',
    table: 254,
  })
})

test('a decoded route can be passed back to delete', async (t) => {
  const route = decodeRoute(message(sampleRoute()))
  const request = await sentBy(t, Routes, (routes) => routes.delete(route))

  t.deepEqual(decodeRoute(request), route)
})

test('get asks for a full-length destination', async (t) => {
  const f = fake(t, () => ({
    header: { type: RTM_NEWROUTE },
    data: sampleRoute(),
  }))

  const r = await f.routes.get('198.18.1.9', { index: 3, fibMatch: true })

  const request = f.requests[0]
  checkRequest(request, RTM_GETROUTE)
  t.is(request.header.flags & HeaderFlags.Dump, 0)
  t.is(request.data[1], 32)
  t.is(readU32(request.data, 8), 0x2000)
  t.is(r.gateway, '192.0.2.2')
})

test('get passes the kernel error on', async (t) => {
  const { routes } = fake(t, () => errorReply('ENETUNREACH'))

  await t.throwsAsync(routes.get('198.18.1.9'), {
    instanceOf: NetlinkError,
    code: 'ENETUNREACH',
  })
})

const badInits: BadArgument[] = [
  ['no destination', {}, /init.destination/, 'TypeError'],
  [
    'a bad gateway',
    { destination: 'default', gateway: 'x' },
    /init.gateway/,
    'TypeError',
  ],
  ['an unknown field', { destination: 'default', via: 1 }, /via/, 'TypeError'],
  [
    'a prefix too long',
    { destination: '198.18.0.0/33' },
    /init.destination/,
    'RangeError',
  ],
  [
    'a table out of range',
    { destination: 'default', table: -1 },
    /init.table/,
    'RangeError',
  ],
  [
    'an unknown protocol',
    { destination: 'default', protocol: 'nope' },
    /init.protocol/,
    'TypeError',
  ],
  [
    'an unknown flag',
    { destination: 'default', flags: ['nope'] },
    /init.flags\[0\]/,
    'TypeError',
  ],
  [
    'a weight of 0',
    { destination: 'default', nexthops: [{ weight: 0 }] },
    /init.nexthops\[0\].weight/,
    'RangeError',
  ],
  [
    'mixed families',
    { destination: '198.18.0.0/16', family: 'inet6' },
    /init.destination/,
    'TypeError',
  ],
  [
    'a bad metric',
    { destination: 'default', metrics: { mtu: 'x' } },
    /init.metrics.mtu/,
    'TypeError',
  ],
  [
    'a bad raw attribute',
    { destination: 'default', attributes: [{}] },
    /init.attributes\[0\].type/,
    'TypeError',
  ],
]

for (const bad of badInits) {
  const [what, , , name] = bad
  test(`add refuses ${what} with a ${name} naming the field`, async (t) => {
    await refusedUnsent(t, Routes, bad, (routes, init) =>
      routes.add(init as RouteInit),
    )
  })
}

test('list and get refuse bad arguments', async (t) => {
  const { routes } = fake(t, () => null)

  await t.throwsAsync(() => routes.list({ table: 'nope' }), {
    instanceOf: TypeError,
  })
  await t.throwsAsync(() => routes.list({ index: 0 }), {
    instanceOf: RangeError,
  })
  await t.throwsAsync(() => routes.get('198.18.0.1/24'), {
    instanceOf: TypeError,
  })
})

test('routeKey tells the same route from another', (t) => {
  const r = decodeRoute(message(sampleRoute()))
  const changed: Route = { ...r, gateway: '192.0.2.9', protocol: 'boot' }
  const other: Route = { ...r, priority: 11 }

  t.is(routeKey(changed), routeKey(r))
  t.not(routeKey(other), routeKey(r))
})

test('new Routes refuses something that is not a Conn', (t) => {
  refusesNonConns(t, Routes)
})

test('decodeRoute refuses what is not a message', (t) => {
  refusesNonMessages(t, decodeRoute)
})

// Against the kernel.

/** Two veths with addresses; returns the index of `va`. */
function setUp(ns: string): { va: number; vb: number } {
  ipBatch(ns, [
    'link add va type veth peer name vb',
    'link set va up',
    'link set vb up',
    'addr add 192.0.2.1/24 dev va',
    'addr add 2001:db8::1/64 dev va nodad',
  ])
  return { va: linkIndex(ns, 'va'), vb: linkIndex(ns, 'vb') }
}

function linkIndex(ns: string, name: string): number {
  const [link] = JSON.parse(ipIn(ns, '-j', 'link', 'show', 'dev', name))
  return link.ifindex as number
}

function routesIn(t: ExecutionContext, ns: string): Routes {
  return new Routes(dialIn(t, ns, { strict: true }))
}

kernelTest('add, replace and delete a route in main', async (t, ns) => {
  const { va } = setUp(ns)
  const routes = routesIn(t, ns)
  const find = async () =>
    (await routes.list({ table: 'main' })).find(
      (r) => r.destination === '198.18.1.0/24',
    )

  await routes.add({ destination: '198.18.1.0/24', gateway: '192.0.2.2' })
  t.like(await find(), {
    gateway: '192.0.2.2',
    index: va,
    table: 254,
    protocol: 'boot',
    scope: 'global',
    type: 'unicast',
  })

  await routes.replace({ destination: '198.18.1.0/24', gateway: '192.0.2.3' })
  t.is((await find())?.gateway, '192.0.2.3')
  t.regex(ipIn(ns, 'route', 'show', '198.18.1.0/24'), /via 192\.0\.2\.3/)

  await routes.delete({ destination: '198.18.1.0/24' })
  t.is(await find(), undefined)
})

kernelTest('routes in table 100 list apart from main', async (t, ns) => {
  const { va } = setUp(ns)
  const routes = routesIn(t, ns)

  await routes.add({ destination: '198.18.2.0/24', index: va, table: 100 })
  await routes.add({ destination: '198.18.3.0/24', index: va })

  const inTable = await routes.list({ table: 100 })
  t.deepEqual(
    inTable.map((r) => [r.destination, r.table, r.scope]),
    [['198.18.2.0/24', 100, 'link']],
  )
  const all = await routes.list()
  t.true(all.some((r) => r.destination === '198.18.2.0/24'))
  t.true(all.some((r) => r.destination === '198.18.3.0/24'))
  t.regex(ipIn(ns, 'route', 'show', 'table', '100'), /198\.18\.2\.0\/24/)
})

kernelTest('list filters by family and link', async (t, ns) => {
  const { va, vb } = setUp(ns)
  const routes = routesIn(t, ns)

  const v6 = await routes.list({ family: 'inet6' })
  const onVb = await routes.list({ index: vb })

  t.true(v6.length > 0)
  t.true(v6.every((r) => r.family === 'inet6'))
  t.true(onVb.length > 0)
  t.true(onVb.every((r) => r.index === vb))
  t.false(onVb.some((r) => r.index === va))
})

kernelTest('an IPv6 route with a metric round-trips', async (t, ns) => {
  setUp(ns)
  const routes = routesIn(t, ns)
  const init = {
    destination: '2001:db8:1::/48',
    gateway: '2001:db8::2',
    priority: 42,
    protocol: 'static',
  }

  await routes.add(init)
  const [r] = await routes
    .list({ family: 'inet6', table: 254 })
    .then((rs) => rs.filter((x) => x.destination === init.destination))

  t.like(r, { ...init, family: 'inet6', preference: 'medium' })
  await routes.delete(r)
  t.notRegex(ipIn(ns, '-6', 'route', 'show'), /2001:db8:1::/)
})

kernelTest('a multipath route lists both next hops', async (t, ns) => {
  const { va } = setUp(ns)
  const routes = routesIn(t, ns)

  await routes.add({
    destination: '198.18.4.0/24',
    nexthops: [
      { gateway: '192.0.2.2', weight: 1 },
      { gateway: '192.0.2.3', weight: 3 },
    ],
  })

  const r = (await routes.list({ table: 254 })).find(
    (x) => x.destination === '198.18.4.0/24',
  )
  t.deepEqual(r?.nexthops, [
    { gateway: '192.0.2.2', index: va, weight: 1, flags: [] },
    { gateway: '192.0.2.3', index: va, weight: 3, flags: [] },
  ])
  const shown = ipIn(ns, 'route', 'show', '198.18.4.0/24')
  t.regex(shown, /nexthop via 192\.0\.2\.3 dev va weight 3/)
})

kernelTest('metrics are written and read back', async (t, ns) => {
  const { va } = setUp(ns)
  const routes = routesIn(t, ns)

  await routes.add({
    destination: '198.18.5.0/24',
    index: va,
    metrics: { mtu: 1400, hoplimit: 9 },
  })

  const r = (await routes.list({ index: va })).find(
    (x) => x.destination === '198.18.5.0/24',
  )
  t.deepEqual(r?.metrics, { mtu: 1400, hoplimit: 9 })
  t.regex(ipIn(ns, 'route', 'show', '198.18.5.0/24'), /mtu 1400/)
})

kernelTest('get finds the route to a destination', async (t, ns) => {
  const { va } = setUp(ns)
  const routes = routesIn(t, ns)
  await routes.add({ destination: '198.18.6.0/24', gateway: '192.0.2.2' })

  const r = await routes.get('198.18.6.77')
  const matched = await routes.get('198.18.6.77', { fibMatch: true })

  t.like(r, {
    destination: '198.18.6.77/32',
    gateway: '192.0.2.2',
    index: va,
    preferredSource: '192.0.2.1',
  })
  t.true(r.flags.includes('cloned'))
  t.is(matched.destination, '198.18.6.0/24')
})

kernelTest('get with no route is ENETUNREACH', async (t, ns) => {
  const routes = routesIn(t, ns)

  const err = await caught(() => routes.get('198.18.6.77'))

  t.true(err instanceof NetlinkError)
  t.is((err as NetlinkError).code, 'ENETUNREACH')
})

kernelTest('a gateway on no link carries the kernel message', async (t, ns) => {
  setUp(ns)
  const routes = routesIn(t, ns)

  const err = await caught(() =>
    routes.add({ destination: '198.18.7.0/24', gateway: '198.18.200.1' }),
  )

  t.true(err instanceof NetlinkError)
  t.is((err as NetlinkError).code, 'ENETUNREACH')
  t.is((err as NetlinkError).extAck?.message, 'Nexthop has invalid gateway')
})

kernelTest('adding a route twice is EEXIST', async (t, ns) => {
  const { va } = setUp(ns)
  const routes = routesIn(t, ns)
  const init = { destination: '198.18.8.0/24', index: va }

  await routes.add(init)
  const err = await caught(() => routes.add(init))

  t.is((err as NetlinkError).code, 'EEXIST')
})

kernelTest('deleting a missing route is ESRCH', async (t, ns) => {
  setUp(ns)
  const routes = routesIn(t, ns)

  const err = await caught(() =>
    routes.delete({ destination: '198.18.9.0/24' }),
  )

  t.is((err as NetlinkError).code, 'ESRCH')
})

kernelTest('a table that does not exist lists empty', async (t, ns) => {
  const routes = routesIn(t, ns)

  t.deepEqual(await routes.list({ family: 'inet', table: 4242 }), [])
})

kernelTest('concurrent calls on one Conn get their answers', async (t, ns) => {
  const { va } = setUp(ns)
  const routes = routesIn(t, ns)
  const subnets = Array.from({ length: 20 }, (_, i) => `198.18.${10 + i}`)
  await Promise.all(
    subnets.map((s) => routes.add({ destination: `${s}.0/24`, index: va })),
  )

  const [gets, lists] = await Promise.all([
    Promise.all(subnets.map((s) => routes.get(`${s}.1`, { fibMatch: true }))),
    Promise.all(subnets.map(() => routes.list({ table: 'main' }))),
  ])

  t.deepEqual(
    gets.map((r) => r.destination),
    subnets.map((s) => `${s}.0/24`),
  )
  for (const listed of lists) {
    const ours = listed.filter((r) => r.destination.startsWith('198.18.'))
    t.is(ours.length, subnets.length)
  }
})

kernelTest('a route through a next-hop object names its id', async (t, ns) => {
  setUp(ns)
  ipIn(ns, 'nexthop', 'add', 'id', '7', 'via', '192.0.2.2', 'dev', 'va')
  const routes = routesIn(t, ns)

  await routes.add({ destination: '198.18.30.0/24', nexthopId: 7 })

  const r = (await routes.list({ table: 'main' })).find(
    (x) => x.destination === '198.18.30.0/24',
  )
  t.like(r, { nexthopId: 7, scope: 'global', gateway: '192.0.2.2' })
  t.regex(ipIn(ns, 'route', 'show', '198.18.30.0/24'), /nhid 7/)
})

kernelTest('get finds an IPv6 route from a given source', async (t, ns) => {
  const { va } = setUp(ns)
  const routes = routesIn(t, ns)
  await routes.add({ destination: '2001:db8:5::/48', gateway: '2001:db8::2' })

  const r = await routes.get('2001:db8:5::9', {
    source: '2001:db8::1',
    index: va,
  })

  t.like(r, {
    family: 'inet6',
    destination: '2001:db8:5::9/128',
    source: '2001:db8::1/128',
    gateway: '2001:db8::2',
    index: va,
  })
})
