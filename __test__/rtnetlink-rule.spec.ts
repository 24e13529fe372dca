/**
 * Routing policy rules: decoding and encoding `RTM_*RULE` through a fake
 * Conn, then listing, adding and deleting rules in a namespace of the
 * test's own.
 */
import test, { type ExecutionContext } from 'ava'
import { AttributeEncoder, HeaderFlags, NetlinkError } from '../index'
import type { Message } from '../lib/message'
import { writeU32 } from '../lib/host-order'
import {
  RTM_DELRULE,
  RTM_GETRULE,
  RTM_NEWRULE,
} from '../lib/rtnetlink/constants'
import { MalformedError } from '../lib/rtnetlink/request'
import {
  Rules,
  decodeRule,
  ruleKey,
  type Rule,
  type RuleInit,
} from '../lib/rtnetlink/rule'
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

const FRA_SRC = 2
const FRA_IIFNAME = 3
const FRA_PRIORITY = 6
const FRA_FWMARK = 10
const FRA_TABLE = 15
const FRA_FWMASK = 16
const FRA_PROTOCOL = 21
const FRA_L3MDEV = 19

/** Fields of `struct fib_rule_hdr`; left out ones are zero. */
interface RuleHdr {
  family?: number
  dstLength?: number
  srcLength?: number
  table?: number
  action?: number
  flags?: number
}

function ruleHdr(h: RuleHdr, attrs: Buffer = Buffer.alloc(0)): Buffer {
  const b = Buffer.alloc(12)
  b[0] = h.family ?? 2
  b[1] = h.dstLength ?? 0
  b[2] = h.srcLength ?? 0
  b[4] = h.table ?? 0
  b[7] = h.action ?? 0
  writeU32(b, h.flags ?? 0, 8)
  return Buffer.concat([b, attrs])
}

function message(data: Buffer): Message {
  return messageOf(data, RTM_NEWRULE)
}

/** `not from 198.18.0.0/16 iif va fwmark 0x10/0xff lookup 100 pref 100`. */
function sampleRule(): Buffer {
  const attrs = new AttributeEncoder()
    .bytes(FRA_SRC, Buffer.from([198, 18, 0, 0]))
    .string(FRA_IIFNAME, 'va')
    .uint32(FRA_PRIORITY, 100)
    .uint32(FRA_FWMARK, 0x10)
    .uint32(FRA_FWMASK, 0xff)
    .uint32(FRA_TABLE, 100)
    .uint8(FRA_PROTOCOL, 4)
    .uint8(FRA_L3MDEV, 0)
    .encode()
  return ruleHdr({ srcLength: 16, table: 100, action: 1, flags: 2 }, attrs)
}

function fake(t: ExecutionContext, handler: Handler) {
  const f = fakeRoute(t, handler)
  return { ...f, rules: new Rules(f.conn) }
}

test('decodeRule reads the header and the attributes', (t) => {
  const r = decodeRule(message(sampleRule()))

  t.like(r, {
    family: 'inet',
    priority: 100,
    table: 100,
    action: 'to_tbl',
    source: '198.18.0.0/16',
    iifname: 'va',
    fwmark: 0x10,
    fwmask: 0xff,
    tos: 0,
    flags: ['invert'],
    protocol: 'static',
  })
  t.is(r.destination, undefined)
  t.deepEqual(r.attributes, [{ type: FRA_L3MDEV, data: Buffer.from([0]) }])
})

test('a rule without FRA_PRIORITY has priority 0', (t) => {
  const r = decodeRule(message(ruleHdr({ table: 255, action: 1 })))

  t.is(r.priority, 0)
  t.is(r.table, 255)
})

test('any message decodes or is a MalformedError, nothing else', (t) => {
  decodesOrIsMalformed(t, decodeRule, {
    headerSize: 12,
    families: [0, 2, 10, 128],
    maxType: 28,
  })
})

test('a truncated fib_rule_hdr is a MalformedError', (t) => {
  truncatedIsMalformed(t, decodeRule, 12)
})

test('garbage attributes are a MalformedError', (t) => {
  garbageIsMalformed(t, decodeRule, ruleHdr({}), /^rule: /)
})

test('a source of the wrong size is a MalformedError', (t) => {
  const attrs = new AttributeEncoder().bytes(FRA_SRC, Buffer.alloc(5)).encode()
  const data = ruleHdr({ srcLength: 8 }, attrs)

  isMalformed(t, decodeRule, data, /FRA_SRC of 5 bytes/)
})

