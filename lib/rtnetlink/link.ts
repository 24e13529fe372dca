/**
 * Links (network interfaces) as `RTM_NEWLINK` messages describe them:
 * `struct ifinfomsg` and the `IFLA_*` attributes of `<linux/if_link.h>`,
 * decoded into objects with iproute2's words.
 */
import { AttributeDecoder } from '../attribute'
import type { Message } from '../message'
import { formatMAC } from './ip'
import { decodeInfo } from './link-info'
import { decodeStats, type LinkStats } from './link-stats'
import { bitNames, type BitTable } from './enum'
import { readI32, readU16, readU32 } from './host-order'
import {
  MalformedError,
  payloadOf,
  rawAttribute,
  type RawAttribute,
} from './request'

/** Size of `struct ifinfomsg`. */
export const IFINFOMSG_LENGTH = 16

/** Link attributes (`IFLA_*`), as `<linux/if_link.h>` numbers them. */
export const IFLA_ADDRESS = 1
export const IFLA_BROADCAST = 2
export const IFLA_IFNAME = 3
export const IFLA_MTU = 4
export const IFLA_LINK = 5
export const IFLA_QDISC = 6
export const IFLA_STATS = 7
export const IFLA_MASTER = 10
export const IFLA_TXQLEN = 13
export const IFLA_OPERSTATE = 16
export const IFLA_LINKINFO = 18
export const IFLA_IFALIAS = 20
export const IFLA_STATS64 = 23
export const IFLA_GROUP = 27
export const IFLA_NET_NS_FD = 28
export const IFLA_PROMISCUITY = 30
export const IFLA_NUM_TX_QUEUES = 31
export const IFLA_NUM_RX_QUEUES = 32
export const IFLA_CARRIER = 33
export const IFLA_CARRIER_CHANGES = 35
export const IFLA_LINK_NETNSID = 37
export const IFLA_MIN_MTU = 50
export const IFLA_MAX_MTU = 51
export const IFLA_PROP_LIST = 52
export const IFLA_ALT_IFNAME = 53
export const IFLA_PERM_ADDRESS = 54

/** Attributes of the `IFLA_LINKINFO` nest, and of a veth's data. */
export const IFLA_INFO_KIND = 1
export const IFLA_INFO_DATA = 2
export const IFLA_INFO_SLAVE_KIND = 4
export const VETH_INFO_PEER = 1

/** `IFF_UP`: the link is administratively up. */
export const IFF_UP = 0x1
/** `IFF_RUNNING`: the link has carrier (RFC 2863 "up"). */
export const IFF_RUNNING = 0x40

/** Flag bits (`IFF_*`) by the names iproute2 prints, in its order. */
export const LINK_FLAGS: BitTable = [
  [0x8, 'LOOPBACK'],
  [0x2, 'BROADCAST'],
  [0x10, 'POINTOPOINT'],
  [0x1000, 'MULTICAST'],
  [0x80, 'NOARP'],
  [0x200, 'ALLMULTI'],
  [0x100, 'PROMISC'],
  [0x20, 'NOTRAILERS'],
  [0x4, 'DEBUG'],
  [0x8000, 'DYNAMIC'],
  [0x4000, 'AUTOMEDIA'],
  [0x2000, 'PORTSEL'],
  [0x400, 'MASTER'],
  [0x800, 'SLAVE'],
  [0x1, 'UP'],
  [0x10000, 'LOWER_UP'],
  [0x20000, 'DORMANT'],
  [0x40000, 'ECHO'],
  [0x40, 'RUNNING'],
]

/** `IF_OPER_*` states by number, as iproute2 prints them. */
const OPERSTATES = [
  'UNKNOWN',
  'NOTPRESENT',
  'DOWN',
  'LOWERLAYERDOWN',
  'TESTING',
  'DORMANT',
  'UP',
]

/** Hardware types (`ARPHRD_*`) by the names iproute2 prints. */
const LINK_TYPES: Record<number, string> = {
  0: 'netrom',
  1: 'ether',
  24: 'ieee1394',
  512: 'ppp',
  768: 'ipip',
  769: 'tunnel6',
  772: 'loopback',
  776: 'sit',
  778: 'gre',
  801: 'ieee802.11',
  823: 'ip6gre',
  65534: 'none',
  65535: 'void',
}

/**
 * A link. Optional fields are the attributes the kernel may leave out;
 * every attribute not modelled is kept in `attributes`.
 */
export interface Link {
  /** The interface index (`ifi_index`). */
  index: number
  /** The interface name (`IFLA_IFNAME`). */
  name: string
  /** The hardware type: `'ether'`, `'loopback'`, `'none'`, ... */
  type: string
  /** The `IFF_*` flags set, by iproute2's names. */
  flags: string[]
  /** Administratively up (`IFF_UP`). */
  up: boolean
  /** Has carrier (`IFF_RUNNING`). */
  running: boolean
  /** RFC 2863 state: `'UP'`, `'DOWN'`, `'LOWERLAYERDOWN'`, ... */
  operstate: string
  mtu?: number
  minMtu?: number
  maxMtu?: number
  /** The link-layer (MAC) address, `'aa:bb:cc:dd:ee:ff'`. */
  address?: string
  broadcast?: string
  permanentAddress?: string
  /** Index of the link this one is enslaved to (bridge, bond). */
  master?: number
  /** Index of the link this one is tied to (a veth's peer, a vlan's). */
  link?: number
  /** The namespace id (as this namespace knows it) of `link`. */
  linkNetnsId?: number
  qdisc?: string
  txqlen?: number
  group?: number
  alias?: string
  altNames?: string[]
  promiscuity?: number
  carrier?: boolean
  carrierChanges?: number
  numTxQueues?: number
  numRxQueues?: number
  /** The link's kind: `'veth'`, `'bridge'`, `'vxlan'`, ... */
  kind?: string
  /** Settings of its kind (`IFLA_INFO_DATA`); see `BridgeInfo` etc. */
  info?: Record<string, unknown>
  /** The kind of its master's port settings: `'bridge'`, `'bond'`. */
  slaveKind?: string
  /** Counters, from `IFLA_STATS64` (or `IFLA_STATS`). */
  stats?: LinkStats
  /** Attributes not modelled here, as bytes. */
  attributes: RawAttribute[]
}

