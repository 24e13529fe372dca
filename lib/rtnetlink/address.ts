/**
 * IPv4 and IPv6 addresses of links: `struct ifaddrmsg` and the `IFA_*`
 * attributes of `<linux/if_addr.h>`, and the collection that lists, adds
 * and deletes them.
 */
import { AttributeDecoder, AttributeEncoder } from '../attribute'
import type { Message } from '../message'
import * as check from '../validate'
import { Collection } from './collection'
import {
  familyName,
  formatIP,
  optionalFamily,
  parseIP,
  parsePrefix,
  type IPFamily,
} from './ip'
import { RTM_DELADDR, RTM_GETADDR, RTM_NEWADDR } from './constants'
import { bitNames, bitsOf, nameOf, numberOf, type BitTable } from './enum'
import { readU32, writeU32 } from '../host-order'
import { SCOPES } from './route-names'
import {
  CREATE,
  MalformedError,
  REPLACE,
  change,
  dump,
  payloadOf,
  rawAttribute,
  type RawAttribute,
} from './request'

/** Size of `struct ifaddrmsg`. */
const IFADDRMSG_LENGTH = 8

const IFA_ADDRESS = 1
const IFA_LOCAL = 2
const IFA_LABEL = 3
const IFA_BROADCAST = 4
const IFA_CACHEINFO = 6
const IFA_FLAGS = 8
const IFA_RT_PRIORITY = 9
const IFA_PROTO = 11

/** Address flags (`IFA_F_*`) by the names iproute2 prints. */
const ADDRESS_FLAGS: BitTable = [
  [0x01, 'secondary'],
  [0x02, 'nodad'],
  [0x04, 'optimistic'],
  [0x08, 'dadfailed'],
  [0x10, 'home'],
  [0x20, 'deprecated'],
  [0x40, 'tentative'],
  [0x80, 'permanent'],
  [0x100, 'mngtmpaddr'],
  [0x200, 'noprefixroute'],
  [0x400, 'autojoin'],
  [0x800, 'stable-privacy'],
]

/** An address of a link. */
export interface Address {
  /** Index of the link it is on. */
  index: number
  family: IPFamily
  /** The address itself (`IFA_LOCAL`, or `IFA_ADDRESS` without one). */
  address: string
  prefixLength: number
  /** The other end of a point-to-point link, when it differs. */
  peer?: string
  broadcast?: string
  label?: string
  /** `'global'`, `'link'`, `'host'`, ... */
  scope: string
  /** `IFA_F_*` flags by name: `'permanent'`, `'tentative'`, ... */
  flags: string[]
  /** Seconds; 4294967295 is forever. */
  preferredLifetime?: number
  validLifetime?: number
  /** Metric of the prefix route the kernel adds for it. */
  priority?: number
  protocol?: number
  attributes: RawAttribute[]
}

/** What `add` and `delete` take: the `Address` shape. */
export interface AddressInit {
  index: number
  /** `'192.0.2.1'` with `prefixLength`, or `'192.0.2.1/24'`. */
  address: string
  prefixLength?: number
  peer?: string
  broadcast?: string
  label?: string
  scope?: string | number
  flags?: string[]
  preferredLifetime?: number
  validLifetime?: number
  priority?: number
  /** Ignored; the family follows from `address`. */
  family?: IPFamily
}

/** Filters of `list`, applied by the kernel where it can. */
export interface AddressFilter {
  index?: number
  family?: IPFamily
}

/**
 * Decodes an `RTM_NEWADDR` or `RTM_DELADDR` message; throws a
 * `MalformedError` when it is cut short or malformed.
 */
export function decodeAddress(m: Message): Address {
  const data = payloadOf(m, IFADDRMSG_LENGTH, 'address')

  const family = data.readUInt8(0)
  let flags = data.readUInt8(2)
  const out: Address = {
    index: readU32(data, 4),
    family: familyName(family) ?? (String(family) as IPFamily),
    address: '',
    prefixLength: data.readUInt8(1),
    scope: nameOf(SCOPES, data.readUInt8(3)),
    flags: [],
    attributes: [],
  }

  let local: string | undefined
  let peer: string | undefined
  const d = new AttributeDecoder(data.subarray(IFADDRMSG_LENGTH))
  while (d.next()) {
    switch (d.type) {
      case IFA_LOCAL:
        local = formatIP(d.bytes())
        break
      case IFA_ADDRESS:
        peer = formatIP(d.bytes())
        break
      case IFA_BROADCAST:
        out.broadcast = formatIP(d.bytes())
        break
      case IFA_LABEL:
        out.label = d.string()
        break
      case IFA_FLAGS:
        flags = d.uint32()
        break
      case IFA_CACHEINFO: {
        const b = d.bytes()
        if (b.length >= 8) {
          out.preferredLifetime = readU32(b, 0)
          out.validLifetime = readU32(b, 4)
        }
        break
      }
      case IFA_RT_PRIORITY:
        out.priority = d.uint32()
        break
      case IFA_PROTO:
        out.protocol = d.uint8()
        break
      default:
        out.attributes.push(rawAttribute(d))
    }
  }
  if (d.err) {
    throw new MalformedError(`address on ${out.index}: ${d.err.message}`)
  }

  out.address = local ?? peer ?? ''
  if (local !== undefined && peer !== undefined && peer !== local) {
    out.peer = peer
  }
  out.flags = bitNames(ADDRESS_FLAGS, flags)
  return out
}

