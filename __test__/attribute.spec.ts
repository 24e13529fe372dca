import { deepStrictEqual, ok } from 'node:assert'
import { endianness } from 'node:os'

import test from 'ava'
import * as fc from 'fast-check'

import {
  AttributeDecoder,
  AttributeEncoder,
  AttributeError,
  NLA_F_NESTED,
  NLA_F_NET_BYTEORDER,
  NLA_TYPE_MASK,
  marshalAttributes,
  unmarshalAttributes,
} from '../lib/attribute'
import type { ByteOrder } from '../lib/attribute'

const HOST_BIG_ENDIAN = endianness() === 'BE'

/** An attribute header in host byte order, as the kernel writes it. */
function header(len: number, type: number): Buffer {
  const b = Buffer.alloc(4)
  if (HOST_BIG_ENDIAN) {
    b.writeUInt16BE(len, 0)
    b.writeUInt16BE(type, 2)
  } else {
    b.writeUInt16LE(len, 0)
    b.writeUInt16LE(type, 2)
  }
  return b
}

/** One raw attribute: header, value and, when `pad` is set, padding. */
function raw(type: number, value: number[], pad = true): Buffer {
  const parts = [header(4 + value.length, type), Buffer.from(value)]
  if (pad) parts.push(Buffer.alloc((4 - (value.length % 4)) % 4))
  return Buffer.concat(parts)
}

/** Decodes the first attribute of `buf`, failing if there is none. */
function first(buf: Buffer, byteOrder?: ByteOrder): AttributeDecoder {
  const d = new AttributeDecoder(buf, { byteOrder })
  if (!d.next()) throw new Error('no attribute')
  return d
}

// Integer writers and readers: each width, at its extremes, both orders.

interface IntCase {
  name: string
  write: (e: AttributeEncoder) => AttributeEncoder
  read: (d: AttributeDecoder) => number | bigint
  want: number | bigint
  size: number
}

const intCases: IntCase[] = [
  {
    name: 'uint8 max',
    write: (e) => e.uint8(1, 0xff),
    read: (d) => d.uint8(),
    want: 0xff,
    size: 1,
  },
  {
    name: 'uint16 max',
    write: (e) => e.uint16(1, 0xffff),
    read: (d) => d.uint16(),
    want: 0xffff,
    size: 2,
  },
  {
    name: 'uint16 mixed bytes',
    write: (e) => e.uint16(1, 0x1234),
    read: (d) => d.uint16(),
    want: 0x1234,
    size: 2,
  },
  {
    name: 'uint32 max',
    write: (e) => e.uint32(1, 0xffff_ffff),
    read: (d) => d.uint32(),
    want: 0xffff_ffff,
    size: 4,
  },
  {
    name: 'uint32 mixed bytes',
    write: (e) => e.uint32(1, 0x1234_5678),
    read: (d) => d.uint32(),
    want: 0x1234_5678,
    size: 4,
  },
  {
    name: 'uint64 max as bigint',
    write: (e) => e.uint64(1, 0xffff_ffff_ffff_ffffn),
    read: (d) => d.uint64(),
    want: 0xffff_ffff_ffff_ffffn,
    size: 8,
  },
  {
    name: 'uint64 from a safe number',
    write: (e) => e.uint64(1, Number.MAX_SAFE_INTEGER),
    read: (d) => d.uint64(),
    want: BigInt(Number.MAX_SAFE_INTEGER),
    size: 8,
  },
  {
    name: 'int8 min',
    write: (e) => e.int8(1, -0x80),
    read: (d) => d.int8(),
    want: -0x80,
    size: 1,
  },
  {
    name: 'int8 max',
    write: (e) => e.int8(1, 0x7f),
    read: (d) => d.int8(),
    want: 0x7f,
    size: 1,
  },
  {
    name: 'int16 min',
    write: (e) => e.int16(1, -0x8000),
    read: (d) => d.int16(),
    want: -0x8000,
    size: 2,
  },
  {
    name: 'int16 max',
    write: (e) => e.int16(1, 0x7fff),
    read: (d) => d.int16(),
    want: 0x7fff,
    size: 2,
  },
  {
    name: 'int32 min',
    write: (e) => e.int32(1, -0x8000_0000),
    read: (d) => d.int32(),
    want: -0x8000_0000,
    size: 4,
  },
  {
    name: 'int32 max',
    write: (e) => e.int32(1, 0x7fff_ffff),
    read: (d) => d.int32(),
    want: 0x7fff_ffff,
    size: 4,
  },
  {
    name: 'int64 min',
    write: (e) => e.int64(1, -0x8000_0000_0000_0000n),
    read: (d) => d.int64(),
    want: -0x8000_0000_0000_0000n,
    size: 8,
  },
  {
    name: 'int64 max',
    write: (e) => e.int64(1, 0x7fff_ffff_ffff_ffffn),
    read: (d) => d.int64(),
    want: 0x7fff_ffff_ffff_ffffn,
    size: 8,
  },
  {
    name: 'int64 from a negative safe number',
    write: (e) => e.int64(1, Number.MIN_SAFE_INTEGER),
    read: (d) => d.int64(),
    want: BigInt(Number.MIN_SAFE_INTEGER),
    size: 8,
  },
  {
    name: 'uint fitting 32 bits takes 4 bytes',
    write: (e) => e.uint(1, 0xffff_ffff),
    read: (d) => d.uint(),
    want: 0xffff_ffffn,
    size: 4,
  },
  {
    name: 'uint over 32 bits takes 8 bytes',
    write: (e) => e.uint(1, 0x1_0000_0000n),
    read: (d) => d.uint(),
    want: 0x1_0000_0000n,
    size: 8,
  },
  {
    name: 'sint -1 takes 4 bytes',
    write: (e) => e.sint(1, -1),
    read: (d) => d.sint(),
    want: -1n,
    size: 4,
  },
  {
    name: 'sint under int32 takes 8 bytes',
    write: (e) => e.sint(1, -0x8000_0001n),
    read: (d) => d.sint(),
    want: -0x8000_0001n,
    size: 8,
  },
]