test('list sends a strict dump: a bare zero header', async (t) => {
  const request = await sentBy(t, Rules, (rules) => rules.list())

  checkRequest(request, RTM_GETRULE, HeaderFlags.Dump)
  t.deepEqual(request.data, Buffer.alloc(12))
})

test('list by family sets only the family', async (t) => {
  const request = await sentBy(t, Rules, (rules) =>
    rules.list({ family: 'inet6' }),
  )

  t.deepEqual(request.data, ruleHdr({ family: 10 }))
})

test('list leaves out rules of other families', async (t) => {
  const { rules } = fake(t, () =>
    multipart([
      { header: { type: RTM_NEWRULE }, data: ruleHdr({ family: 128 }) },
      { header: { type: RTM_NEWRULE }, data: sampleRule() },
    ]),
  )

  const listed = await rules.list()

  t.deepEqual(
    listed.map((r) => r.family),
    ['inet'],
  )
})

test('list rejects with a MalformedError for a garbled reply', async (t) => {
  const { rules } = fake(t, () =>
    multipart([{ header: { type: RTM_NEWRULE }, data: Buffer.alloc(2) }]),
  )

  await t.throwsAsync(rules.list(), { instanceOf: MalformedError })
})

test('add encodes what decodeRule decodes', async (t) => {
  const init: RuleInit = {
    priority: 100,
    source: '198.18.0.0/16',
    iifname: 'va',
    fwmark: 0x10,
    fwmask: 0xff,
    table: 100,
    flags: ['invert'],
    protocol: 'static',
  }
  const request = await sentBy(t, Rules, (rules) => rules.add(init))

  checkRequest(
    request,
    RTM_NEWRULE,
    HeaderFlags.Create | HeaderFlags.Excl | HeaderFlags.Acknowledge,
  )
  t.like(decodeRule(request), { ...init, family: 'inet', action: 'to_tbl' })
})

test('add defaults to table main; delete leaves table open', async (t) => {
  const added = await sentBy(t, Rules, (rules) => rules.add({ priority: 5 }))
  const deleted = await sentBy(t, Rules, (rules) =>
    rules.delete({ priority: 5 }),
  )

  t.like(decodeRule(added), { table: 254, action: 'to_tbl' })
  checkRequest(deleted, RTM_DELRULE, HeaderFlags.Acknowledge)
  t.like(decodeRule(deleted), { table: 0, action: 'unspec' })
})

test('a rule of another action gets no default table', async (t) => {
  const added = await sentBy(t, Rules, (rules) =>
    rules.add({ priority: 5, action: 'blackhole' }),
  )

  t.like(decodeRule(added), { table: 0, action: 'blackhole' })
})

const badInits: BadArgument[] = [
  ['an unknown field', { lookup: 1 }, /lookup/, 'TypeError'],
  ['a bad prefix', { source: 'x' }, /init.source/, 'TypeError'],
  [
    'mixed families',
    { source: '198.18.0.0/16', family: 'inet6' },
    /init.source/,
    'TypeError',
  ],
  ['an unknown action', { action: 'jump' }, /init.action/, 'TypeError'],
  [
    'a long link name',
    { iifname: 'a'.repeat(16) },
    /init.iifname/,
    'TypeError',
  ],
  ['a negative priority', { priority: -1 }, /init.priority/, 'RangeError'],
]

for (const bad of badInits) {
  const [what, , , name] = bad
  test(`add refuses ${what} with a ${name} naming the field`, async (t) => {
    await refusedUnsent(t, Rules, bad, (rules, init) =>
      rules.add(init as RuleInit),
    )
  })
}

test('new Rules refuses something that is not a Conn', (t) => {
  refusesNonConns(t, Rules)
})

test('decodeRule refuses what is not a message', (t) => {
  refusesNonMessages(t, decodeRule)
})

test('list refuses a bad filter', async (t) => {
  const { rules } = fake(t, () => null)

  await t.throwsAsync(() => rules.list({ family: 'ipx' as never }), {
    instanceOf: TypeError,
    message: /filter.family/,
  })
})

test('ruleKey tells rules apart by what they match', (t) => {
  const r = decodeRule(message(sampleRule()))

  t.is(ruleKey({ ...r, attributes: [] }), ruleKey(r))
  t.not(ruleKey({ ...r, fwmark: 0x11 }), ruleKey(r))
})

// Against the kernel.

function rulesIn(t: ExecutionContext, ns: string): Rules {
  return new Rules(dialIn(t, ns, { strict: true }))
}

