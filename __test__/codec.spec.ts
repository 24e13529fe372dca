import { deepStrictEqual, ok } from 'node:assert'
import { endianness } from 'node:os'

import test from 'ava'
import * as fc from 'fast-check'

import { MessageError, marshalMessage, parseMessages } from '../lib/codec'
import type { MessageLike } from '../lib/codec'
import type { Header } from '../lib/message'

const HOST_BIG_ENDIAN = endianness() === 'BE'

/** A raw header in host byte order, whatever length it is given. */
function rawHeader(length: number, type = 16, flags = 0, seq = 0, pid = 0) {
  const b = Buffer.alloc(16)
  if (HOST_BIG_ENDIAN) {
    b.writeUInt32BE(length, 0)
    b.writeUInt16BE(type, 4)
    b.writeUInt16BE(flags, 6)
    b.writeUInt32BE(seq, 8)
    b.writeUInt32BE(pid, 12)
  } else {
    b.writeUInt32LE(length, 0)
    b.writeUInt16LE(type, 4)
    b.writeUInt16LE(flags, 6)
    b.writeUInt32LE(seq, 8)
    b.writeUInt32LE(pid, 12)
  }
  return b
}

function header(fields: Partial<Header> = {}): Header {
  return { length: 0, type: 16, flags: 1, sequence: 1, pid: 0, ...fields }
}

test('marshal then parse gives several messages back', (t) => {
  const input = [
    { header: header({ type: 18, flags: 0x301, sequence: 1 }) },
    {
      header: header({ type: 16, flags: 0x605, sequence: 2, pid: 77 }),
      data: Buffer.from([1, 2, 3, 4, 5]),
    },
    {
      header: header({ type: 3, flags: 2, sequence: 0xffff_ffff }),
      data: Buffer.alloc(20, 0xab),
    },
  ]
  const batch = Buffer.concat(input.map((m) => marshalMessage(m)))

  const got = parseMessages(batch)
  t.is(got.length, 3)
  for (const [i, m] of got.entries()) {
    const data = input[i]!.data ?? Buffer.alloc(0)
    t.deepEqual(m.header, { ...input[i]!.header, length: 16 + data.length })
    t.deepEqual(m.data, data)
  }
})

test('marshal writes the header in host order and pads with zeros', (t) => {
  const buf = marshalMessage({
    header: header({ type: 0x12, flags: 0x301, sequence: 7, pid: 9 }),
    data: Buffer.from([0xaa]),
  })

  const want = Buffer.concat([
    rawHeader(17, 0x12, 0x301, 7, 9),
    Buffer.from([0xaa, 0, 0, 0]),
  ])
  t.deepEqual(buf, want)
})

test('marshal ignores and keeps the given header.length', (t) => {
  const m = { header: header({ length: 999 }), data: Buffer.alloc(4) }
  const buf = marshalMessage(m)

  t.is(parseMessages(buf)[0]!.header.length, 20)
  t.is(m.header.length, 999)
})

test('marshal takes a header without a length', (t) => {
  const m: MessageLike = {
    header: { type: 16, flags: 1, sequence: 1, pid: 0 },
  }

  t.is(marshalMessage(m).length, 16)
})

test('parse accepts an unpadded last message', (t) => {
  const first = marshalMessage({ header: header(), data: Buffer.from([1]) })
  const last = marshalMessage({ header: header(), data: Buffer.from([2]) })
  const batch = Buffer.concat([first, last.subarray(0, 17)])

  const got = parseMessages(batch)
  t.is(got.length, 2)
  t.deepEqual([...got[1]!.data], [2])
})

test('parse returns data as views into the batch', (t) => {
  const batch = marshalMessage({ header: header(), data: Buffer.from([1]) })
  const m = parseMessages(batch)[0]!

  batch[16] = 5
  t.is(m.data[0], 5)
})

test('parse of an empty batch is no messages', (t) => {
  t.deepEqual(parseMessages(Buffer.alloc(0)), [])
})

// Lengths that lie: the error says where, and keeps what came before.

interface LieCase {
  name: string
  tail: Buffer
}

const good = [
  marshalMessage({ header: header({ sequence: 1 }) }),
  marshalMessage({ header: header({ sequence: 2 }), data: Buffer.alloc(3) }),
]
const goodLength = good.reduce((n, b) => n + b.length, 0)

const lieCases: LieCase[] = [
  { name: 'length 0', tail: rawHeader(0) },
  { name: 'length 15', tail: rawHeader(15) },
  { name: 'length past the end', tail: rawHeader(17) },
  { name: 'length 0xffffffff', tail: rawHeader(0xffff_ffff) },
  ...Array.from({ length: 15 }, (_, i) => ({
    name: `${i + 1} trailing bytes`,
    tail: Buffer.alloc(i + 1, 0xff),
  })),
]

