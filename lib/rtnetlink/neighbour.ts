/**
 * Neighbours (`RTM_*NEIGH`): the typed `Neighbour` a `struct ndmsg` and
 * its `NDA_*` attributes describe (ARP and NDP entries, and the bridge
 * forwarding entries the kernel announces), and `Neighbours`, the
 * collection that lists, adds and deletes them.
 */
import { isIP } from 'node:net'

import { AttributeEncoder } from '../attribute'
import type { Message } from '../message'
import * as check from '../validate'
import { Collection } from './collection'
import { RTM_DELNEIGH, RTM_GETNEIGH, RTM_NEWNEIGH } from './constants'
import { bitNames, bitsOf, type BitTable } from './enum'
import { readI32, readU16, readU32, writeI32, writeU16 } from '../host-order'
import {
  AF_BRIDGE,
  AF_INET,
  AF_INET6,
  AF_UNSPEC,
  formatIP,
  formatMAC,
  parseIP,
  parseMAC,
  type IPBytes,
} from './ip'
import { checkRaw, encodeRaw } from './raw'
import {
  CREATE,
  MalformedError,
  REPLACE,
  change,
  dump,
  inKeyOrder,
  payloadOf,
  rawAttribute,
  readAttributes,
  type RawAttribute,
} from './request'

/** Size of `struct ndmsg`. */
const NDMSG = 12

const NDA_DST = 1
const NDA_LLADDR = 2
const NDA_CACHEINFO = 3
const NDA_PROBES = 4
const NDA_VLAN = 5
const NDA_IFINDEX = 8
const NDA_MASTER = 9
const NDA_FLAGS_EXT = 15

/** `NUD_PERMANENT`: an entry the kernel never ages out. */
const NUD_PERMANENT = 0x80

/** `NUD_*` states, named as iproute2 prints them. */
const STATES: BitTable = [
  [0x01, 'INCOMPLETE'],
  [0x02, 'REACHABLE'],
  [0x04, 'STALE'],
  [0x08, 'DELAY'],
  [0x10, 'PROBE'],
  [0x20, 'FAILED'],
  [0x40, 'NOARP'],
  [0x80, 'PERMANENT'],
]

/** `NTF_*` flags of `ndm_flags`, as iproute2 names them. */
const FLAGS: BitTable = [
  [0x01, 'use'],
  [0x02, 'self'],
  [0x04, 'master'],
  [0x08, 'proxy'],
  [0x10, 'extern_learn'],
  [0x20, 'offload'],
  [0x40, 'sticky'],
  [0x80, 'router'],
]

/** `NTF_EXT_*` flags of `NDA_FLAGS_EXT`, placed after `FLAGS`' bits. */
const EXT_FLAGS: BitTable = [
  [0x1, 'managed'],
  [0x2, 'locked'],
]

/** `NTF_SELF`: a bridge entry of the device itself. */
const NTF_SELF = 0x02
/** `NTF_MASTER`: a bridge entry of the bridge the device is a port of. */
const NTF_MASTER = 0x04
/** `NTF_PROXY`: a proxy entry, which a delete must name. */
const NTF_PROXY = 0x08

/** `NTF_ROUTER`: the neighbour is an IPv6 router. */
const NTF_ROUTER = 0x80

/** A neighbour's family: IPv4 (ARP), IPv6 (NDP) or a bridge's fdb. */
export type NeighbourFamily = 'inet' | 'inet6' | 'bridge'

/**
 * A neighbour table entry as the kernel reports it in `RTM_NEWNEIGH`.
 * Plain data: it may be kept, compared and passed back to `Neighbours`.
 * For a bridge forwarding entry (family `'bridge'`), `address` is the
 * MAC address unless the entry names a remote IP (`NDA_DST`, VXLAN).
 */
