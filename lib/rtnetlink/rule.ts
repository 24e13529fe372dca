/**
 * Routing policy rules (`RTM_*RULE`): the typed `Rule` a
 * `struct fib_rule_hdr` and its `FRA_*` attributes describe, and `Rules`,
 * the collection that lists, adds and deletes them.
 */
import { AttributeEncoder } from '../attribute'
import type { Message } from '../message'
import * as check from '../validate'
import { U32, optionalU32 } from './arguments'
import { Collection } from './collection'
import { RTM_DELRULE, RTM_GETRULE, RTM_NEWRULE } from './constants'
import { bitNames, bitsOf, nameOf, numberOf, type BitTable } from './enum'
import { readU32, writeU32 } from '../host-order'
import {
  AF_INET,
  AF_UNSPEC,
  familyName,
  familyNumber,
  formatPrefix,
  optionalFamily,
  parsePrefix,
  type IPFamily,
} from './ip'
import { checkRaw, encodeRaw } from './raw'
import {
  CREATE,
  MalformedError,
  change,
  dump,
  inKeyOrder,
  payloadOf,
  rawAttribute,
  readAttributes,
  type RawAttribute,
} from './request'
import { readPrefixHeader } from './prefix-header'
import { PROTOCOLS, RT_TABLE_MAIN, TABLES } from './route-names'

/** Size of `struct fib_rule_hdr`. */
const FIB_RULE_HDR = 12

const FRA_DST = 1
const FRA_SRC = 2
const FRA_IIFNAME = 3
const FRA_GOTO = 4
const FRA_PRIORITY = 6
const FRA_FWMARK = 10
const FRA_TABLE = 15
const FRA_FWMASK = 16
const FRA_OIFNAME = 17
const FRA_PROTOCOL = 21

/** `FR_ACT_TO_TBL`: look the route up in the rule's table. */
const FR_ACT_TO_TBL = 1

/** `FR_ACT_*`: what a matching rule does, named as iproute2 does. */
const ACTIONS: Readonly<Record<number, string>> = {
  0: 'unspec',
  1: 'to_tbl',
  2: 'goto',
  3: 'nop',
  6: 'blackhole',
  7: 'unreachable',
  8: 'prohibit',
}

/** `FIB_RULE_*` flags. */
const FLAGS: BitTable = [
  [0x1, 'permanent'],
  [0x2, 'invert'],
  [0x4, 'unresolved'],
  [0x8, 'iif_detached'],
  [0x10, 'oif_detached'],
  [0x10000, 'find_saddr'],
]

/**
 * A routing policy rule as the kernel reports it in `RTM_NEWRULE`.
 * Plain data: it may be kept, compared and passed back to `Rules`.
 */
export interface Rule {
  family: IPFamily
  /** `FRA_PRIORITY`; 0 when the kernel leaves it out. */
  priority: number
  /** `FRA_TABLE`, or the header's table without it; 254 is main. */
  table: number
  /** `'to_tbl'`, `'goto'`, `'nop'`, `'blackhole'`, `'unreachable'`, ... */
  action: string
  /** The priority a `'goto'` rule jumps to (`FRA_GOTO`). */
  goto?: number
  /** The source prefix matched (`from`); absent for all. */
  source?: string
  /** The destination prefix matched (`to`); absent for all. */
  destination?: string
  /** The input link's name matched (`FRA_IIFNAME`). */
  iifname?: string
  /** The output link's name matched (`FRA_OIFNAME`). */
  oifname?: string
  /** The firewall mark matched, under `fwmask`. */
  fwmark?: number
  /** The bits of the mark `fwmark` compares. */
  fwmask?: number
  /** The type of service matched. */
  tos: number
  /** `FIB_RULE_*` by name: `'invert'` (iproute2's `not`), ... */
  flags: string[]
  /** Who added the rule (`FRA_PROTOCOL`), as a route's protocol. */
  protocol?: string
  /** Every attribute not modelled above, as bytes. */
  attributes: RawAttribute[]
}

/**
 * A rule to add or delete: `Rule`'s fields, all optional. Adding uses
 * iproute2's defaults: family IPv4 (or that of the prefixes), action
 * `'to_tbl'`, and for that action table main. A delete matches only the
 * fields given.
 */
export interface RuleInit {
  family?: IPFamily
  priority?: number
  table?: number | string
  action?: string | number
  goto?: number
  source?: string
  destination?: string
  iifname?: string
  oifname?: string
  fwmark?: number
  fwmask?: number
  tos?: number
  flags?: string[]
  protocol?: string | number
  attributes?: RawAttribute[]
}

