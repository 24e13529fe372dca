/**
 * A link's unmodelled attributes are decoded on first read: the link
 * still behaves as plain data (spread, JSON, structured clone, deep
 * equality, key order), keeps exactly the attributes no field takes, and
 * does not change when the message's buffer does. Also: counters keep
 * all 64 bits.
 */
import test from 'ava'
import { isDeepStrictEqual } from 'node:util'
import { AttributeEncoder, NLA_F_NESTED } from '../index'
import { decodeLink, type Link } from '../rtnetlink'
import { messageOf } from './helpers/decoders'
import { ipBatch, kernelTest } from './helpers/netns'
import { routeIn } from './helpers/route'

const IFLA_ADDRESS = 1
const IFLA_IFNAME = 3
const IFLA_MTU = 4
const IFLA_LINKMODE = 17
const IFLA_STATS64 = 23
const IFLA_AF_SPEC = 26
const IFLA_GSO_MAX_SEGS = 40
const IFLA_ALT_PROP = 62

/** A link message with modelled and unmodelled attributes, interleaved. */
function sample(): Buffer {
  const header = Buffer.alloc(16)
  header.writeInt32LE(7, 4)
  const e = new AttributeEncoder()
    .string(IFLA_IFNAME, 'veth7')
    .uint8(IFLA_LINKMODE, 1)
    .uint32(IFLA_MTU, 1500)
    .bytes(IFLA_AF_SPEC, Buffer.from([1, 2, 3, 4, 5]))
    .bytes(IFLA_ADDRESS, Buffer.from([2, 0, 0, 0, 0, 7]))
    .uint32(IFLA_GSO_MAX_SEGS, 65535)
    .nested(IFLA_ALT_PROP, () => {})
    .bytes(IFLA_STATS64, Buffer.alloc(25 * 8))
    .uint16(0x3fff, 9)
  return Buffer.concat([header, e.encode()])
}

/** The link decoded from `sample()`, its attributes not read yet. */
function decoded(): Link {
  return decodeLink(messageOf(sample()))
}

test('attributes holds exactly the attributes no field takes', (t) => {
  const link = decoded()

  t.deepEqual(
    link.attributes.map((a) => a.type),
    [IFLA_LINKMODE, IFLA_AF_SPEC, IFLA_GSO_MAX_SEGS, IFLA_ALT_PROP, 0x3fff].map(
      (type) => (type === IFLA_ALT_PROP ? type | NLA_F_NESTED : type),
    ),
  )
  t.deepEqual(link.attributes[1].data, Buffer.from([1, 2, 3, 4, 5]))
  t.is(link.attributes[3].data.length, 0)
  t.is(link.name, 'veth7')
  t.is(link.mtu, 1500)
})

test('every attribute type is either a field or kept raw, never both', (t) => {
  const header = Buffer.alloc(16)
  const fields = (l: Link) =>
    JSON.stringify({ ...l, attributes: undefined }, (_, v) =>
      typeof v === 'bigint' ? `${v}n` : v,
    )
  const none = fields(decodeLink(messageOf(header)))
  const nest = (type: number) =>
    new AttributeEncoder().string(type, 'x').encode()
  // Values for every reader: a string, a u32, an address, a u8, a nest
  // of a kind, a nest of an alternative name.
  const values = [Buffer.from('abc\0'), Buffer.from([1]), nest(1), nest(53)]

  for (let type = 0; type < 64; type++) {
    const shown = values
      .map((v) => new AttributeEncoder().bytes(type, v).encode())
      .map((attrs) => decodes(Buffer.concat([header, attrs])))
      .filter((l) => l !== undefined)
      .map((l) => ({ field: fields(l) !== none, raw: l.attributes.length }))

    t.true(
      shown.some(({ field, raw }) => field || raw === 1),
      `type ${type} shows`,
    )
    t.true(
      shown.every(({ field, raw }) => (field ? raw === 0 : raw <= 1)),
      `type ${type} is not both`,
    )
  }
})

function decodes(data: Buffer): Link | undefined {
  try {
    return decodeLink(messageOf(data))
  } catch {
    return undefined
  }
}