/**
 * Addresses of one Conn. Each method is one request and may run
 * concurrently with the others; each rejects with the kernel's
 * `NetlinkError`, extended acknowledgement included.
 */
export class Addresses extends Collection {
  /** Lists addresses, like `ip addr show`. */
  async list(filter: AddressFilter = {}): Promise<Address[]> {
    const given = check.optionalObject('filter', filter)
    check.knownKeys('filter', given, ['index', 'family'])
    const index = check.optionalInteger(
      'filter.index',
      given.index,
      1,
      0x7fffffff,
      0,
    )
    const family = optionalFamily('filter.family', given.family)

    const header = ifaddrmsg(family, 0, 0, 0, index)
    const want = familyName(family)
    return dump(this.conn, RTM_GETADDR, header, (m) => {
      if (m.header.type !== RTM_NEWADDR) return undefined
      const a = decodeAddress(m)
      if (index !== 0 && a.index !== index) return undefined
      return want === undefined || a.family === want ? a : undefined
    })
  }

  /** Adds an address; fails with `EEXIST` if the link has it. */
  async add(address: AddressInit): Promise<void> {
    const data = encodeAddress('address', address)
    await change(this.conn, RTM_NEWADDR, CREATE, data)
  }

  /** Adds an address, or changes it if the link has it. */
  async replace(address: AddressInit): Promise<void> {
    const data = encodeAddress('address', address)
    await change(this.conn, RTM_NEWADDR, REPLACE, data)
  }

  /** Deletes an address, named by link index, address and prefix. */
  async delete(address: AddressInit): Promise<void> {
    const data = encodeAddress('address', address)
    await change(this.conn, RTM_DELADDR, 0, data)
  }
}

function ifaddrmsg(
  family: number,
  prefixLength: number,
  flags: number,
  scope: number,
  index: number,
): Buffer {
  const b = Buffer.alloc(IFADDRMSG_LENGTH)
  b.writeUInt8(family, 0)
  b.writeUInt8(prefixLength, 1)
  b.writeUInt8(flags & 0xff, 2)
  b.writeUInt8(scope, 3)
  writeU32(b, index, 4)
  return b
}

/** Encodes `struct ifaddrmsg` and the attributes of an `AddressInit`. */
function encodeAddress(name: string, v: unknown): Buffer {
  const a = check.optionalObject(name, v)
  if (v === undefined) throw check.typeError(`${name} must be an object`)
  check.knownKeys(name, a, [
    'index',
    'family',
    'address',
    'prefixLength',
    'peer',
    'broadcast',
    'label',
    'scope',
    'flags',
    'preferredLifetime',
    'validLifetime',
    'priority',
    'protocol',
    'attributes',
  ])
  const index = check.integer(`${name}.index`, a.index, 1, 0x7fffffff)

  // The prefix length comes with the address or beside it.
  const prefix = parsePrefix(`${name}.address`, a.address)
  const max = prefix.bytes.length * 8
  const hasSlash = String(a.address).includes('/')
  const length =
    a.prefixLength === undefined
      ? prefix.length
      : check.integer(`${name}.prefixLength`, a.prefixLength, 0, max)
  if (hasSlash && a.prefixLength !== undefined && length !== prefix.length) {
    throw check.rangeError(
      `${name}.prefixLength ${length} contradicts ${name}.address`,
    )
  }

  const scope =
    a.scope === undefined ? 0 : numberOf(`${name}.scope`, SCOPES, a.scope, 0xff)
  const flags =
    a.flags === undefined ? 0 : bitsOf(`${name}.flags`, ADDRESS_FLAGS, a.flags)
  const e = new AttributeEncoder()
  e.bytes(IFA_LOCAL, prefix.bytes)
  const peer = a.peer === undefined ? prefix : parseIP(`${name}.peer`, a.peer)
  if (peer.family !== prefix.family) {
    throw check.typeError(`${name}.peer is not of the address's family`)
  }
  e.bytes(IFA_ADDRESS, peer.bytes)
  if (a.broadcast !== undefined) {
    e.bytes(IFA_BROADCAST, parseIP(`${name}.broadcast`, a.broadcast).bytes)
  }
  if (a.label !== undefined) {
    if (typeof a.label !== 'string') {
      throw check.typeError(`${name}.label must be a string`)
    }
    e.string(IFA_LABEL, a.label)
  }
  if (flags > 0xff) e.uint32(IFA_FLAGS, flags)
  if (a.preferredLifetime !== undefined || a.validLifetime !== undefined) {
    e.bytes(IFA_CACHEINFO, cacheinfo(name, a))
  }
  if (a.priority !== undefined) {
    e.uint32(
      IFA_RT_PRIORITY,
      check.integer(`${name}.priority`, a.priority, 0, 0xffffffff),
    )
  }

  const header = ifaddrmsg(prefix.family, length, flags, scope, index)
  return Buffer.concat([header, e.encode()])
}

/** `struct ifa_cacheinfo` with the lifetimes (forever when left out). */
function cacheinfo(name: string, a: Record<string, unknown>): Buffer {
  const forever = 0xffffffff
  const preferred = check.optionalInteger(
    `${name}.preferredLifetime`,
    a.preferredLifetime,
    0,
    forever,
    forever,
  )
  const valid = check.optionalInteger(
    `${name}.validLifetime`,
    a.validLifetime,
    0,
    forever,
    forever,
  )
  const b = Buffer.alloc(16)
  writeU32(b, preferred, 0)
  writeU32(b, valid, 4)
  return b
}
