/**
 * Typed links against the kernel: listing and getting, creating each kind
 * the kernel here has, changing and deleting, the kernel's errors, and
 * argument checks.
 */
import test from 'ava'
import { AttributeEncoder, NetlinkError } from '../index'
import { dialFake } from '../testing'
import { Links, RouteConn, decodeLink } from '../rtnetlink'
import { refusesEach, refusesNonConns } from './helpers/collections'
import { caught } from './helpers/conn'
import {
  decodesOrIsMalformed,
  garbageIsMalformed,
  messageOf,
  refusesNonMessages,
  truncatedIsMalformed,
} from './helpers/decoders'
import {
  createNetns,
  deleteNetns,
  ipBatch,
  ipIn,
  kernelTest,
  probeIp,
  uniqueName,
} from './helpers/netns'
import { linkIndexes, routeIn } from './helpers/route'

/** Why `lines` fail in a fresh namespace, or undefined if they do not. */
function probeBatch(lines: string[]): string | undefined {
  let ns: string | undefined
  try {
    ns = createNetns()
    ipBatch(ns, lines)
    return undefined
  } catch (err) {
    return (err as Error).message
  } finally {
    if (ns !== undefined) deleteNetns(ns)
  }
}

// Kinds some kernels build as modules or leave out.
const NO_VLAN = probeBatch([
  'link add va type veth peer name vb',
  'link add va.5 link va type vlan id 5',
])
const NO_BOND = probeIp('link', 'add', 'bond0', 'type', 'bond')

kernelTest('list shows the loopback link as ip does', async (t, ns) => {
  const rt = routeIn(t, ns)

  const links = await rt.links.list()

  const lo = links.find((l) => l.name === 'lo')
  t.is(lo?.index, 1)
  t.is(lo?.type, 'loopback')
  t.true(lo?.flags.includes('LOOPBACK'))
  t.is(lo?.address, '00:00:00:00:00:00')
  t.is(typeof lo?.stats?.rxPackets, 'bigint')
})

kernelTest(
  'create makes a veth pair whose ends name each other',
  async (t, ns) => {
    const rt = routeIn(t, ns)
    const [a, b] = [uniqueName('va'), uniqueName('vb')]

    const peer = { name: b }
    await rt.links.create({ name: a, kind: 'veth', info: { peer } })

    const ends = await Promise.all([rt.links.get(a), rt.links.get(b)])
    t.is(ends[0].kind, 'veth')
    t.is(ends[1].kind, 'veth')
    t.is(ends[0].link, ends[1].index)
    t.is(ends[1].link, ends[0].index)
    t.deepEqual(linkIndexes(ns).get(a), ends[0].index)
  },
)

kernelTest('create puts a veth peer in another namespace', async (t, ns) => {
  const other = createNetns()
  t.teardown(() => deleteNetns(other))
  const rt = routeIn(t, ns)

  await rt.links.create({
    name: 'va',
    kind: 'veth',
    info: { peer: { name: 'vb', netns: other } },
  })

  t.true(linkIndexes(other).has('vb'))
  t.false(linkIndexes(ns).has('vb'))
  const va = await rt.links.get('va')
  t.is(typeof va.linkNetnsId, 'number')
})

kernelTest('get finds a link by index and by name', async (t, ns) => {
  const rt = routeIn(t, ns)

  const byIndex = await rt.links.get(1)
  const byName = await rt.links.get('lo')

  t.is(byIndex.name, 'lo')
  t.is(byName.index, 1)
})

kernelTest('get of a missing link rejects with ENODEV', async (t, ns) => {
  const rt = routeIn(t, ns)

  const err = await caught(() => rt.links.get('nosuch0'))

  t.true(err instanceof NetlinkError)
  t.is((err as NetlinkError).code, 'ENODEV')
})

kernelTest(
  'a bridge is created with its settings and gets ports',
  async (t, ns) => {
    const rt = routeIn(t, ns)
    ipIn(ns, 'link', 'add', 'va', 'type', 'veth', 'peer', 'name', 'vb')

    await rt.links.create({
      name: 'br0',
      kind: 'bridge',
      info: { forwardDelay: 500, priority: 4096 },
    })
    const br = await rt.links.get('br0')
    await rt.links.set('va', { master: br.index })

    t.is(br.info?.forwardDelay, 500)
    t.is(br.info?.priority, 4096)
    const ports = await rt.links.list({ master: br.index })
    t.deepEqual(
      ports.map((l) => l.name),
      ['va'],
    )
    t.is(ports[0].slaveKind, 'bridge')

    await rt.links.set('va', { master: 0 })
    t.is((await rt.links.get('va')).master, undefined)
  },
)

