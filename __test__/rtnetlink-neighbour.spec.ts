/**
 * Neighbours: decoding and encoding `RTM_*NEIGH` through a fake Conn,
 * then listing, adding and deleting entries in a namespace of the test's
 * own.
 */
import { execFileSync } from 'node:child_process'

import test, { type ExecutionContext } from 'ava'
import { AttributeEncoder, HeaderFlags, NetlinkError } from '../index'
import type { Message } from '../lib/message'
import { writeI32, writeU16, writeU32 } from '../lib/host-order'
import {
  RTM_DELNEIGH,
  RTM_GETNEIGH,
  RTM_NEWNEIGH,
} from '../lib/rtnetlink/constants'
import {
  Neighbours,
  decodeNeighbour,
  neighbourKey,
  type Neighbour,
  type NeighbourInit,
} from '../lib/rtnetlink/neighbour'
import { MalformedError } from '../lib/rtnetlink/request'
import { checkRequest, multipart, type Handler } from '../testing'
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

const NDA_DST = 1
const NDA_LLADDR = 2
const NDA_CACHEINFO = 3
const NDA_PROBES = 4
const NDA_VLAN = 5
const NDA_IFINDEX = 8
const NDA_MASTER = 9
const NDA_FLAGS_EXT = 15
const NDA_PROTOCOL = 12

/** Fields of `struct ndmsg`; left out ones are zero. */
interface NdMsg {
  family?: number
  index?: number
  state?: number
  flags?: number
}

function ndmsg(h: NdMsg, attrs: Buffer = Buffer.alloc(0)): Buffer {
  const b = Buffer.alloc(12)
  b[0] = h.family ?? 2
  writeI32(b, h.index ?? 0, 4)
  writeU16(b, h.state ?? 0, 8)
  b[10] = h.flags ?? 0
  return Buffer.concat([b, attrs])
}

function message(data: Buffer, type = RTM_NEWNEIGH): Message {
  return messageOf(data, type)
}

const MAC = Buffer.from([2, 0, 0, 0, 0, 9])

/** A reachable router 2001:db8::9 on link 3, as NDP reports it. */
function sampleNeighbour(): Buffer {
  const cache = Buffer.alloc(16)
  writeU32(cache, 5, 0)
  writeU32(cache, 6, 4)
  writeU32(cache, 7, 8)
  writeU32(cache, 1, 12)
  const attrs = new AttributeEncoder()
    .bytes(NDA_DST, Buffer.from('20010db8000000000000000000000009', 'hex'))
    .bytes(NDA_LLADDR, MAC)
    .bytes(NDA_CACHEINFO, cache)
    .uint32(NDA_PROBES, 2)
    .uint8(NDA_PROTOCOL, 4)
    .encode()
  return ndmsg({ family: 10, index: 3, state: 0x02, flags: 0x80 }, attrs)
}

function fake(t: ExecutionContext, handler: Handler) {
  const f = fakeRoute(t, handler)
  return { ...f, neighbours: new Neighbours(f.conn) }
}

test('decodeNeighbour reads the header and the attributes', (t) => {
  const n = decodeNeighbour(message(sampleNeighbour()))

  t.like(n, {
    family: 'inet6',
    index: 3,
    address: '2001:db8::9',
    lladdr: '02:00:00:00:00:09',
    state: ['REACHABLE'],
    flags: ['router'],
    router: true,
    probes: 2,
    cacheInfo: { confirmed: 5, used: 6, updated: 7, refcnt: 1 },
  })
  t.deepEqual(n.attributes, [{ type: NDA_PROTOCOL, data: Buffer.from([4]) }])
})

test('a state of 0 is NONE and several bits are listed', (t) => {
  const none = decodeNeighbour(message(sampleNeighbour().fill(0, 8, 10)))
  const data = sampleNeighbour()
  writeU16(data, 0x40 | 0x80, 8)

  t.deepEqual(none.state, ['NONE'])
  t.deepEqual(decodeNeighbour(message(data)).state, ['NOARP', 'PERMANENT'])
})