export interface Neighbour {
  family: NeighbourFamily
  /** Index of the link the entry belongs to. */
  index: number
  /** The neighbour's IP address (`NDA_DST`). */
  address: string
  /** Its link-layer address (`NDA_LLADDR`), `'aa:bb:cc:dd:ee:ff'`. */
  lladdr?: string
  /** `NUD_*` states as iproute2 prints them: `['REACHABLE']`, ... */
  state: string[]
  /** `NTF_*` and `NTF_EXT_*` by name: `'router'`, `'extern_learn'`, ... */
  flags: string[]
  /** Whether the neighbour is a router (`NTF_ROUTER`). */
  router: boolean
  /** The VLAN of a bridge forwarding entry (`NDA_VLAN`). */
  vlan?: number
  /** Probes sent so far (`NDA_PROBES`). */
  probes?: number
  /** The bridge of a bridge forwarding entry (`NDA_MASTER`). */
  master?: number
  /**
   * Ages and use count (`NDA_CACHEINFO`); they change as the entry is
   * used, so leave them out when comparing entries.
   */
  cacheInfo?: NeighbourCacheInfo
  /** Every attribute not modelled above, as bytes. */
  attributes: RawAttribute[]
}

/**
 * `struct nda_cacheinfo`: how long ago, in clock ticks (`USER_HZ`), the
 * entry was last confirmed, used and updated, and how many hold it.
 */
export interface NeighbourCacheInfo {
  confirmed: number
  used: number
  updated: number
  refcnt: number
}

/**
 * A neighbour entry to add or delete: `Neighbour`'s fields, `index` and
 * `address` required, `state` defaulting to `['PERMANENT']` as with
 * `ip neigh add`; `cacheInfo` is not written. The family comes from the
 * address when not given. A bridge forwarding entry (family `'bridge'`,
 * as `bridge fdb add`) is named by its MAC, in `lladdr` or `address`,
 * with `address` the remote IP of a VXLAN entry, and `vlan`; it is the
 * device's own (`'self'`) unless `flags` say `'master'` or it names its
 * bridge in `master`, as a listed entry does.
 */
export interface NeighbourInit {
  family?: NeighbourFamily
  index: number
  address: string
  lladdr?: string
  state?: string[]
  flags?: string[]
  router?: boolean
  vlan?: number
  /** Only whether it is given matters: see above. */
  master?: number
  probes?: number
  cacheInfo?: NeighbourCacheInfo
  attributes?: RawAttribute[]
}

/** Which neighbours `Neighbours.list` returns; both optional. */
export interface NeighbourFilter {
  /** Only entries of this link. */
  index?: number
  /** Only this family; `'bridge'` lists the bridges' forwarding entries. */
  family?: NeighbourFamily
  /** List the proxy entries instead (`ip neigh show proxy`). */
  proxy?: boolean
}

const INIT_KEYS = [
  'family',
  'index',
  'address',
  'lladdr',
  'state',
  'flags',
  'router',
  'vlan',
  'probes',
  'master',
  'cacheInfo',
  'attributes',
] as const

/**
 * Decodes an `RTM_NEWNEIGH` or `RTM_DELNEIGH` message of family IPv4,
 * IPv6 or bridge. Throws a `MalformedError` for a header cut short, a bad
 * attribute, an address of the wrong size, or another family.
 * Synchronous and pure: the result holds no view into `m`'s buffer,
 * so it may be kept after the batch it came in is gone.
 */
export function decodeNeighbour(m: Message): Neighbour {
  const data = payloadOf(m, NDMSG, 'neighbour')

  const familyNo = data[0]
  const family = neighbourFamily(familyNo)
  const flags = data[10]
  const n: Neighbour = {
    family,
    index: readI32(data, 4),
    address: '',
    state: stateNames(readU16(data, 8)),
    flags: bitNames(FLAGS, flags),
    router: (flags & NTF_ROUTER) !== 0,
    attributes: [],
  }

  readAttributes('neighbour', data.subarray(NDMSG), (d) => {
    switch (d.type) {
      case NDA_DST:
        n.address = formatIP(ipBytes(d.bytes(), familyNo))
        break
      case NDA_LLADDR:
        n.lladdr = formatMAC(d.bytes())
        break
      case NDA_CACHEINFO:
        n.cacheInfo = cacheInfo(d.bytes())
        break
      case NDA_PROBES:
        n.probes = d.uint32()
        break
      case NDA_VLAN:
        n.vlan = d.uint16()
        break
      case NDA_MASTER:
        n.master = d.uint32()
        break
      case NDA_FLAGS_EXT:
        n.flags.push(...extFlagNames(d.uint32()))
        break
      default:
        n.attributes.push(rawAttribute(d))
    }
  })

  if (n.address === '' && family === 'bridge' && n.lladdr !== undefined) {
    n.address = n.lladdr
  }
  if (n.address === '') {
    throw new MalformedError('neighbour: no address (NDA_DST)')
  }
  return inKeyOrder(n, INIT_KEYS)
}