kernelTest('list filters by kind in the kernel', async (t, ns) => {
  const rt = routeIn(t, ns)
  ipIn(ns, 'link', 'add', 'va', 'type', 'veth', 'peer', 'name', 'vb')
  ipIn(ns, 'link', 'add', 'br0', 'type', 'bridge')

  const veths = await rt.links.list({ kind: 'veth' })
  const bridges = await rt.links.list({ kind: 'bridge' })

  t.deepEqual(veths.map((l) => l.name).sort(), ['va', 'vb'])
  t.deepEqual(
    bridges.map((l) => l.name),
    ['br0'],
  )
})

kernelTest('a vxlan keeps its id, local address and port', async (t, ns) => {
  const rt = routeIn(t, ns)

  await rt.links.create({
    name: 'vx0',
    kind: 'vxlan',
    info: { id: 42, local: '192.0.2.1', port: 4789, ttl: 8 },
  })

  const vx = await rt.links.get('vx0')
  t.is(vx.kind, 'vxlan')
  t.is(vx.info?.id, 42)
  t.is(vx.info?.local, '192.0.2.1')
  t.is(vx.info?.port, 4789)
  t.is(vx.info?.ttl, 8)
})

kernelTest('a macvlan on a veth reads back its mode', async (t, ns) => {
  const rt = routeIn(t, ns)
  ipIn(ns, 'link', 'add', 'va', 'type', 'veth', 'peer', 'name', 'vb')
  const va = await rt.links.get('va')

  await rt.links.create({
    name: 'mv0',
    kind: 'macvlan',
    link: va.index,
    info: { mode: 'bridge' },
  })

  const mv = await rt.links.get('mv0')
  t.is(mv.info?.mode, 'bridge')
  t.is(mv.link, va.index)
})

kernelTest.requiring(
  NO_VLAN,
  'a vlan on a veth reads back its id',
  async (t, ns) => {
    const rt = routeIn(t, ns)
    ipIn(ns, 'link', 'add', 'va', 'type', 'veth', 'peer', 'name', 'vb')
    const va = await rt.links.get('va')

    await rt.links.create({
      name: 'va.100',
      kind: 'vlan',
      link: va.index,
      info: { id: 100 },
    })

    const vlan = await rt.links.get('va.100')
    t.is(vlan.info?.id, 100)
    t.is(vlan.info?.protocol, 0x8100)
  },
)

kernelTest.requiring(
  NO_BOND,
  'a bond reads back its mode and miimon',
  async (t, ns) => {
    const rt = routeIn(t, ns)

    await rt.links.create({
      name: 'bond0',
      kind: 'bond',
      info: { mode: 'active-backup', miimon: 100 },
    })

    const bond = await rt.links.get('bond0')
    t.is(bond.info?.mode, 'active-backup')
    t.is(bond.info?.miimon, 100)
  },
)

kernelTest('set changes state, mtu, address and name', async (t, ns) => {
  const rt = routeIn(t, ns)
  ipIn(ns, 'link', 'add', 'va', 'type', 'veth', 'peer', 'name', 'vb')

  await rt.links.set('va', {
    up: true,
    mtu: 1400,
    address: '02:00:00:00:00:01',
  })
  const va = await rt.links.get('va')
  await rt.links.set(va.index, { name: 'vrenamed', up: false })
  const renamed = await rt.links.get(va.index)

  t.true(va.up)
  t.true(va.flags.includes('UP'))
  t.is(va.mtu, 1400)
  t.is(va.address, '02:00:00:00:00:01')
  t.is(renamed.name, 'vrenamed')
  t.false(renamed.up)
})

kernelTest('set moves a link to another namespace', async (t, ns) => {
  const other = createNetns()
  t.teardown(() => deleteNetns(other))
  const rt = routeIn(t, ns)
  ipIn(ns, 'link', 'add', 'va', 'type', 'veth', 'peer', 'name', 'vb')

  await rt.links.set('vb', { netns: other })

  t.false(linkIndexes(ns).has('vb'))
  t.true(linkIndexes(other).has('vb'))
})