for (const c of lieCases) {
  test(`parse rejects: ${c.name}`, (t) => {
    const batch = Buffer.concat([...good, c.tail])

    const err = t.throws(() => parseMessages(batch), {
      instanceOf: MessageError,
    })
    t.is(err?.code, 'ERR_NETLINK_MESSAGE')
    t.is(err?.offset, goodLength)
    t.regex(err?.message ?? '', new RegExp(`offset ${goodLength}\\b`))
    t.deepEqual(
      err?.messages.map((m) => m.header.sequence),
      [1, 2],
      'messages before the fault are kept',
    )
  })
}

test('parse rejects a lying first message with no messages kept', (t) => {
  const err = t.throws(() => parseMessages(rawHeader(4)), {
    instanceOf: MessageError,
  })

  t.is(err?.offset, 0)
  t.deepEqual(err?.messages, [])
})

// Marshal validation: each error names the field.

interface FieldCase {
  name: string
  message: unknown
  error: typeof TypeError | typeof RangeError
  pattern: RegExp
}

const fieldCases: FieldCase[] = [
  {
    name: 'type over 0xffff',
    message: { header: header({ type: 0x1_0000 }) },
    error: RangeError,
    pattern: /^header\.type out of range: 65536/,
  },
  {
    name: 'type negative',
    message: { header: header({ type: -1 }) },
    error: RangeError,
    pattern: /^header\.type/,
  },
  {
    name: 'type a string',
    message: { header: header({ type: '16' as unknown as number }) },
    error: TypeError,
    pattern: /^header\.type must be a number/,
  },
  {
    name: 'flags over 0xffff',
    message: { header: header({ flags: 0x1_0000 }) },
    error: RangeError,
    pattern: /^header\.flags/,
  },
  {
    name: 'sequence over 2^32-1',
    message: { header: header({ sequence: 0x1_0000_0000 }) },
    error: RangeError,
    pattern: /^header\.sequence/,
  },
  {
    name: 'sequence not an integer',
    message: { header: header({ sequence: 1.5 }) },
    error: RangeError,
    pattern: /^header\.sequence/,
  },
  {
    name: 'pid missing',
    message: { header: { type: 16, flags: 0, sequence: 0 } },
    error: TypeError,
    pattern: /^header\.pid/,
  },
  {
    name: 'pid negative',
    message: { header: header({ pid: -1 }) },
    error: RangeError,
    pattern: /^header\.pid/,
  },
  {
    name: 'data a string',
    message: { header: header(), data: 'abc' },
    error: TypeError,
    pattern: /^data must be a Uint8Array/,
  },
  {
    name: 'header missing',
    message: {},
    error: TypeError,
    pattern: /^header must be an object/,
  },
  {
    name: 'message null',
    message: null,
    error: TypeError,
    pattern: /^message must be an object/,
  },
]

for (const c of fieldCases) {
  test(`marshal rejects: ${c.name}`, (t) => {
    t.throws(() => marshalMessage(c.message as MessageLike), {
      instanceOf: c.error,
      message: c.pattern,
    })
  })
}

// Properties.

const u16 = fc.integer({ min: 0, max: 0xffff })
const u32 = fc.integer({ min: 0, max: 0xffff_ffff })

const message = fc.record(
  {
    header: fc.record(
      {
        length: fc.constant(0),
        type: u16,
        flags: u16,
        sequence: u32,
        pid: u32,
      },
      { noNullPrototype: true },
    ),
    data: fc.uint8Array({ maxLength: 64 }).map((u) => Buffer.from(u)),
  },
  { noNullPrototype: true },
)

test('property: parse(marshal(messages)) gives them back', (t) => {
  t.notThrows(() =>
    fc.assert(
      fc.property(fc.array(message, { maxLength: 6 }), (messages) => {
        const batch = Buffer.concat(messages.map((m) => marshalMessage(m)))
        const got = parseMessages(batch)

        const want = messages.map((m) => ({
          header: { ...m.header, length: 16 + m.data.length },
          data: m.data,
        }))
        deepStrictEqual(got, want)
      }),
    ),
  )
})

/** Random bytes, and valid batches with bytes changed or the end cut. */
const anyBatch = fc.oneof(
  fc.uint8Array({ maxLength: 128 }).map((u) => Buffer.from(u)),
  fc
    .tuple(
      fc.array(message, { minLength: 1, maxLength: 4 }),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 0xff })), {
        maxLength: 4,
      }),
      fc.nat({ max: 20 }),
    )
    .map(([messages, changes, cut]) => {
      const b = Buffer.concat(messages.map((m) => marshalMessage(m)))
      for (const [at, v] of changes) b[at % b.length] = v
      return b.subarray(0, Math.max(0, b.length - cut))
    }),
)

test('property: parse throws nothing but MessageError', (t) => {
  t.notThrows(() =>
    fc.assert(
      fc.property(anyBatch, (batch) => {
        try {
          for (const m of parseMessages(batch)) {
            ok(m.header.length >= 16 && m.data.length <= batch.length)
          }
        } catch (err) {
          ok(err instanceof MessageError, String(err))
          ok(err.offset >= 0 && err.offset < batch.length)
          ok(Array.isArray(err.messages))
        }
      }),
      { numRuns: 500 },
    ),
  )
})
