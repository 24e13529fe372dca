import { ok } from 'node:assert'
import { endianness } from 'node:os'

import test from 'ava'
import * as fc from 'fast-check'

import { AttributeEncoder } from '../lib/attribute'
import {
  formatAttributes,
  formatFlags,
  formatHex,
  formatMessage,
} from '../lib/format'
import type { Message } from '../lib/message'

const HOST_BIG_ENDIAN = endianness() === 'BE'

function int32(v: number): Buffer {
  const b = Buffer.alloc(4)
  if (HOST_BIG_ENDIAN) b.writeInt32BE(v, 0)
  else b.writeInt32LE(v, 0)
  return b
}

function message(type: number, flags: number, data: Buffer): Message {
  return {
    header: { length: 16 + data.length, type, flags, sequence: 5, pid: 42 },
    data,
  }
}

// RTM_NEWLINK 16, RTM_DELLINK 17, RTM_GETLINK 18, RTM_SETLINK 19 and
// RTM_GETROUTE 26 stand for the rtnetlink kinds.
const flagCases = [
  { name: 'nothing', flags: 0, type: undefined, want: '0' },
  {
    name: 'every common bit',
    flags: 0x3f,
    type: undefined,
    want: 'request|multi|ack|echo|dump-intr|dump-filtered',
  },
  {
    name: 'high bits without a type',
    flags: 0x301,
    type: undefined,
    want: 'request|0x300',
  },
  { name: 'GET dump', flags: 0x305, type: 18, want: 'request|ack|dump' },
  { name: 'GET root', flags: 0x101, type: 18, want: 'request|root' },
  { name: 'GET match', flags: 0x201, type: 26, want: 'request|match' },
  {
    name: 'GET dump and atomic',
    flags: 0x701,
    type: 26,
    want: 'request|dump|atomic',
  },
  { name: 'GET unknown 0x800', flags: 0x801, type: 18, want: 'request|0x800' },
  {
    name: 'NEW create excl',
    flags: 0x605,
    type: 16,
    want: 'request|ack|excl|create',
  },
  {
    name: 'NEW replace append',
    flags: 0x901,
    type: 16,
    want: 'request|replace|append',
  },
  { name: 'DEL nonrec', flags: 0x105, type: 17, want: 'request|ack|nonrec' },
  { name: 'DEL bulk', flags: 0x201, type: 17, want: 'request|bulk' },
  { name: 'DEL unknown 0x400', flags: 0x401, type: 17, want: 'request|0x400' },
  {
    name: 'SET has no high names',
    flags: 0x101,
    type: 19,
    want: 'request|0x100',
  },
  { name: 'ACK capped', flags: 0x100, type: 2, want: 'capped' },
  { name: 'ACK tlvs', flags: 0x300, type: 2, want: 'capped|ack-tlvs' },
  { name: 'DONE tlvs', flags: 0x202, type: 3, want: 'multi|ack-tlvs' },
  { name: 'NOOP high bit', flags: 0x100, type: 1, want: '0x100' },
  { name: 'unknown bits', flags: 0x1040, type: 18, want: '0x1040' },
]

for (const c of flagCases) {
  test(`formatFlags: ${c.name}`, (t) => {
    t.is(formatFlags(c.flags, c.type), c.want)
  })
}

test('formatFlags rejects bad flags', (t) => {
  t.throws(() => formatFlags(-1), { instanceOf: RangeError })
  t.throws(() => formatFlags('1' as unknown as number), {
    instanceOf: TypeError,
  })
})