kernelTest('a listed link can be passed back to create', async (t, ns) => {
  const rt = routeIn(t, ns)
  await rt.links.create({
    name: 'vx0',
    kind: 'vxlan',
    mtu: 1300,
    info: { id: 7, group: '2001:db8::7', port: 4790 },
  })
  const vx = await rt.links.get('vx0')
  await rt.links.delete(vx)

  await rt.links.create(vx)

  const again = await rt.links.get('vx0')
  t.is(again.index, vx.index)
  t.is(again.mtu, 1300)
  t.deepEqual(again.info, vx.info)
})

kernelTest('delete removes a link and its veth peer', async (t, ns) => {
  const rt = routeIn(t, ns)
  ipIn(ns, 'link', 'add', 'va', 'type', 'veth', 'peer', 'name', 'vb')

  await rt.links.delete('va')

  const names = (await rt.links.list()).map((l) => l.name)
  t.deepEqual(names, ['lo'])
})

kernelTest(
  'creating an unknown kind carries the kernel message',
  async (t, ns) => {
    const rt = routeIn(t, ns)

    const err = await caught(() =>
      rt.links.create({ name: 'x0', kind: 'no-such-kind' }),
    )

    t.true(err instanceof NetlinkError)
    t.is((err as NetlinkError).code, 'EOPNOTSUPP')
    t.regex((err as NetlinkError).extAck?.message ?? '', /Unknown device/)
  },
)

kernelTest('creating a taken name rejects with EEXIST', async (t, ns) => {
  const rt = routeIn(t, ns)

  const err = await caught(() =>
    rt.links.create({ name: 'lo', kind: 'bridge' }),
  )

  t.is((err as NetlinkError).code, 'EEXIST')
})

test('bad arguments are TypeErrors and RangeErrors naming them', async (t) => {
  const { conn } = dialFake(() => null)
  const rt = new RouteConn(conn)
  t.teardown(() => rt.close())

  await refusesEach(t, [
    [() => rt.links.get({} as never), /link must be an index/],
    [() => rt.links.get(0), /link must be in/],
    [() => rt.links.get(''), /link must be 1\.\.15/],
    [() => rt.links.get('a'.repeat(16)), /1\.\.15 bytes/],
    [() => rt.links.create({ name: 'x' }), /link\.kind/],
    [
      () => rt.links.create({ name: 'x', kind: 'bridge', speed: 1 } as never),
      /unknown field speed/,
    ],
    [
      () => rt.links.create({ name: 'x', kind: 'bridge', mtu: -1 }),
      /link\.mtu/,
    ],
    [() => rt.links.set(1, { address: 'zz' }), /changes\.address/],
    [
      () => rt.links.create({ name: 'x', kind: 'bridge', info: { colour: 1 } }),
      /unknown field colour/,
    ],
    [() => rt.links.list({ kind: 3 } as never), /filter\.kind/],
  ])
})

test('any link message decodes or is a MalformedError', (t) => {
  decodesOrIsMalformed(t, decodeLink, {
    headerSize: 16,
    families: [0, 7, 17],
    maxType: 60,
  })
})

test('decodeLink rejects a cut-short message with MalformedError', (t) => {
  truncatedIsMalformed(t, decodeLink, 16)
})

test('decodeLink rejects a malformed attribute with MalformedError', (t) => {
  garbageIsMalformed(t, decodeLink, Buffer.alloc(16), /^link 0: attribute/)
})

test('new Links refuses something that is not a Conn', (t) => {
  refusesNonConns(t, Links)
})

test('decodeLink refuses what is not a message', (t) => {
  refusesNonMessages(t, decodeLink)
})

/** A link message holding the counters `rxPackets` = `rx` at `width`. */
function withStats(counters: [type: number, width: 4 | 8, rx: number][]) {
  const e = new AttributeEncoder()
  for (const [type, width, rx] of counters) {
    const b = Buffer.alloc(25 * width)
    if (width === 8) b.writeBigUInt64LE(BigInt(rx))
    else b.writeUInt32LE(rx)
    e.bytes(type, b)
  }
  return messageOf(Buffer.concat([Buffer.alloc(16), e.encode()]))
}

test('the 64-bit counters win over the 32-bit ones', (t) => {
  const link = decodeLink(
    withStats([
      [7, 4, 5],
      [23, 8, 2 ** 40],
    ]),
  )

  t.is(link.stats?.rxPackets, 2n ** 40n)
})

test('the 32-bit counters serve where the 64-bit ones are missing', (t) => {
  const link = decodeLink(withStats([[7, 4, 5]]))

  t.is(link.stats?.rxPackets, 5n)
  t.is(Object.keys(link.stats ?? {}).length, 25)
})