kernelTest('a new namespace has the default rules', async (t, ns) => {
  const rules = rulesIn(t, ns)

  const listed = await rules.list()

  const summary = listed.map((r) => [r.family, r.priority, r.table, r.action])
  t.deepEqual(summary, [
    ['inet', 0, 255, 'to_tbl'],
    ['inet', 32766, 254, 'to_tbl'],
    ['inet', 32767, 253, 'to_tbl'],
    ['inet6', 0, 255, 'to_tbl'],
    ['inet6', 32766, 254, 'to_tbl'],
  ])
})

kernelTest('list by family returns that family only', async (t, ns) => {
  const rules = rulesIn(t, ns)

  const v6 = await rules.list({ family: 'inet6' })

  t.deepEqual(
    v6.map((r) => r.priority),
    [0, 32766],
  )
})

kernelTest('a rule is added, listed and deleted', async (t, ns) => {
  const rules = rulesIn(t, ns)
  const init = {
    priority: 1000,
    source: '198.18.0.0/16',
    fwmark: 7,
    fwmask: 0xff,
    table: 100,
  }

  await rules.add(init)
  const added = (await rules.list()).find((r) => r.priority === 1000)
  t.like(added, { ...init, family: 'inet', action: 'to_tbl' })
  t.regex(ipIn(ns, 'rule', 'show'), /1000:\s+from 198\.18\.0\.0\/16 fwmark/)

  await rules.delete(init)
  t.false((await rules.list()).some((r) => r.priority === 1000))
})

kernelTest('deleting a missing rule is ENOENT', async (t, ns) => {
  const rules = rulesIn(t, ns)

  const err = await caught(() => rules.delete({ priority: 4242 }))

  t.true(err instanceof NetlinkError)
  t.is((err as NetlinkError).code, 'ENOENT')
})

/** A rule as iproute2's JSON shows it, in `Rule`'s terms. */
function fromIp(r: Record<string, unknown>): Record<string, unknown> {
  const prefix = (address: unknown, length: unknown) =>
    address === undefined || address === 'all'
      ? undefined
      : `${address}/${length}`
  const tables: Record<string, number> = { local: 255, main: 254 }
  const table = r.table as string | undefined
  const hex = (v: unknown) => (v === undefined ? undefined : Number(v))
  return {
    priority: r.priority,
    source: prefix(r.src, r.srclen),
    destination: prefix(r.dst, r.dstlen),
    iifname: r.iif,
    oifname: r.oif,
    fwmark: hex(r.fwmark),
    fwmask: hex(r.fwmask),
    table: table === undefined ? 0 : (tables[table] ?? (Number(table) || 253)),
    action: r.action ?? (r.goto === undefined ? 'to_tbl' : 'goto'),
    goto: r.goto,
    tos: hex(r.tos) ?? 0,
    invert: 'not' in r,
    protocol: r.protocol,
  }
}

/** The same fields of a listed rule; iproute2 hides protocols 0 and kernel. */
function fromLibrary(r: Rule): Record<string, unknown> {
  return {
    priority: r.priority,
    source: r.source,
    destination: r.destination,
    iifname: r.iifname,
    oifname: r.oifname,
    fwmark: r.fwmark,
    fwmask: r.fwmask,
    table: r.table,
    action: r.action,
    goto: r.goto,
    tos: r.tos,
    invert: r.flags.includes('invert'),
    protocol: ['unspec', 'kernel'].includes(r.protocol ?? 'unspec')
      ? undefined
      : r.protocol,
  }
}

kernelTest('rules match ip -j rule show', async (t, ns) => {
  ipBatch(ns, [
    'link add va type veth peer name vb',
    'rule add pref 100 from 198.18.0.0/16 to 198.19.0.0/16 iif va' +
      ' fwmark 0x10/0xff lookup 100',
    'rule add pref 200 not oif vb table 1000 proto static',
    'rule add pref 300 goto 400',
    'rule add pref 400 blackhole',
    'rule add pref 500 tos 0x10 unreachable',
  ])
  ipIn(
    ns,
    '-6',
    'rule',
    'add',
    'pref',
    '600',
    'from',
    '2001:db8::/32',
    'prohibit',
  )
  const rules = rulesIn(t, ns)

  const ours = (await rules.list()).map(fromLibrary)
  const shown = [
    ...JSON.parse(ipIn(ns, '-j', '-4', 'rule', 'show')),
    ...JSON.parse(ipIn(ns, '-j', '-6', 'rule', 'show')),
  ].map(fromIp)

  t.is(ours.length, 11)
  t.deepEqual(ours, shown)
})