test('extended flags follow the header flags', (t) => {
  const attrs = new AttributeEncoder()
    .bytes(NDA_DST, Buffer.from([192, 0, 2, 9]))
    .uint32(NDA_FLAGS_EXT, 0x1 | 0x100)
    .encode()

  const n = decodeNeighbour(message(ndmsg({ flags: 0x10 }, attrs)))

  t.deepEqual(n.flags, ['extern_learn', 'managed', 'ext_0x100'])
})

test('a bridge entry without NDA_DST is addressed by its MAC', (t) => {
  const attrs = new AttributeEncoder()
    .bytes(NDA_LLADDR, MAC)
    .uint16(NDA_VLAN, 10)
    .uint32(NDA_MASTER, 5)
    .encode()

  const n = decodeNeighbour(message(ndmsg({ family: 7, index: 6 }, attrs)))

  t.like(n, {
    family: 'bridge',
    index: 6,
    address: '02:00:00:00:00:09',
    lladdr: '02:00:00:00:00:09',
    vlan: 10,
    master: 5,
  })
})

test('any message decodes or is a MalformedError, nothing else', (t) => {
  decodesOrIsMalformed(t, decodeNeighbour, {
    headerSize: 12,
    families: [0, 2, 7, 10],
    maxType: 18,
  })
})

test('a truncated ndmsg is a MalformedError', (t) => {
  truncatedIsMalformed(t, decodeNeighbour, 12)
})

test('garbage attributes are a MalformedError', (t) => {
  garbageIsMalformed(t, decodeNeighbour, ndmsg({}), /^neighbour: attribute/)
})

test('an address of the wrong size is a MalformedError', (t) => {
  const attrs = new AttributeEncoder().bytes(NDA_DST, Buffer.alloc(16)).encode()
  const data = ndmsg({ family: 2 }, attrs)

  isMalformed(t, decodeNeighbour, data, /NDA_DST of 16 bytes/)
})

test('an entry without an address is a MalformedError', (t) => {
  isMalformed(t, decodeNeighbour, ndmsg({ family: 2 }))
})

test('an entry of an unknown family is a MalformedError', (t) => {
  isMalformed(t, decodeNeighbour, ndmsg({ family: 29 }), /family 29/)
})

test('list sends a strict dump: zero header, no attributes', async (t) => {
  const request = await sentBy(t, Neighbours, (n) => n.list())

  checkRequest(request, RTM_GETNEIGH, HeaderFlags.Dump)
  t.deepEqual(request.data, Buffer.alloc(12))
})

test('list filters by link in NDA_IFINDEX and by family', async (t) => {
  const request = await sentBy(t, Neighbours, (n) =>
    n.list({ index: 3, family: 'inet6' }),
  )

  const want = new AttributeEncoder().uint32(NDA_IFINDEX, 3).encode()
  t.deepEqual(request.data, ndmsg({ family: 10 }, want))
})

test('list of proxy entries sets NTF_PROXY in the header', async (t) => {
  const request = await sentBy(t, Neighbours, (n) => n.list({ proxy: true }))

  t.deepEqual(request.data, ndmsg({ family: 0, flags: 0x08 }))
})

test('list also filters what the kernel sends', async (t) => {
  const elsewhere = sampleNeighbour()
  writeI32(elsewhere, 4, 4)
  const { neighbours } = fake(t, () =>
    multipart([
      { header: { type: RTM_NEWNEIGH }, data: sampleNeighbour() },
      { header: { type: RTM_NEWNEIGH }, data: elsewhere },
    ]),
  )

  const listed = await neighbours.list({ index: 3 })

  t.deepEqual(
    listed.map((n) => n.index),
    [3],
  )
})

test('list rejects with a MalformedError for a garbled reply', async (t) => {
  const { neighbours } = fake(t, () =>
    multipart([{ header: { type: RTM_NEWNEIGH }, data: Buffer.alloc(5) }]),
  )

  await t.throwsAsync(neighbours.list(), { instanceOf: MalformedError })
})

test('add encodes what decodeNeighbour decodes', async (t) => {
  const init: NeighbourInit = {
    index: 3,
    address: '192.0.2.9',
    lladdr: '02:00:00:00:00:09',
    state: ['REACHABLE'],
    flags: ['extern_learn', 'managed'],
  }
  const request = await sentBy(t, Neighbours, (n) => n.add(init))

  checkRequest(
    request,
    RTM_NEWNEIGH,
    HeaderFlags.Create | HeaderFlags.Excl | HeaderFlags.Acknowledge,
  )
  t.like(decodeNeighbour(request), { ...init, family: 'inet', router: false })
})