function cacheInfo(b: Buffer): NeighbourCacheInfo {
  if (b.length < 16) {
    throw new MalformedError(`NDA_CACHEINFO of ${b.length} bytes`)
  }
  return {
    confirmed: readU32(b, 0),
    used: readU32(b, 4),
    updated: readU32(b, 8),
    refcnt: readU32(b, 12),
  }
}

function neighbourFamily(n: number): NeighbourFamily {
  if (n === AF_INET) return 'inet'
  if (n === AF_INET6) return 'inet6'
  if (n === AF_BRIDGE) return 'bridge'
  throw new MalformedError(`neighbour of family ${n} is not known`)
}

/** Checks a neighbour family's name; throws a TypeError naming `name`. */
function checkFamily(name: string, value: unknown): NeighbourFamily {
  if (value === 'inet' || value === 'inet6' || value === 'bridge') {
    return value
  }
  throw check.typeError(
    `${name} must be 'inet', 'inet6' or 'bridge', got ` + check.describe(value),
  )
}

function familyOf(name: NeighbourFamily): number {
  if (name === 'inet') return AF_INET
  if (name === 'inet6') return AF_INET6
  return AF_BRIDGE
}

/**
 * Checks that `b` is an address of the family's size; a bridge entry's
 * remote may be either.
 */
function ipBytes(b: Buffer, family: number): Buffer {
  const fits =
    family === AF_INET
      ? b.length === 4
      : family === AF_INET6
        ? b.length === 16
        : b.length === 4 || b.length === 16
  if (!fits) throw new MalformedError(`NDA_DST of ${b.length} bytes`)
  return b
}

/** `ndm_state` by name; 0 is `['NONE']`, as iproute2 prints it. */
function stateNames(state: number): string[] {
  return state === 0 ? ['NONE'] : bitNames(STATES, state)
}

/** `NDA_FLAGS_EXT` by name; unknown bits as one hex string. */
function extFlagNames(bits: number): string[] {
  const names = bitNames(EXT_FLAGS, bits)
  const last = names.at(-1)
  if (last === undefined || !last.startsWith('0x')) return names

  // Unknown extended bits are told apart from `ndm_flags`' own.
  names[names.length - 1] = `ext_${last}`
  return names
}

/**
 * The identity of a neighbour entry: family, link and address, whether
 * it is a proxy entry, and for a bridge forwarding entry its MAC address
 * and VLAN too (several MACs may name one VXLAN remote). Entries with
 * equal keys are the same entry; compare the other fields to see a
 * change.
 */
export function neighbourKey(n: Neighbour): string {
  const o = check.optionalObject('neighbour', n)
  if (o.family === undefined || o.address === undefined) {
    throw check.typeError('neighbour must have a family and an address')
  }
  const proxy = Array.isArray(n.flags) && n.flags.includes('proxy')
  const bridge = n.family === 'bridge'
  return [
    n.family,
    n.index,
    n.address,
    proxy ? 'proxy' : '',
    bridge ? (n.lladdr ?? '') : '',
    n.vlan ?? '',
  ].join('|')
}

/** What a change is for: add, replace or delete. */
type Op = 'add' | 'replace' | 'delete'

/**
 * Encodes `value` as the payload of `RTM_NEWNEIGH` or `RTM_DELNEIGH`.
 * Throws a TypeError or RangeError naming the field at fault.
 */