for (const c of intCases) {
  for (const byteOrder of ['host', 'network'] as const) {
    test(`integer round trip: ${c.name}, ${byteOrder} order`, (t) => {
      const buf = c.write(new AttributeEncoder({ byteOrder })).encode()
      const d = first(buf, byteOrder)

      t.is(d.length, c.size)
      t.is(d.type, 1)
      const flag = byteOrder === 'network' ? NLA_F_NET_BYTEORDER : 0
      t.is(d.typeFlags, flag)
      t.is(c.read(d), c.want)
      t.is(d.err, null)
      t.false(d.next())
    })
  }
}

test('network order writes integers big-endian', (t) => {
  const buf = new AttributeEncoder({ byteOrder: 'network' })
    .uint32(2, 0x0102_0304)
    .encode()

  t.deepEqual(buf, raw(2 | NLA_F_NET_BYTEORDER, [1, 2, 3, 4]))
})

test('the net byte order flag wins over a host-order decoder', (t) => {
  const buf = raw(2 | NLA_F_NET_BYTEORDER, [1, 2, 3, 4])

  t.is(first(buf, 'host').uint32(), 0x0102_0304)
})

interface MismatchCase {
  name: string
  read: (d: AttributeDecoder) => unknown
  zero: unknown
  size: number
}

const mismatchCases: MismatchCase[] = [
  { name: 'uint8', read: (d) => d.uint8(), zero: 0, size: 1 },
  { name: 'uint16', read: (d) => d.uint16(), zero: 0, size: 2 },
  { name: 'uint32', read: (d) => d.uint32(), zero: 0, size: 4 },
  { name: 'uint64', read: (d) => d.uint64(), zero: 0n, size: 8 },
  { name: 'int8', read: (d) => d.int8(), zero: 0, size: 1 },
  { name: 'int16', read: (d) => d.int16(), zero: 0, size: 2 },
  { name: 'int32', read: (d) => d.int32(), zero: 0, size: 4 },
  { name: 'int64', read: (d) => d.int64(), zero: 0n, size: 8 },
]

for (const c of mismatchCases) {
  for (const size of [c.size - 1, c.size + 1]) {
    test(`length mismatch: ${c.name} over ${size} bytes`, (t) => {
      const buf = Buffer.concat([
        raw(1, [0]),
        raw(7, new Array<number>(size).fill(1)),
        raw(8, [0]),
      ])
      const d = new AttributeDecoder(buf)
      d.next()
      d.next()

      t.is(c.read(d), c.zero)
      t.true(d.err instanceof AttributeError)
      t.is(d.err?.code, 'ERR_NETLINK_ATTRIBUTE')
      t.is(d.err?.offset, 8)
      t.is(d.err?.type, 7)
      t.regex(d.err?.message ?? '', new RegExp(`attribute 7 .*${c.name}`))
      t.false(d.next(), 'decoding stops after the error')
    })
  }
}

interface VariableCase {
  name: string
  value: number[]
  uint: bigint
  sint: bigint
}