test('a link serializes the same before and after attributes is read', (t) => {
  const json = JSON.stringify(decoded(), (_, v) =>
    typeof v === 'bigint' ? `${v}n` : v,
  )

  const link = decoded()
  void link.attributes

  t.is(
    JSON.stringify(link, (_, v) => (typeof v === 'bigint' ? `${v}n` : v)),
    json,
  )
  t.regex(json, /"attributes":\[\{"type":17,"data":\{"type":"Buffer"/)
})

test('spread, structuredClone and deep equality see the attributes', (t) => {
  const read = decoded()
  void read.attributes

  t.deepEqual({ ...decoded() }, read)
  t.deepEqual(structuredClone(decoded()), structuredClone(read))
  t.deepEqual(decoded(), read)
  t.true(isDeepStrictEqual(decoded(), { ...read }))
})

test('one structured clone of many unread links holds all their bytes', (t) => {
  const links = Array.from({ length: 50 }, decoded)

  const cloned = structuredClone(links)

  for (const link of cloned) {
    t.deepEqual([...link.attributes[1].data], [1, 2, 3, 4, 5])
    t.is(link.attributes[2].data.length, 4)
    t.is(
      new Uint32Array(Uint8Array.from(link.attributes[2].data).buffer)[0],
      65535,
    )
  }
})

test('a link keeps the key order of its message', (t) => {
  const keys = Object.keys(decoded())

  t.deepEqual(keys, [
    'index',
    'name',
    'type',
    'flags',
    'up',
    'running',
    'operstate',
    'attributes',
    'mtu',
    'address',
    'stats',
  ])
})

test('the first read makes attributes a data property', (t) => {
  const link = decoded()

  const first = link.attributes
  const descriptor = Object.getOwnPropertyDescriptor(link, 'attributes')

  t.is(descriptor?.value, first)
  t.true(descriptor?.writable)
  t.true(descriptor?.enumerable)
  t.is(link.attributes, first)
})

test('attributes can be assigned and deleted like any field', (t) => {
  const link = decoded()
  const other = decoded()

  link.attributes = []
  delete (other as Partial<Link>).attributes

  t.deepEqual(link.attributes, [])
  t.false('attributes' in other)
  t.deepEqual(Object.keys(other).length, Object.keys(link).length - 1)
})

test('decodeLink does not see later writes to the message', (t) => {
  const data = sample()
  const link = decodeLink(messageOf(data))

  data.fill(0xff)

  t.deepEqual(link.attributes[1].data, Buffer.from([1, 2, 3, 4, 5]))
})

test('each attribute is a copy the caller may change', (t) => {
  const data = sample()
  const link = decodeLink(messageOf(data))

  link.attributes[1].data[0] = 99

  t.true(data.includes(Buffer.from([1, 2, 3, 4, 5])))
})

test('a frozen link still gives the same attributes', (t) => {
  const link = Object.freeze(decoded())

  const first = link.attributes

  t.is(first.length, 5)
  t.is(link.attributes, first)
  t.throws(
    () => {
      ;(link as Link).attributes = []
    },
    { instanceOf: TypeError },
  )
})

test('an object made from a link reads its attributes', (t) => {
  const link = decoded()
  const child = Object.create(link) as Link

  t.is(child.attributes.length, 5)
  t.is(child.attributes, link.attributes)
  t.false(Object.prototype.hasOwnProperty.call(child, 'attributes'))
})

test('counters keep all 64 bits', (t) => {
  const values = [
    0n,
    1n,
    2n ** 32n,
    2n ** 53n - 1n,
    2n ** 53n + 1n,
    2n ** 64n - 1n,
  ]
  const stats = Buffer.alloc(25 * 8)
  values.forEach((v, i) => stats.writeBigUInt64LE(v, i * 8))
  const e = new AttributeEncoder().bytes(IFLA_STATS64, stats)

  const link = decodeLink(
    messageOf(Buffer.concat([Buffer.alloc(16), e.encode()])),
  )

  t.deepEqual(
    [
      link.stats?.rxPackets,
      link.stats?.txPackets,
      link.stats?.rxBytes,
      link.stats?.txBytes,
      link.stats?.rxErrors,
      link.stats?.txErrors,
    ],
    values,
  )
})

kernelTest('listed links clone and compare as plain data', async (t, ns) => {
  ipBatch(ns, ['link add va type veth peer name vb', 'link set lo up'])
  const rt = routeIn(t, ns)

  const listed = await rt.links.list()
  const cloned = structuredClone(listed)
  const spread = listed.map((l) => ({ ...l }))

  t.is(listed.length, 3)
  t.true(listed.every((l) => l.attributes.length > 0))
  t.deepEqual(spread, listed)
  t.deepEqual(cloned, structuredClone(listed))
  t.is(cloned[0].attributes.length, listed[0].attributes.length)
})