function encodeNeighbour(value: unknown, op: Op): Buffer {
  if (value === undefined) {
    throw check.typeError('init must be an object, got undefined')
  }
  const init = check.optionalObject('init', value)
  check.knownKeys('init', init, INIT_KEYS)
  if (init.family !== undefined) checkFamily('init.family', init.family)
  const bridge = init.family === 'bridge'
  const deleting = op === 'delete'
  const index = check.integer('init.index', init.index, 1, 0x7fffffff)

  // What names the entry: its IP address, or for a bridge entry its MAC
  // and, where the address is an IP, the remote it points to.
  const { dst, lladdr } = bridge
    ? bridgeKey(init)
    : { dst: entryAddress(init), lladdr: undefined }

  // A change sets the state (permanent unless given); a delete names
  // the entry. A bridge entry is the device's own (`self`), as with
  // `bridge fdb`, unless it is the bridge's (`master`).
  const state = deleting
    ? 0
    : init.state === undefined
      ? NUD_PERMANENT
      : stateBits(init.state)
  const named = splitFlags(init.flags)
  let flags = bitsOf('init.flags', FLAGS, named.ndm)
  const extFlags = bitsOf('init.flags', EXT_FLAGS, named.ext)
  if (check.optionalBoolean('init.router', init.router, false)) {
    flags |= NTF_ROUTER
  }
  if (bridge && (flags & (NTF_SELF | NTF_MASTER)) === 0) {
    // A listed entry of a bridge names it in `master`.
    flags |= init.master === undefined ? NTF_SELF : NTF_MASTER
  }
  if (deleting && !bridge) flags &= NTF_PROXY

  const header = Buffer.alloc(NDMSG)
  header[0] = bridge ? AF_BRIDGE : (dst?.family ?? AF_UNSPEC)
  writeI32(header, index, 4)
  writeU16(header, state, 8)
  header[10] = flags

  const e = new AttributeEncoder()
  if (dst !== undefined) e.bytes(NDA_DST, dst.bytes)
  if (lladdr !== undefined) {
    e.bytes(NDA_LLADDR, lladdr)
  } else if (init.lladdr !== undefined && !deleting) {
    e.bytes(NDA_LLADDR, parseMAC('init.lladdr', init.lladdr))
  }
  if (bridge && init.vlan !== undefined) {
    e.uint16(NDA_VLAN, check.integer('init.vlan', init.vlan, 1, 4094))
  }
  if (init.probes !== undefined && !deleting && !bridge) {
    const probes = check.integer('init.probes', init.probes, 0, 0xffffffff)
    e.uint32(NDA_PROBES, probes)
  }
  if (extFlags !== 0 && !deleting) e.uint32(NDA_FLAGS_EXT, extFlags)
  const raw = encodeRaw(checkRaw('init.attributes', init.attributes))
  return Buffer.concat([header, e.encode(), raw])
}

/** The IP address of an ARP or NDP entry, of the family if given. */
function entryAddress(init: Record<string, unknown>): IPBytes {
  const ip = parseIP('init.address', init.address)
  const family = init.family as NeighbourFamily | undefined
  if (family !== undefined && familyOf(family) !== ip.family) {
    throw check.typeError(`init.address is not an ${init.family} address`)
  }
  return ip
}

/**
 * The MAC of a bridge entry (`lladdr`, else `address`), and the remote
 * IP when `address` is one (a VXLAN entry).
 */
function bridgeKey(init: Record<string, unknown>): {
  dst?: IPBytes
  lladdr: Buffer
} {
  const remote = typeof init.address === 'string' && isIP(init.address) > 0
  if (init.lladdr === undefined && remote) {
    throw check.typeError('init.lladdr is needed for a bridge entry')
  }
  const lladdr =
    init.lladdr !== undefined
      ? parseMAC('init.lladdr', init.lladdr)
      : parseMAC('init.address', init.address)
  if (!remote) {
    if (init.address !== undefined) parseMAC('init.address', init.address)
    return { lladdr }
  }
  return { dst: parseIP('init.address', init.address), lladdr }
}

/**
 * Splits `init.flags` into those of `ndm_flags` and the extended ones of
 * `NDA_FLAGS_EXT`; anything else is left with the first to be refused.
 */
function splitFlags(value: unknown): { ndm: unknown; ext: string[] } {
  if (value === undefined) return { ndm: [], ext: [] }
  if (!Array.isArray(value)) return { ndm: value, ext: [] }

  const extNames = EXT_FLAGS.map(([, name]) => name)
  const isExt = (f: unknown) =>
    typeof f === 'string' && (extNames.includes(f) || f.startsWith('ext_0x'))
  return {
    ndm: value.filter((f: unknown) => !isExt(f)),
    ext: value.filter(isExt).map((f: string) => f.replace(/^ext_/, '')),
  }
}