const variableCases: VariableCase[] = [
  { name: '1 byte', value: [0xff], uint: 0xffn, sint: -1n },
  { name: '2 bytes', value: [0xff, 0xfe], uint: 0xfeffn, sint: -0x101n },
  {
    name: '4 bytes',
    value: [0, 0, 0, 0x80],
    uint: 0x8000_0000n,
    sint: -0x8000_0000n,
  },
  {
    name: '8 bytes',
    value: [1, 0, 0, 0, 0, 0, 0, 0x80],
    uint: 0x8000_0000_0000_0001n,
    sint: -0x7fff_ffff_ffff_ffffn,
  },
]

for (const c of variableCases) {
  test(`uint and sint read ${c.name}`, (t) => {
    // The value bytes are little-endian; a big-endian host sees them
    // reversed, so flip them there to keep the expectation.
    const value = HOST_BIG_ENDIAN ? [...c.value].reverse() : c.value
    const buf = raw(1, value)

    t.is(first(buf).uint(), c.uint)
    t.is(first(buf).sint(), c.sint)
  })
}

for (const size of [0, 3, 5, 16]) {
  test(`uint and sint reject ${size} bytes`, (t) => {
    const buf = raw(1, new Array<number>(size).fill(0))

    const u = first(buf)
    t.is(u.uint(), 0n)
    t.regex(u.err?.message ?? '', /uint needs 1, 2, 4 or 8 bytes/)

    const s = first(buf)
    t.is(s.sint(), 0n)
    t.regex(s.err?.message ?? '', /sint needs 1, 2, 4 or 8 bytes/)
  })
}

// Values a writer cannot hold: the error names the attribute type.

interface RangeCase {
  name: string
  write: (e: AttributeEncoder) => AttributeEncoder
  error: typeof TypeError | typeof RangeError
}

const rangeCases: RangeCase[] = [
  { name: 'uint8 256', write: (e) => e.uint8(9, 256), error: RangeError },
  { name: 'uint8 -1', write: (e) => e.uint8(9, -1), error: RangeError },
  { name: 'uint8 1.5', write: (e) => e.uint8(9, 1.5), error: RangeError },
  { name: 'uint8 NaN', write: (e) => e.uint8(9, NaN), error: RangeError },
  {
    name: 'uint16 65536',
    write: (e) => e.uint16(9, 0x1_0000),
    error: RangeError,
  },
  {
    name: 'uint32 2^32',
    write: (e) => e.uint32(9, 0x1_0000_0000),
    error: RangeError,
  },
  { name: 'int8 -129', write: (e) => e.int8(9, -129), error: RangeError },
  { name: 'int16 32768', write: (e) => e.int16(9, 0x8000), error: RangeError },
  {
    name: 'int32 -2^31-1',
    write: (e) => e.int32(9, -0x8000_0001),
    error: RangeError,
  },
  { name: 'uint64 -1n', write: (e) => e.uint64(9, -1n), error: RangeError },
  {
    name: 'uint64 2^64',
    write: (e) => e.uint64(9, 0x1_0000_0000_0000_0000n),
    error: RangeError,
  },
  {
    name: 'uint64 unsafe number',
    write: (e) => e.uint64(9, 2 ** 53),
    error: RangeError,
  },
  {
    name: 'int64 2^63',
    write: (e) => e.int64(9, 0x8000_0000_0000_0000n),
    error: RangeError,
  },
  {
    name: 'int64 unsafe number',
    write: (e) => e.int64(9, -(2 ** 60)),
    error: RangeError,
  },
  { name: 'uint -1', write: (e) => e.uint(9, -1), error: RangeError },
  {
    name: 'sint 2^63',
    write: (e) => e.sint(9, 0x8000_0000_0000_0000n),
    error: RangeError,
  },
  {
    name: 'uint8 given a bigint',
    write: (e) => e.uint8(9, 1n as unknown as number),
    error: TypeError,
  },
  {
    name: 'uint64 given a string',
    write: (e) => e.uint64(9, '1' as unknown as bigint),
    error: TypeError,
  },
  {
    name: 'string given a number',
    write: (e) => e.string(9, 1 as unknown as string),
    error: TypeError,
  },
  {
    name: 'bytes given an array',
    write: (e) => e.bytes(9, [1] as unknown as Uint8Array),
    error: TypeError,
  },
  {
    name: 'flag given a number',
    write: (e) => e.flag(9, 1 as unknown as boolean),
    error: TypeError,
  },
  {
    name: 'bytes of 65,532 bytes',
    write: (e) => e.bytes(9, Buffer.alloc(65_532)),
    error: RangeError,
  },
  {
    name: 'string of 65,531 bytes plus its NUL',
    write: (e) => e.string(9, 'x'.repeat(65_531)),
    error: RangeError,
  },
  {
    name: 'nested value of 65,532 bytes',
    write: (e) => e.nested(9, (c) => c.bytes(1, Buffer.alloc(65_528))),
    error: RangeError,
  },
]