/** Which rules `Rules.list` returns. */
export interface RuleFilter {
  family?: IPFamily
}

const INIT_KEYS = [
  'family',
  'priority',
  'table',
  'action',
  'goto',
  'source',
  'destination',
  'iifname',
  'oifname',
  'fwmark',
  'fwmask',
  'tos',
  'flags',
  'protocol',
  'attributes',
] as const

/**
 * Decodes an `RTM_NEWRULE` or `RTM_DELRULE` message of family IPv4 or
 * IPv6. Throws a `MalformedError` for a header cut short, a bad
 * attribute, a prefix of the wrong size, or another family.
 * Synchronous and pure: the result holds no view into `m`'s buffer,
 * so it may be kept after the batch it came in is gone.
 */
export function decodeRule(m: Message): Rule {
  const data = payloadOf(m, FIB_RULE_HDR, 'rule')

  const header = readPrefixHeader(data, 'rule')
  const { family, size, dstLength, srcLength } = header

  const rule: Rule = {
    family,
    priority: 0,
    table: data[4],
    action: nameOf(ACTIONS, data[7]),
    tos: data[3],
    flags: bitNames(FLAGS, readU32(data, 8)),
    attributes: [],
  }
  const prefix = (b: Buffer, length: number, what: string) => {
    if (b.length !== size) {
      throw new MalformedError(`${what} of ${b.length} bytes, want ${size}`)
    }
    return formatPrefix(b, length)
  }

  readAttributes('rule', data.subarray(FIB_RULE_HDR), (d) => {
    switch (d.type) {
      case FRA_SRC:
        rule.source = prefix(d.bytes(), srcLength, 'FRA_SRC')
        break
      case FRA_DST:
        rule.destination = prefix(d.bytes(), dstLength, 'FRA_DST')
        break
      case FRA_PRIORITY:
        rule.priority = d.uint32()
        break
      case FRA_TABLE:
        rule.table = d.uint32()
        break
      case FRA_GOTO:
        rule.goto = d.uint32()
        break
      case FRA_IIFNAME:
        rule.iifname = d.string()
        break
      case FRA_OIFNAME:
        rule.oifname = d.string()
        break
      case FRA_FWMARK:
        rule.fwmark = d.uint32()
        break
      case FRA_FWMASK:
        rule.fwmask = d.uint32()
        break
      case FRA_PROTOCOL:
        rule.protocol = nameOf(PROTOCOLS, d.uint8())
        break
      default:
        rule.attributes.push(rawAttribute(d))
    }
  })
  return inKeyOrder(rule, INIT_KEYS)
}

/**
 * The identity of a rule: family, priority, and what it matches and does.
 * Rules with equal keys are the same rule.
 */
export function ruleKey(r: Rule): string {
  const o = check.optionalObject('rule', r)
  if (o.family === undefined) throw check.typeError('rule must have a family')
  return [
    r.family,
    r.priority,
    r.table,
    r.action,
    r.source ?? '',
    r.destination ?? '',
    r.iifname ?? '',
    r.oifname ?? '',
    r.fwmark ?? '',
    r.fwmask ?? '',
    r.tos,
  ].join('|')
}

/**
 * Encodes `value` as the payload of `RTM_NEWRULE` or `RTM_DELRULE`.
 * Throws a TypeError or RangeError naming the field at fault.
 */