const messageCases = [
  {
    name: 'error names the errno',
    message: message(2, 0, Buffer.concat([int32(-2), Buffer.alloc(16)])),
    want: 'type=error flags=0 seq=5 pid=42 len=36 data=20 errno=ENOENT(-2)',
  },
  {
    name: 'error 0 is an acknowledgement',
    message: message(2, 0x100, Buffer.concat([int32(0), Buffer.alloc(16)])),
    want: 'type=error flags=capped seq=5 pid=42 len=36 data=20 errno=0(ack)',
  },
  {
    name: 'error with an unknown errno',
    message: message(2, 0, int32(-4000)),
    want: 'type=error flags=0 seq=5 pid=42 len=20 data=4 errno=-4000',
  },
  {
    name: 'error too short for an errno',
    message: message(2, 0, Buffer.alloc(2)),
    want: 'type=error flags=0 seq=5 pid=42 len=18 data=2 errno=?',
  },
  {
    name: 'done',
    message: message(3, 2, int32(0)),
    want: 'type=done flags=multi seq=5 pid=42 len=20 data=4',
  },
  {
    name: 'noop',
    message: message(1, 0, Buffer.alloc(0)),
    want: 'type=noop flags=0 seq=5 pid=42 len=16 data=0',
  },
  {
    name: 'overrun',
    message: message(4, 0, Buffer.alloc(0)),
    want: 'type=overrun flags=0 seq=5 pid=42 len=16 data=0',
  },
  {
    name: 'family type as a number',
    message: message(18, 0x301, Buffer.alloc(16)),
    want: 'type=18 flags=request|dump seq=5 pid=42 len=32 data=16',
  },
]

for (const c of messageCases) {
  test(`formatMessage: ${c.name}`, (t) => {
    t.is(formatMessage(c.message), c.want)
  })
}

test('formatAttributes indents nested attributes', (t) => {
  const seven = HOST_BIG_ENDIAN ? '00 00 00 07' : '07 00 00 00'
  const buf = new AttributeEncoder()
    .string(3, 'lo')
    .nested(18, (e) =>
      e.string(1, 'veth').nested(2, (f) => f.uint32(1, 7).flag(2, true)),
    )
    .encode()

  t.is(
    formatAttributes(buf),
    [
      'type=3 len=7: 6c 6f 00',
      'type=18 flags=N len=32',
      '  type=1 len=9: 76 65 74 68 00',
      '  type=2 flags=N len=16',
      `    type=1 len=8: ${seven}`,
      '    type=2 len=4',
    ].join('\n'),
  )
})

test('formatAttributes starts at the given indent', (t) => {
  const buf = new AttributeEncoder().flag(1, true).encode()

  t.is(formatAttributes(buf, 4), '    type=1 len=4')
})

test('formatAttributes marks net byte order and wraps long values', (t) => {
  const buf = new AttributeEncoder({ byteOrder: 'network' })
    .uint16(1, 0x0102)
    .bytes(2, Buffer.alloc(20, 0xee))
    .encode()

  t.is(
    formatAttributes(buf),
    [
      'type=1 flags=B len=6: 01 02',
      'type=2 len=24',
      '  0000: ee ee ee ee ee ee ee ee ee ee ee ee ee ee ee ee',
      '  0010: ee ee ee ee',
    ].join('\n'),
  )
})

test('formatAttributes says where malformed input stopped', (t) => {
  const buf = Buffer.concat([
    new AttributeEncoder().uint8(1, 1).encode(),
    Buffer.from([1, 2]),
  ])

  const lines = formatAttributes(buf).split('\n')
  t.is(lines.length, 2)
  t.is(lines[0], 'type=1 len=5: 01')
  t.regex(lines[1]!, /^stopped: attribute at offset 8: /)
})

test('formatAttributes stops inside a malformed nest', (t) => {
  // A nest whose only child claims 200 bytes; then an attribute the dump
  // never reaches.
  const bad = new AttributeEncoder()
    .nested(2, (e) => e.bytes(1, Buffer.alloc(4)))
    .uint8(3, 3)
    .encode()
  bad[4] = 200

  t.is(
    formatAttributes(bad),
    [
      'type=2 flags=N len=12',
      '  stopped: attribute at offset 4: length 200 runs past the end' +
        ' (8 bytes left)',
    ].join('\n'),
  )
})

test('formatHex prints offsets and 16 bytes a line', (t) => {
  const buf = Buffer.from(Array.from({ length: 18 }, (_, i) => i))

  t.is(
    formatHex(buf, 2),
    [
      '  0000: 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f',
      '  0010: 10 11',
    ].join('\n'),
  )
  t.is(formatHex(Buffer.alloc(0)), '')
})

test('property: formatAttributes never throws on arbitrary bytes', (t) => {
  t.notThrows(() =>
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (u) => {
        const out = formatAttributes(Buffer.from(u))
        ok(typeof out === 'string')
      }),
      { numRuns: 500 },
    ),
  )
})