for (const c of rangeCases) {
  test(`encoder rejects: ${c.name}`, (t) => {
    const e = c.write(new AttributeEncoder())

    const err = t.throws(() => e.encode(), { instanceOf: c.error })
    t.regex(err?.message ?? '', /^attribute 9: /)
    t.is(e.length, 0)
  })
}

test('encoder takes a value of 65,531 bytes, the most nla_len allows', (t) => {
  const buf = new AttributeEncoder().bytes(9, Buffer.alloc(65_531)).encode()

  t.is(buf.length, 65_536)
  t.is(first(buf).length, 65_531)
})

const typeCases = [
  { name: '0x4000, a flag bit', type: 0x4000, error: RangeError },
  { name: '-1', type: -1, error: RangeError },
  { name: '1.5', type: 1.5, error: RangeError },
  { name: 'a string', type: '1' as unknown as number, error: TypeError },
]

for (const c of typeCases) {
  test(`encoder rejects attribute type ${c.name}`, (t) => {
    const e = new AttributeEncoder().uint8(c.type, 1)

    const err = t.throws(() => e.encode(), { instanceOf: c.error })
    t.regex(err?.message ?? '', /^attribute type must be/)
  })
}

test('encoder keeps the first error and ignores later calls', (t) => {
  const e = new AttributeEncoder()
    .uint8(1, 1)
    .uint8(2, 300)
    .uint8(3, 400)
    .string(4, 'ignored')

  const err = t.throws(() => e.encode(), { instanceOf: RangeError })
  t.regex(err?.message ?? '', /^attribute 2: uint8 value out of range: 300/)
  t.is(e.length, 8, 'only the attribute before the error was written')
  t.is(
    t.throws(() => e.encode()),
    err,
    'encode throws the same error again',
  )
})

test('encoder keeps an exception thrown by a nested callback', (t) => {
  const boom = new Error('boom')
  const e = new AttributeEncoder().nested(1, () => {
    throw boom
  })

  t.is(
    t.throws(() => e.encode()),
    boom,
  )
})

test('encoder takes a nested child error as its own', (t) => {
  const e = new AttributeEncoder().nested(1, (c) => c.uint16(5, -1))

  const err = t.throws(() => e.encode(), { instanceOf: RangeError })
  t.regex(err?.message ?? '', /^attribute 5: /)
})

test('encoder do() writes what the callback computes', (t) => {
  const buf = new AttributeEncoder()
    .do(3, () => Uint8Array.of(1, 2, 3))
    .encode()

  t.deepEqual(buf, raw(3, [1, 2, 3]))
})

test('encoder do() keeps an exception thrown by the callback', (t) => {
  const boom = new Error('boom')
  const e = new AttributeEncoder().do(3, () => {
    throw boom
  })

  t.is(
    t.throws(() => e.encode()),
    boom,
  )
})

test('encoder length counts padding, and encode returns a copy', (t) => {
  const e = new AttributeEncoder().uint8(1, 1)
  t.is(e.length, 8)

  const a = e.encode()
  a[4] = 99
  t.is(e.encode()[4], 1)
})

test('encoder grows past its first buffer without losing bytes', (t) => {
  const e = new AttributeEncoder()
  for (let i = 0; i < 1000; i++) e.uint32(i & NLA_TYPE_MASK, i)

  const d = new AttributeDecoder(e.encode())
  let n = 0
  while (d.next()) t.is(d.uint32(), n++)
  t.is(n, 1000)
})

test('encoder rejects a bad byteOrder option', (t) => {
  t.throws(
    () => new AttributeEncoder({ byteOrder: 'big' as unknown as ByteOrder }),
    { instanceOf: TypeError, message: /byteOrder/ },
  )
})

// Strings and flags.

const stringCases = [
  { name: 'ASCII with NUL', value: [0x65, 0x74, 0x68, 0x30, 0], want: 'eth0' },
  { name: 'ASCII without NUL', value: [0x65, 0x74, 0x68, 0x30], want: 'eth0' },
  { name: 'cut at the first NUL', value: [0x61, 0, 0x62, 0], want: 'a' },
  { name: 'only a NUL', value: [0], want: '' },
  { name: 'empty', value: [], want: '' },
  { name: 'UTF-8', value: [0xc3, 0xa9, 0], want: '\u00e9' },
]

for (const c of stringCases) {
  test(`string decodes: ${c.name}`, (t) => {
    t.is(first(raw(1, c.value)).string(), c.want)
  })
}