test('add makes a permanent entry unless told otherwise', async (t) => {
  const request = await sentBy(t, Neighbours, (n) =>
    n.add({ index: 3, address: '2001:db8::9', router: true }),
  )

  t.like(decodeNeighbour(request), {
    family: 'inet6',
    state: ['PERMANENT'],
    flags: ['router'],
  })
})

test('a bridge entry is named by MAC, VLAN and remote', async (t) => {
  const init: NeighbourInit = {
    family: 'bridge',
    index: 6,
    address: '192.0.2.2',
    lladdr: '02:00:00:00:00:09',
    vlan: 10,
  }
  const request = await sentBy(t, Neighbours, (n) => n.add(init))

  t.like(decodeNeighbour(request), {
    ...init,
    state: ['PERMANENT'],
    flags: ['self'],
  })
})

test('a bridge entry may give its MAC as the address', async (t) => {
  const request = await sentBy(t, Neighbours, (n) =>
    n.delete({
      family: 'bridge',
      index: 6,
      address: '02:00:00:00:00:09',
      flags: ['master'],
    }),
  )

  checkRequest(request, RTM_DELNEIGH)
  t.like(decodeNeighbour(request), {
    family: 'bridge',
    address: '02:00:00:00:00:09',
    lladdr: '02:00:00:00:00:09',
    flags: ['master'],
    state: ['NONE'],
  })
})

test('replace sends NLM_F_REPLACE', async (t) => {
  const request = await sentBy(t, Neighbours, (n) =>
    n.replace({ index: 3, address: '192.0.2.9', lladdr: '02:00:00:00:00:01' }),
  )

  checkRequest(request, RTM_NEWNEIGH, HeaderFlags.Create | HeaderFlags.Replace)
})

test('delete sends the entry without state or lladdr', async (t) => {
  const listed = decodeNeighbour(message(sampleNeighbour()))
  const request = await sentBy(t, Neighbours, (n) => n.delete(listed))

  checkRequest(request, RTM_DELNEIGH, HeaderFlags.Acknowledge)
  const want = new AttributeEncoder()
    .bytes(NDA_DST, Buffer.from('20010db8000000000000000000000009', 'hex'))
    .bytes(NDA_PROTOCOL, Buffer.from([4]))
    .encode()
  t.deepEqual(request.data, ndmsg({ family: 10, index: 3 }, want))
})

const badInits: BadArgument[] = [
  ['no address', { index: 1 }, /init.address/, 'TypeError'],
  ['no link', { address: '192.0.2.1' }, /init.index/, 'TypeError'],
  [
    'a link of 0',
    { index: 0, address: '192.0.2.1' },
    /init.index/,
    'RangeError',
  ],
  [
    'a bad MAC',
    { index: 1, address: '192.0.2.1', lladdr: 'zz' },
    /init.lladdr/,
    'TypeError',
  ],
  [
    'an unknown state',
    { index: 1, address: '192.0.2.1', state: ['UP'] },
    /init.state\[0\]/,
    'TypeError',
  ],
  [
    'a family that does not fit',
    { index: 1, address: '192.0.2.1', family: 'inet6' },
    /init.address/,
    'TypeError',
  ],
  [
    'a bridge entry with no MAC',
    { index: 1, address: '192.0.2.1', family: 'bridge' },
    /init.lladdr/,
    'TypeError',
  ],
  [
    'an unknown family',
    { index: 1, address: '192.0.2.1', family: 'ipx' },
    /init.family/,
    'TypeError',
  ],
  [
    'a VLAN out of range',
    { index: 1, address: '02:00:00:00:00:01', family: 'bridge', vlan: 4095 },
    /init.vlan/,
    'RangeError',
  ],
  [
    'a router that is no boolean',
    { index: 1, address: '192.0.2.1', router: 1 },
    /init.router/,
    'TypeError',
  ],
]

for (const bad of badInits) {
  const [what, , , name] = bad
  test(`add refuses ${what} with a ${name} naming the field`, async (t) => {
    await refusedUnsent(t, Neighbours, bad, (neighbours, init) =>
      neighbours.add(init as NeighbourInit),
    )
  })
}