/**
 * Decodes an `RTM_NEWLINK` or `RTM_DELLINK` message; throws a
 * `MalformedError` when it is cut short or its attributes are malformed.
 */
export function decodeLink(m: Message): Link {
  const data = payloadOf(m, IFINFOMSG_LENGTH, 'link')

  const flags = readU32(data, 8)
  const type = readU16(data, 2)
  const link: Link = {
    index: readI32(data, 4),
    name: '',
    type: LINK_TYPES[type] ?? String(type),
    flags: bitNames(LINK_FLAGS, flags),
    up: (flags & IFF_UP) !== 0,
    running: (flags & IFF_RUNNING) !== 0,
    operstate: 'UNKNOWN',
    attributes: [],
  }

  // The 32-bit counters come first but count only where the 64-bit ones
  // are missing: decoding them anyway cost a tenth of a link's time.
  let stats32: Buffer | undefined
  const d = new AttributeDecoder(data.subarray(IFINFOMSG_LENGTH))
  while (d.next()) {
    if (d.type === IFLA_STATS) stats32 = d.bytes()
    else readAttribute(d, link)
  }
  if (d.err) {
    throw new MalformedError(`link ${link.index}: ${d.err.message}`, d.err)
  }
  if (link.stats === undefined && stats32 !== undefined) {
    link.stats = decodeStats(stats32, 4)
  }
  return link
}

function readAttribute(d: AttributeDecoder, link: Link): void {
  switch (d.type) {
    case IFLA_IFNAME:
      link.name = d.string()
      return
    case IFLA_MTU:
      link.mtu = d.uint32()
      return
    case IFLA_MIN_MTU:
      link.minMtu = d.uint32()
      return
    case IFLA_MAX_MTU:
      link.maxMtu = d.uint32()
      return
    case IFLA_ADDRESS:
      link.address = formatMAC(d.bytes())
      return
    case IFLA_BROADCAST:
      link.broadcast = formatMAC(d.bytes())
      return
    case IFLA_PERM_ADDRESS:
      link.permanentAddress = formatMAC(d.bytes())
      return
    case IFLA_OPERSTATE: {
      const state = d.uint8()
      link.operstate = OPERSTATES[state] ?? String(state)
      return
    }
    case IFLA_MASTER:
      link.master = d.uint32()
      return
    case IFLA_LINK:
      link.link = d.uint32()
      return
    case IFLA_LINK_NETNSID:
      link.linkNetnsId = d.int32()
      return
    case IFLA_QDISC:
      link.qdisc = d.string()
      return
    case IFLA_TXQLEN:
      link.txqlen = d.uint32()
      return
    case IFLA_GROUP:
      link.group = d.uint32()
      return
    case IFLA_IFALIAS:
      link.alias = d.string()
      return
    case IFLA_PROMISCUITY:
      link.promiscuity = d.uint32()
      return
    case IFLA_CARRIER:
      link.carrier = d.uint8() !== 0
      return
    case IFLA_CARRIER_CHANGES:
      link.carrierChanges = d.uint32()
      return
    case IFLA_NUM_TX_QUEUES:
      link.numTxQueues = d.uint32()
      return
    case IFLA_NUM_RX_QUEUES:
      link.numRxQueues = d.uint32()
      return
    case IFLA_LINKINFO:
      d.nested((info) => readLinkInfo(info, link))
      return
    case IFLA_PROP_LIST:
      d.nested((props) => readAltNames(props, link))
      return
    case IFLA_STATS64:
      link.stats = decodeStats(d.bytes(), 8)
      return
  }
  link.attributes.push(rawAttribute(d))
}

function readLinkInfo(d: AttributeDecoder, link: Link): void {
  // The kind comes before the data in every kernel, but do not rely on it.
  let data: Buffer | undefined
  while (d.next()) {
    if (d.type === IFLA_INFO_KIND) link.kind = d.string()
    else if (d.type === IFLA_INFO_DATA) data = d.bytes()
    else if (d.type === IFLA_INFO_SLAVE_KIND) link.slaveKind = d.string()
  }
  if (data === undefined || d.err) return

  const info = new AttributeDecoder(data)
  link.info = decodeInfo(link.kind ?? '', info)
  if (info.err) throw info.err
}

function readAltNames(d: AttributeDecoder, link: Link): void {
  while (d.next()) {
    if (d.type === IFLA_ALT_IFNAME) {
      link.altNames ??= []
      link.altNames.push(d.string())
    }
  }
}