test('string encodes UTF-8 and a NUL', (t) => {
  const buf = new AttributeEncoder().string(1, 'h\u00e9').encode()

  t.deepEqual(buf, raw(1, [0x68, 0xc3, 0xa9, 0]))
})

test('flag writes an empty attribute only when on', (t) => {
  const buf = new AttributeEncoder().flag(1, true).flag(2, false).encode()

  t.deepEqual(buf, raw(1, []))
  t.true(first(buf).flag())
})

test('flag with data is an error', (t) => {
  const d = first(raw(4, [1]))

  t.false(d.flag())
  t.true(d.err instanceof AttributeError)
  t.is(d.err?.type, 4)
  t.regex(d.err?.message ?? '', /flag carries 1 bytes/)
})

// Nesting.

test('nested child inherits network byte order', (t) => {
  const buf = new AttributeEncoder({ byteOrder: 'network' })
    .nested(1, (c) => c.uint16(2, 0x1234).string(3, 'a'))
    .encode()

  const inner = Buffer.concat([
    raw(2 | NLA_F_NET_BYTEORDER, [0x12, 0x34]),
    raw(3, [0x61, 0]),
  ])
  t.deepEqual(buf, Buffer.concat([header(4 + inner.length, 0x8001), inner]))
})

test('nested decoder inherits network byte order', (t) => {
  // No net byte order flag on the inner attribute: only the inherited
  // option makes it big-endian.
  const inner = raw(2, [0x12, 0x34])
  const buf = Buffer.concat([header(4 + inner.length, 1), inner])

  const d = first(buf, 'network')
  let got = 0
  d.nested((c) => {
    c.next()
    got = c.uint16()
  })
  t.is(got, 0x1234)
})

test('nested error propagates with an offset in the outer buffer', (t) => {
  const inner = Buffer.concat([raw(2, [1]), raw(3, [1, 2])])
  const buf = Buffer.concat([raw(1, [0]), header(4 + inner.length, 5), inner])

  const d = new AttributeDecoder(buf)
  d.next()
  d.next()
  d.nested((c) => {
    while (c.next()) c.uint16()
  })

  t.is(d.err?.offset, 12, 'the type 2 attribute starts at byte 12')
  t.is(d.err?.type, 2)
  t.false(d.next())
})

test('nested callback exception becomes err with a cause', (t) => {
  const boom = new Error('boom')
  const d = first(raw(1, []))
  d.nested(() => {
    throw boom
  })

  t.true(d.err instanceof AttributeError)
  t.is(d.err?.cause, boom)
  t.regex(d.err?.message ?? '', /boom/)
})

test('decoder do() hands over a view and records exceptions', (t) => {
  const buf = raw(1, [1, 2, 3])
  const d = first(buf)

  d.do((b) => {
    t.is(b.buffer, buf.buffer)
    t.deepEqual([...b], [1, 2, 3])
  })
  t.is(d.err, null)

  d.do(() => {
    throw new Error('bad value')
  })
  t.regex(d.err?.message ?? '', /bad value/)
})

// Types and their flag bits.

test('type 0x3fff is kept whole and flag bits go to typeFlags', (t) => {
  const buf = Buffer.concat([raw(0x3fff, []), raw(0xffff, [])])
  const d = new AttributeDecoder(buf)

  t.true(d.next())
  t.is(d.type, 0x3fff)
  t.is(d.typeFlags, 0)
  t.true(d.next())
  t.is(d.type, 0x3fff)
  t.is(d.typeFlags, NLA_F_NESTED | NLA_F_NET_BYTEORDER)
})

test('encoder takes type 0x3fff and sets NLA_F_NESTED on nests', (t) => {
  const buf = new AttributeEncoder()
    .flag(0x3fff, true)
    .nested(0x3fff, () => {})
    .encode()

  t.deepEqual(buf, Buffer.concat([raw(0x3fff, []), raw(0xbfff, [])]))
})

// Framing: where attributes end and where they lie.

interface FramingCase {
  name: string
  buf: Buffer
  types: number[]
  offset?: number
  type?: number
}

