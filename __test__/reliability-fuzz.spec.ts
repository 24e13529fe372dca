/**
 * A fuzz smoke run for `npm test`: fast-check properties that feed random
 * bytes and mutated real kernel replies (the seed corpus of the Rust fuzz
 * targets) to the binding's parser (`batchOf`, the I/O thread's framing
 * and acknowledgement parsing) and to the TypeScript decoders. Only the
 * library's own errors may come out, and every call returns. The long
 * runs are `scripts/fuzz.sh`; see TESTING.md.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import test from 'ava'
import fc from 'fast-check'
import { batchOf } from '../binding'
import {
  AttributeDecoder,
  AttributeError,
  MessageError,
  formatAttributes,
  formatMessage,
  parseMessages,
  type Message,
} from '../index'
import { BatchMessage, BatchView, Field, Kind, RECORD_LEN } from '../lib/batch'

const CORPUS = resolve(__dirname, '..', 'crates', 'netlink-core', 'fuzz')

/** Real datagrams the kernel sent, captured by capture-seeds.cjs. */
const SEEDS = readdirSync(join(CORPUS, 'corpus', 'frames'))
  .filter((name) => name.startsWith('seed-'))
  .map((name) => readFileSync(join(CORPUS, 'corpus', 'frames', name)))

const RUNS = 2000

/** A seed with bytes overwritten, cut short, or a length field changed. */
const mutated = fc
  .tuple(
    fc.integer({ min: 0, max: SEEDS.length - 1 }),
    fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
      maxLength: 8,
    }),
    fc.option(fc.nat()),
    fc.option(fc.tuple(fc.nat(), fc.nat({ max: 0xffff }))),
  )
  .map(([seed, edits, cut, length]) => {
    const bytes = Buffer.from(SEEDS[seed])
    for (const [at, value] of edits) bytes[at % bytes.length] = value
    if (length !== null) {
      // A message or attribute length: the field most parsers trust.
      const at = length[0] % Math.max(1, bytes.length - 3)
      bytes.writeUInt16LE(length[1], at - (at % 2))
    }
    return cut === null ? bytes : bytes.subarray(0, cut % (bytes.length + 1))
  })

const random = fc.uint8Array({ maxLength: 512 }).map((b) => Buffer.from(b))
const bytes = fc.oneof(mutated, random)

/** Reads every attribute of `buf` with every reader, nested ones too. */
function walk(buf: Uint8Array, depth = 0): void {
  const d = new AttributeDecoder(buf)
  while (d.next()) {
    d.bytes()
    d.string()
    d.uint8()
    d.uint16()
    d.uint32()
    d.uint64()
    d.int32()
    d.flag()
    if (depth < 4) d.nested((inner) => walk(inner.bytes(), depth + 1))
  }
  if (d.err !== null && !(d.err instanceof AttributeError)) throw d.err
}

function payloads(messages: Message[]): Buffer[] {
  return messages.map((m) => m.data.subarray(Math.min(16, m.data.length)))
}

test('seeds are there to mutate', (t) => {
  t.true(SEEDS.length > 0)
})

test('batchOf records stay inside the datagram, whatever it holds', (t) => {
  fc.assert(
    fc.property(bytes, fc.nat({ max: 32 }), fc.boolean(), (d, group, raw) => {
      const batch = batchOf(d, group, raw)
      const { records, data } = batch
      if (records.length % RECORD_LEN !== 0) return false
      for (let at = 0; at < records.length; at += RECORD_LEN) {
        const offset = records[at + Field.Offset]
        const length = records[at + Field.Length]
        if (offset + length > data.length) return false
        const ack = records[at + Field.ExtAck]
        if (ack > batch.extAcks.length) return false
        const kind = records[at + Field.Kind] & 0xff
        if (kind === Kind.Message || kind === Kind.Datagram) {
          const m = new BatchMessage(new BatchView(data, records), at)
          formatMessage(m)
        }
      }
      return true
    }),
    { numRuns: RUNS },
  )
  t.pass()
})

test('parseMessages throws nothing but MessageError', (t) => {
  fc.assert(
    fc.property(bytes, (d) => {
      let messages: Message[]
      try {
        messages = parseMessages(d)
      } catch (err) {
        if (!(err instanceof MessageError)) throw err
        messages = err.messages
      }
      for (const m of messages) formatMessage(m)
    }),
    { numRuns: RUNS },
  )
  t.pass()
})

test('attribute decoding reports faults as AttributeError only', (t) => {
  fc.assert(
    fc.property(bytes, (d) => {
      let messages: Message[] = []
      try {
        messages = parseMessages(d)
      } catch (err) {
        if (!(err instanceof MessageError)) throw err
        messages = err.messages
      }
      // Attributes follow a family header; 16 bytes covers ifinfomsg.
      for (const payload of [d, ...payloads(messages)]) {
        walk(payload)
        formatAttributes(payload)
      }
    }),
    { numRuns: RUNS },
  )
  t.pass()
})