function stateBits(value: unknown): number {
  if (Array.isArray(value) && value.length === 1 && value[0] === 'NONE') {
    return 0
  }
  return bitsOf('init.state', STATES, value)
}

/**
 * Neighbours: the neighbour tables (ARP, NDP) of the namespace a `Conn`
 * was opened in. Every method is safe to call concurrently; each call is
 * one request on the Conn, and fails with the Conn's `EBADF` once it is
 * closed. The collection holds no state of its own.
 */
export class Neighbours extends Collection {
  /**
   * Lists every IPv4 and IPv6 neighbour entry, as
   * `ip neigh show nud all` does (plain `ip neigh show` hides the NOARP
   * ones). The kernel's unfiltered dump holds no bridge entries; ask for
   * family `'bridge'` to list those, as `bridge fdb show`. The kernel
   * filters by link (`NDA_IFINDEX`) and family; the result is filtered
   * here as well. Proxy entries are listed only with `filter.proxy`, and
   * then alone. Rejects with the kernel's `NetlinkError`.
   */
  async list(filter: NeighbourFilter = {}): Promise<Neighbour[]> {
    const given = check.optionalObject('filter', filter)
    check.knownKeys('filter', given, ['index', 'family', 'proxy'])
    const index =
      given.index === undefined
        ? undefined
        : check.integer('filter.index', given.index, 1, 0x7fffffff)
    const family =
      given.family === undefined
        ? AF_UNSPEC
        : familyOf(checkFamily('filter.family', given.family))
    const proxy = check.optionalBoolean('filter.proxy', given.proxy, false)
    if (proxy && family === AF_BRIDGE) {
      throw check.typeError("filter.proxy does not apply to family 'bridge'")
    }

    // Strict checking: a zero header but for the family and the proxy
    // flag; the link goes in the one attribute the kernel filters
    // neighbour dumps by.
    const header = Buffer.alloc(NDMSG)
    header[0] = family
    header[10] = proxy ? NTF_PROXY : 0
    const e = new AttributeEncoder()
    if (index !== undefined) e.uint32(NDA_IFINDEX, index)
    const body = Buffer.concat([header, e.encode()])
    return dump(this.conn, RTM_GETNEIGH, body, (m) => {
      if (m.header.type !== RTM_NEWNEIGH) return undefined
      const n = decodeNeighbour(m)
      const other = family !== AF_UNSPEC && familyOf(n.family) !== family
      if (other) return undefined
      if (index !== undefined && n.index !== index) return undefined
      return proxy === n.flags.includes('proxy') ? n : undefined
    })
  }

  /**
   * Adds a neighbour entry (`RTM_NEWNEIGH` with
   * `NLM_F_CREATE|NLM_F_EXCL`), as `ip neigh add` or `bridge fdb add`.
   * Rejects with `EEXIST` when it exists and with the kernel's
   * `NetlinkError` otherwise; throws a TypeError or RangeError naming the
   * field for a bad `init`.
   */
  async add(init: NeighbourInit): Promise<void> {
    const body = encodeNeighbour(init, 'add')
    await change(this.conn, RTM_NEWNEIGH, CREATE, body)
  }

  /**
   * Adds or replaces a neighbour entry (`NLM_F_CREATE|NLM_F_REPLACE`), as
   * `ip neigh replace`. Errors as for `add`.
   */
  async replace(init: NeighbourInit): Promise<void> {
    const body = encodeNeighbour(init, 'replace')
    await change(this.conn, RTM_NEWNEIGH, REPLACE, body)
  }

  /**
   * Deletes the entry for `init.address` on link `init.index`
   * (`RTM_DELNEIGH`), or the bridge entry for its MAC and VLAN; an entry
   * from `list()` may be passed as is. Rejects with `ENOENT` when there
   * is none.
   */
  async delete(init: NeighbourInit): Promise<void> {
    const body = encodeNeighbour(init, 'delete')
    await change(this.conn, RTM_DELNEIGH, 0, body)
  }
}