const framingCases: FramingCase[] = [
  { name: 'empty input', buf: Buffer.alloc(0), types: [] },
  {
    name: 'zero-length attributes',
    buf: Buffer.concat([raw(1, []), raw(2, [])]),
    types: [1, 2],
  },
  {
    name: 'unpadded last attribute',
    buf: Buffer.concat([raw(1, [1]), raw(2, [0x61], false)]),
    types: [1, 2],
  },
  {
    name: 'last attribute padded only in part',
    buf: Buffer.concat([raw(2, [0x61], false), Buffer.alloc(2)]),
    types: [2],
  },
  {
    name: '3-byte trailing fragment',
    buf: Buffer.concat([raw(1, [1]), Buffer.from([1, 2, 3])]),
    types: [1],
    offset: 8,
  },
  {
    name: '1-byte input',
    buf: Buffer.from([4]),
    types: [],
    offset: 0,
  },
  {
    name: 'length 0xffff past the end',
    buf: Buffer.concat([raw(1, []), header(0xffff, 6), Buffer.alloc(8)]),
    types: [1],
    offset: 4,
    type: 6,
  },
  {
    name: 'length 0',
    buf: Buffer.concat([raw(1, []), header(0, 6), Buffer.alloc(4)]),
    types: [1],
    offset: 4,
    type: 6,
  },
  {
    name: 'length 3',
    buf: Buffer.concat([header(3, 6), Buffer.alloc(4)]),
    types: [],
    offset: 0,
    type: 6,
  },
]

for (const c of framingCases) {
  test(`framing: ${c.name}`, (t) => {
    const d = new AttributeDecoder(c.buf)
    const types: number[] = []
    while (d.next()) types.push(d.type)

    t.deepEqual(types, c.types)
    if (c.offset === undefined) {
      t.is(d.err, null)
      return
    }
    t.true(d.err instanceof AttributeError)
    t.is(d.err?.offset, c.offset)
    t.is(d.err?.type, c.type)
    t.regex(d.err?.message ?? '', new RegExp(`offset ${c.offset}\\b`))
    t.false(d.next(), 'next stays false')
  })

  test(`iteration matches next(): ${c.name}`, (t) => {
    const byNext = new AttributeDecoder(c.buf)
    const want: unknown[] = []
    while (byNext.next()) {
      want.push({
        type: byNext.type,
        typeFlags: byNext.typeFlags,
        data: byNext.bytes(),
      })
    }

    const byIter = new AttributeDecoder(c.buf)
    t.deepEqual([...byIter], want)
    t.deepEqual(byIter.err, byNext.err)
  })
}

test('bytes() is a view into the input', (t) => {
  const buf = raw(1, [1, 2, 3, 4])
  const v = first(buf).bytes()

  buf[4] = 9
  t.is(v[0], 9)
})

test('decoder reads a plain Uint8Array without copying it', (t) => {
  const u8 = new Uint8Array(raw(1, [1, 2, 3, 4]))
  const v = first(Buffer.from(u8.buffer)).bytes()
  const w = new AttributeDecoder(u8)
  w.next()

  t.is(w.bytes().buffer, u8.buffer)
  t.deepEqual([...w.bytes()], [...v])
})

test('decoder rejects input that is not bytes', (t) => {
  t.throws(() => new AttributeDecoder('x' as unknown as Buffer), {
    instanceOf: TypeError,
  })
})

// marshalAttributes and unmarshalAttributes.

test('marshal and unmarshal keep unknown types and flag bits', (t) => {
  const attrs = [
    { type: 1, data: Buffer.from([1, 2, 3]) },
    { type: 0x3fff, data: Buffer.alloc(0) },
    { type: 0x8002, data: Buffer.from(raw(1, [7])) },
    { type: 0x4003, data: Buffer.from([0, 0, 0, 1]) },
    { type: 0xffff, data: Buffer.alloc(17, 0xee) },
  ]
  const buf = marshalAttributes(attrs)

  t.deepEqual(unmarshalAttributes(buf), attrs)
})

test('unmarshal returns views into its input', (t) => {
  const buf = raw(1, [1, 2])

  t.is(unmarshalAttributes(buf)[0]!.data.buffer, buf.buffer)
})

test('unmarshal throws AttributeError on malformed input', (t) => {
  const buf = Buffer.concat([raw(1, []), Buffer.from([1])])

  const err = t.throws(() => unmarshalAttributes(buf), {
    instanceOf: AttributeError,
  })
  t.is(err?.offset, 4)
})

const marshalErrorCases = [
  {
    name: 'type over 0xffff',
    attrs: [{ type: 0x1_0000, data: Buffer.alloc(0) }],
    error: RangeError,
    message: /^attrs\[0\]\.type/,
  },
  {
    name: 'data not bytes',
    attrs: [{ type: 1, data: 'x' as unknown as Uint8Array }],
    error: TypeError,
    message: /^attrs\[0\]\.data/,
  },
  {
    name: 'value of 65,532 bytes',
    attrs: [{ type: 0x8005, data: Buffer.alloc(65_532) }],
    error: RangeError,
    message: /^attribute 5: /,
  },
]