test('new Neighbours refuses something that is not a Conn', (t) => {
  refusesNonConns(t, Neighbours)
})

test('decodeNeighbour refuses what is not a message', (t) => {
  refusesNonMessages(t, decodeNeighbour)
})

test('list refuses a bad filter', async (t) => {
  const { neighbours } = fake(t, () => null)

  await t.throwsAsync(() => neighbours.list({ family: 'ipx' as never }), {
    instanceOf: TypeError,
    message: /filter.family/,
  })
  await t.throwsAsync(() => neighbours.list({ index: -1 }), {
    instanceOf: RangeError,
    message: /filter.index/,
  })
  await t.throwsAsync(() => neighbours.list({ proxy: 1 as never }), {
    instanceOf: TypeError,
    message: /filter.proxy/,
  })
})

test('neighbourKey ignores state and lladdr, not the link', (t) => {
  const n = decodeNeighbour(message(sampleNeighbour()))
  const changed: Neighbour = {
    ...n,
    state: ['STALE'],
    lladdr: '02:00:00:00:00:01',
  }

  t.is(neighbourKey(changed), neighbourKey(n))
  t.not(neighbourKey({ ...n, index: 4 }), neighbourKey(n))
  t.not(neighbourKey({ ...n, flags: ['proxy'] }), neighbourKey(n))
})

test('neighbourKey tells bridge entries of one remote apart', (t) => {
  const entry = (mac: string): Neighbour => ({
    family: 'bridge',
    index: 6,
    address: '192.0.2.2',
    lladdr: mac,
    state: ['PERMANENT'],
    flags: ['self'],
    router: false,
    attributes: [],
  })

  t.not(
    neighbourKey(entry('02:00:00:00:00:01')),
    neighbourKey(entry('02:00:00:00:00:02')),
  )
})

// Against the kernel.

function setUp(ns: string): number {
  ipBatch(ns, [
    'link add va type veth peer name vb',
    'link set va up',
    'link set vb up',
    'addr add 192.0.2.1/24 dev va',
    'addr add 2001:db8::1/64 dev va nodad',
  ])
  const [link] = JSON.parse(ipIn(ns, '-j', 'link', 'show', 'dev', 'va'))
  return link.ifindex as number
}

/** `bridge -n NS fdb show`, as text. */
function bridgeFdb(ns: string): string {
  return execFileSync('bridge', ['-n', ns, 'fdb', 'show'], {
    encoding: 'utf8',
  })
}

function neighboursIn(t: ExecutionContext, ns: string): Neighbours {
  return new Neighbours(dialIn(t, ns, { strict: true }))
}

kernelTest('permanent entries are added, listed and deleted', async (t, ns) => {
  const va = setUp(ns)
  const neighbours = neighboursIn(t, ns)
  const v4 = { index: va, address: '192.0.2.9', lladdr: '02:00:00:00:00:09' }
  const v6 = { index: va, address: '2001:db8::9', lladdr: '02:00:00:00:00:0a' }

  await neighbours.add(v4)
  await neighbours.add(v6)
  const listed = await neighbours.list({ index: va })

  for (const want of [v4, v6]) {
    const got = listed.find((n) => n.address === want.address)
    t.like(got, { ...want, state: ['PERMANENT'], router: false })
  }
  t.regex(ipIn(ns, 'neigh', 'show', 'dev', 'va'), /192\.0\.2\.9 lladdr/)

  await neighbours.delete(v4)
  await neighbours.delete(v6)
  const left = await neighbours.list({ index: va })
  t.false(left.some((n) => n.address === v4.address))
  t.false(left.some((n) => n.address === v6.address))
})

kernelTest('replace changes an entry in place', async (t, ns) => {
  const va = setUp(ns)
  const neighbours = neighboursIn(t, ns)
  const entry = {
    index: va,
    address: '192.0.2.8',
    lladdr: '02:00:00:00:00:08',
  }

  await neighbours.add(entry)
  await neighbours.replace({ ...entry, lladdr: '02:00:00:00:00:18' })

  const listed = await neighbours.list({ family: 'inet', index: va })
  t.deepEqual(
    listed.filter((n) => n.address === entry.address).map((n) => n.lladdr),
    ['02:00:00:00:00:18'],
  )
})