function encodeRule(value: unknown, adding: boolean): Buffer {
  if (value === undefined) {
    throw check.typeError('init must be an object, got undefined')
  }
  const init = check.optionalObject('init', value)
  check.knownKeys('init', init, INIT_KEYS)

  // The family is given, or that of the prefixes, or IPv4.
  const src =
    init.source === undefined
      ? undefined
      : parsePrefix('init.source', init.source)
  const dst =
    init.destination === undefined
      ? undefined
      : parsePrefix('init.destination', init.destination)
  const family =
    init.family !== undefined
      ? familyNumber('init.family', init.family)
      : (src?.family ?? dst?.family ?? AF_INET)
  for (const [name, p] of [
    ['init.source', src],
    ['init.destination', dst],
  ] as const) {
    if (p !== undefined && p.family !== family) {
      throw check.typeError(`${name} is not an ${familyName(family)} prefix`)
    }
  }

  // iproute2's defaults: a new rule looks up a table, main unless given.
  const action =
    init.action === undefined
      ? adding
        ? FR_ACT_TO_TBL
        : 0
      : numberOf('init.action', ACTIONS, init.action, 0xff)
  const table =
    init.table === undefined
      ? adding && action === FR_ACT_TO_TBL
        ? RT_TABLE_MAIN
        : 0
      : numberOf('init.table', TABLES, init.table, U32)

  const header = Buffer.alloc(FIB_RULE_HDR)
  header[0] = family
  header[1] = dst?.length ?? 0
  header[2] = src?.length ?? 0
  header[3] = check.optionalInteger('init.tos', init.tos, 0, 0xff, 0)
  header[4] = table < 256 ? table : 0
  header[7] = action
  const flags =
    init.flags === undefined ? 0 : bitsOf('init.flags', FLAGS, init.flags)
  writeU32(header, flags, 8)

  const e = new AttributeEncoder()
  if (src !== undefined) e.bytes(FRA_SRC, src.bytes)
  if (dst !== undefined) e.bytes(FRA_DST, dst.bytes)
  optionalU32(e, FRA_PRIORITY, 'init.priority', init.priority)
  optionalU32(e, FRA_GOTO, 'init.goto', init.goto)
  optionalU32(e, FRA_FWMARK, 'init.fwmark', init.fwmark)
  optionalU32(e, FRA_FWMASK, 'init.fwmask', init.fwmask)
  if (table !== 0) e.uint32(FRA_TABLE, table)
  for (const [type, key] of [
    [FRA_IIFNAME, 'iifname'],
    [FRA_OIFNAME, 'oifname'],
  ] as const) {
    const v = init[key]
    if (v === undefined) continue
    if (typeof v !== 'string' || v.length === 0 || v.length > 15) {
      throw check.typeError(
        `init.${key} must be a link name of 1 to 15 characters, got ` +
          check.describe(v),
      )
    }
    e.string(type, v)
  }
  if (init.protocol !== undefined) {
    e.uint8(
      FRA_PROTOCOL,
      numberOf('init.protocol', PROTOCOLS, init.protocol, 0xff),
    )
  }
  const raw = encodeRaw(checkRaw('init.attributes', init.attributes))
  return Buffer.concat([header, e.encode(), raw])
}

/**
 * Rules: the routing policy rules of the namespace a `Conn` was opened
 * in. Every method is safe to call concurrently; each call is one
 * request on the Conn, and fails with the Conn's `EBADF` once it is
 * closed. The collection holds no state of its own.
 */
export class Rules extends Collection {
  /**
   * Lists the IPv4 and IPv6 rules (or one family's), in the kernel's
   * order, as `ip rule show` and `ip -6 rule show`. The kernel filters by
   * family; rules of other families (multicast routing) are left out.
   * Rejects with the kernel's `NetlinkError`.
   */
  async list(filter: RuleFilter = {}): Promise<Rule[]> {
    const given = check.optionalObject('filter', filter)
    check.knownKeys('filter', given, ['family'])
    const family = optionalFamily('filter.family', given.family)

    // Strict checking: a zero header but for the family, no attributes.
    const header = Buffer.alloc(FIB_RULE_HDR)
    header[0] = family
    return dump(this.conn, RTM_GETRULE, header, (m) => {
      if (m.header.type !== RTM_NEWRULE) return undefined
      const known = familyName(m.data[0]) !== undefined
      if (m.data.length >= FIB_RULE_HDR && !known) return undefined
      if (family !== AF_UNSPEC && m.data[0] !== family) return undefined
      return decodeRule(m)
    })
  }

  /**
   * Adds a rule (`RTM_NEWRULE` with `NLM_F_CREATE|NLM_F_EXCL`), as
   * `ip rule add`. Rejects with `EEXIST` when an equal rule exists, and
   * with the kernel's `NetlinkError` otherwise; throws a TypeError or
   * RangeError naming the field for a bad `init`.
   */
  async add(init: RuleInit): Promise<void> {
    const body = encodeRule(init, true)
    await change(this.conn, RTM_NEWRULE, CREATE, body)
  }

  /**
   * Deletes the first rule that matches `init` (`RTM_DELRULE`); fields
   * left out match any. Rejects with `ENOENT` when none matches.
   */
  async delete(init: RuleInit): Promise<void> {
    const body = encodeRule(init, false)
    await change(this.conn, RTM_DELRULE, 0, body)
  }
}