for (const c of marshalErrorCases) {
  test(`marshal rejects: ${c.name}`, (t) => {
    t.throws(() => marshalAttributes(c.attrs), {
      instanceOf: c.error,
      message: c.message,
    })
  })
}

// Properties over random attribute trees and random bytes.

type Leaf =
  | { kind: 'uint8' | 'uint16' | 'uint32'; type: number; value: number }
  | { kind: 'int8' | 'int16' | 'int32'; type: number; value: number }
  | { kind: 'uint64' | 'int64' | 'uint' | 'sint'; type: number; value: bigint }
  | { kind: 'string'; type: number; value: string }
  | { kind: 'bytes'; type: number; value: number[] }
  | { kind: 'flag'; type: number }

type Node = Leaf | { kind: 'nested'; type: number; children: Node[] }

const attrType = fc.integer({ min: 0, max: NLA_TYPE_MASK })

/** Records with a plain prototype, to compare with decoded objects. */
function plain<T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }) {
  return fc.record(model, { noNullPrototype: true })
}

function intLeaf<K extends string>(kind: K, min: number, max: number) {
  return plain({
    kind: fc.constant(kind),
    type: attrType,
    value: fc.integer({ min, max }),
  })
}

function bigLeaf<K extends string>(kind: K, min: bigint, max: bigint) {
  return plain({
    kind: fc.constant(kind),
    type: attrType,
    value: fc.bigInt({ min, max }),
  })
}

const leaf: fc.Arbitrary<Leaf> = fc.oneof(
  intLeaf('uint8', 0, 0xff),
  intLeaf('uint16', 0, 0xffff),
  intLeaf('uint32', 0, 0xffff_ffff),
  intLeaf('int8', -0x80, 0x7f),
  intLeaf('int16', -0x8000, 0x7fff),
  intLeaf('int32', -0x8000_0000, 0x7fff_ffff),
  bigLeaf('uint64', 0n, 2n ** 64n - 1n),
  bigLeaf('int64', -(2n ** 63n), 2n ** 63n - 1n),
  bigLeaf('uint', 0n, 2n ** 64n - 1n),
  bigLeaf('sint', -(2n ** 63n), 2n ** 63n - 1n),
  plain({
    kind: fc.constant('string' as const),
    type: attrType,
    value: fc.string({ unit: 'binary' }).map((s) => s.replace(/\0/g, '')),
  }),
  plain({
    kind: fc.constant('bytes' as const),
    type: attrType,
    value: fc.array(fc.integer({ min: 0, max: 0xff }), { maxLength: 40 }),
  }),
  plain({ kind: fc.constant('flag' as const), type: attrType }),
) as fc.Arbitrary<Leaf>

const tree = fc.letrec<{ node: Node; nested: Node }>((tie) => ({
  node: fc.oneof({ maxDepth: 4, depthIdentifier: 'tree' }, leaf, tie('nested')),
  nested: plain({
    kind: fc.constant('nested' as const),
    type: attrType,
    children: fc.array(tie('node'), {
      maxLength: 5,
      depthIdentifier: 'tree',
    }),
  }),
}))

const forest = fc.array(tree.node, { maxLength: 8 })
const byteOrder = fc.constantFrom<ByteOrder>('host', 'network')

function encodeNodes(e: AttributeEncoder, nodes: Node[]): void {
  for (const n of nodes) {
    switch (n.kind) {
      case 'nested':
        e.nested(n.type, (c) => encodeNodes(c, n.children))
        break
      case 'flag':
        e.flag(n.type, true)
        break
      case 'bytes':
        e.bytes(n.type, Buffer.from(n.value))
        break
      case 'string':
        e.string(n.type, n.value)
        break
      default:
        // Every integer writer has the kind's name and the same shape.
        ;(e[n.kind] as (t: number, v: number | bigint) => unknown)(
          n.type,
          n.value,
        )
    }
  }
}

/** Decodes attributes in the shape of `model`, checking flags on the way. */
function decodeNodes(
  d: AttributeDecoder,
  model: Node[],
  network: boolean,
): Node[] {
  const out: Node[] = []
  for (const m of model) {
    ok(d.next(), `attribute ${m.type} is missing: ${d.err?.message}`)

    let want = 0
    if (m.kind === 'nested') want = NLA_F_NESTED
    else if (network && /int/.test(m.kind)) want = NLA_F_NET_BYTEORDER
    deepStrictEqual(d.typeFlags, want)

    out.push(decodeOne(d, m, network))
  }

  ok(!d.next(), 'no attributes beyond the model')
  deepStrictEqual(d.err, null)
  return out
}