kernelTest('list by family returns only that family', async (t, ns) => {
  const va = setUp(ns)
  const neighbours = neighboursIn(t, ns)
  await neighbours.add({
    index: va,
    address: '192.0.2.7',
    lladdr: 'aa:bb:cc:dd:ee:ff',
  })

  const v6 = await neighbours.list({ family: 'inet6' })

  t.true(v6.length > 0)
  t.true(v6.every((n) => n.family === 'inet6'))
})

kernelTest('proxy entries are listed apart and deleted', async (t, ns) => {
  const va = setUp(ns)
  const neighbours = neighboursIn(t, ns)

  await neighbours.add({ index: va, address: '192.0.2.20', flags: ['proxy'] })
  const proxies = await neighbours.list({ proxy: true })
  const plain = await neighbours.list()

  t.deepEqual(
    proxies.map((n) => [n.address, n.index, n.flags]),
    [['192.0.2.20', va, ['proxy']]],
  )
  t.false(plain.some((n) => n.address === '192.0.2.20'))
  t.regex(ipIn(ns, 'neigh', 'show', 'proxy'), /192\.0\.2\.20 dev va/)

  await neighbours.delete(proxies[0])
  t.deepEqual(await neighbours.list({ proxy: true }), [])
})

kernelTest('adding an entry twice is EEXIST', async (t, ns) => {
  const va = setUp(ns)
  const neighbours = neighboursIn(t, ns)
  const entry = {
    index: va,
    address: '192.0.2.6',
    lladdr: '02:00:00:00:00:06',
  }

  await neighbours.add(entry)
  const err = await caught(() => neighbours.add(entry))

  t.is((err as NetlinkError).code, 'EEXIST')
})

kernelTest('deleting a missing entry is ENOENT', async (t, ns) => {
  const va = setUp(ns)
  const neighbours = neighboursIn(t, ns)

  const err = await caught(() =>
    neighbours.delete({ index: va, address: '192.0.2.5' }),
  )

  t.true(err instanceof NetlinkError)
  t.is((err as NetlinkError).code, 'ENOENT')
})

kernelTest('an entry on a missing link is ENODEV', async (t, ns) => {
  const neighbours = neighboursIn(t, ns)

  const err = await caught(() =>
    neighbours.add({ index: 999, address: '192.0.2.4' }),
  )

  t.true(err instanceof NetlinkError)
  t.is((err as NetlinkError).code, 'ENODEV')
})

kernelTest('a bridge lists its forwarding entries', async (t, ns) => {
  ipBatch(ns, [
    'link add br0 type bridge',
    'link add va type veth peer name vb',
    'link set va master br0',
    'link set va address 02:00:00:00:00:0b',
    'link set br0 up',
    'link set va up',
  ])
  const neighbours = neighboursIn(t, ns)

  const fdb = await neighbours.list({ family: 'bridge' })

  const own = fdb.find((n) => n.lladdr === '02:00:00:00:00:0b')
  t.truthy(own)
  t.is(own?.family, 'bridge')
  t.is(own?.address, '02:00:00:00:00:0b')
  t.true(own?.state.includes('PERMANENT'))
  const unfiltered = await neighbours.list()
  t.false(unfiltered.some((n) => n.family === 'bridge'))
})

kernelTest('bridge entries are added and deleted', async (t, ns) => {
  ipBatch(ns, [
    'link add br0 type bridge',
    'link add va type veth peer name vb',
    'link set va master br0',
  ])
  const index = (name: string): number =>
    JSON.parse(ipIn(ns, '-j', 'link', 'show', 'dev', name))[0].ifindex
  const neighbours = neighboursIn(t, ns)
  const mac = '02:00:00:00:00:33'
  const find = async () =>
    (await neighbours.list({ family: 'bridge', index: index('va') })).filter(
      (n) => n.lladdr === mac,
    )

  await neighbours.add({
    family: 'bridge',
    index: index('va'),
    address: mac,
    flags: ['master'],
  })
  const [added] = await find()
  t.like(added, { address: mac, master: index('br0'), state: ['PERMANENT'] })
  t.regex(bridgeFdb(ns), /02:00:00:00:00:33 dev va master br0 permanent/)

  await neighbours.delete(added)
  t.deepEqual(await find(), [])
})