function decodeOne(d: AttributeDecoder, m: Node, network: boolean): Node {
  const type = d.type
  switch (m.kind) {
    case 'nested': {
      let children: Node[] = []
      d.nested((c) => {
        children = decodeNodes(c, m.children, network)
      })
      if (d.err !== null) throw d.err.cause ?? d.err
      return { kind: 'nested', type, children }
    }
    case 'flag':
      ok(d.flag())
      return { kind: 'flag', type }
    case 'bytes':
      return { kind: 'bytes', type, value: [...d.bytes()] }
    case 'string':
      return { kind: 'string', type, value: d.string() }
    default:
      return {
        kind: m.kind,
        type,
        value: (d[m.kind] as () => number | bigint)(),
      } as Node
  }
}

test('property: decode(encode(tree)) gives the tree back', (t) => {
  t.notThrows(() =>
    fc.assert(
      fc.property(forest, byteOrder, (nodes, order) => {
        const e = new AttributeEncoder({ byteOrder: order })
        encodeNodes(e, nodes)
        const buf = e.encode()
        const network = order === 'network'

        const same = new AttributeDecoder(buf, { byteOrder: order })
        deepStrictEqual(decodeNodes(same, nodes, network), nodes)

        // Net byte order flags make a host-order decoder read it too.
        const host = new AttributeDecoder(buf)
        deepStrictEqual(decodeNodes(host, nodes, network), nodes)
      }),
    ),
  )
})

/**
 * Drives a decoder through every kind of read, choosing by position, and
 * nests into every attribute, to reach as many paths as input allows.
 */
function poke(d: AttributeDecoder, depth: number): void {
  const reads: Array<(d: AttributeDecoder) => unknown> = [
    (x) => x.uint8(),
    (x) => x.uint16(),
    (x) => x.uint32(),
    (x) => x.uint64(),
    (x) => x.int8(),
    (x) => x.int16(),
    (x) => x.int32(),
    (x) => x.int64(),
    (x) => x.uint(),
    (x) => x.sint(),
    (x) => x.string(),
    (x) => x.bytes(),
    (x) => x.flag(),
    (x) => x.do(() => {}),
  ]

  let i = 0
  while (d.next()) {
    if (depth < 6 && i % 2 === 0) d.nested((c) => poke(c, depth + 1))
    else reads[(d.type + i) % reads.length]!(d)
    i++
  }
}

function checkDecoderError(d: AttributeDecoder, size: number): void {
  if (d.err === null) return
  ok(d.err instanceof AttributeError, 'err is an AttributeError')
  deepStrictEqual(d.err.code, 'ERR_NETLINK_ATTRIBUTE')
  ok(d.err.offset >= 0 && d.err.offset < size, `offset ${d.err.offset}`)
}

const mutation = fc.record({
  at: fc.nat(),
  byte: fc.integer({ min: 0, max: 0xff }),
})

/** A valid encoding with some bytes changed and maybe its end cut off. */
const mutated = fc
  .tuple(forest, fc.array(mutation, { maxLength: 6 }), fc.nat())
  .map(([nodes, changes, cut]) => {
    const e = new AttributeEncoder()
    encodeNodes(e, nodes)
    const buf = e.encode()
    if (buf.length === 0) return buf

    for (const c of changes) buf[c.at % buf.length] = c.byte
    return buf.subarray(0, buf.length - (cut % 8))
  })

const anyBytes = fc.oneof(
  fc.uint8Array({ maxLength: 200 }).map((u) => Buffer.from(u)),
  mutated,
)

test('property: the decoder never throws on arbitrary bytes', (t) => {
  t.notThrows(() =>
    fc.assert(
      fc.property(anyBytes, byteOrder, (buf, order) => {
        const d = new AttributeDecoder(buf, { byteOrder: order })
        poke(d, 0)
        checkDecoderError(d, buf.length)

        const it = new AttributeDecoder(buf, { byteOrder: order })
        for (const a of it) ok(a.data.length <= buf.length)
        checkDecoderError(it, buf.length)
      }),
      { numRuns: 500 },
    ),
  )
})

test('property: unmarshal throws nothing but AttributeError', (t) => {
  t.notThrows(() =>
    fc.assert(
      fc.property(anyBytes, (buf) => {
        let attrs
        try {
          attrs = unmarshalAttributes(buf)
        } catch (err) {
          ok(err instanceof AttributeError, String(err))
          return
        }

        // What unmarshal accepts survives a trip through marshal.
        const again = unmarshalAttributes(marshalAttributes(attrs))
        deepStrictEqual(again, attrs)
      }),
      { numRuns: 500 },
    ),
  )
})
