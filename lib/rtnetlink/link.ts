/**
 * Links (network interfaces) as `RTM_NEWLINK` messages describe them:
 * `struct ifinfomsg` and the `IFLA_*` attributes of `<linux/if_link.h>`,
 * decoded into objects with iproute2's words.
 */
import { AttributeDecoder, AttributeError } from '../attribute'
import type { Message } from '../message'
import {
  AttributeCursor,
  NLA_HDRLEN,
  attributeError,
  i32At,
  nextAt,
  stringAt,
  stringEnd,
  typeAt,
  u32At,
  u8At,
  valueEnd,
} from './cursor'
import { bitNames, type BitTable } from './enum'
import { readI32, readU16, readU32 } from '../host-order'
import { formatMACAt } from './ip'
import { decodeInfo } from './link-info'
import { decodeStats, type LinkStats } from './link-stats'
import { deferAttributes } from './raw-attributes'
import { RecentText } from './recent'
import { MalformedError, payloadOf, type RawAttribute } from './request'

/** Size of `struct ifinfomsg`. */
const IFINFOMSG_LENGTH = 16

/** Link attributes (`IFLA_*`), as `<linux/if_link.h>` numbers them. */
const IFLA_ADDRESS = 1
const IFLA_BROADCAST = 2
const IFLA_IFNAME = 3
const IFLA_MTU = 4
const IFLA_LINK = 5
const IFLA_QDISC = 6
const IFLA_STATS = 7
const IFLA_MASTER = 10
const IFLA_TXQLEN = 13
const IFLA_OPERSTATE = 16
const IFLA_LINKINFO = 18
const IFLA_IFALIAS = 20
const IFLA_STATS64 = 23
const IFLA_GROUP = 27
const IFLA_NET_NS_FD = 28
const IFLA_PROMISCUITY = 30
const IFLA_NUM_TX_QUEUES = 31
const IFLA_NUM_RX_QUEUES = 32
const IFLA_CARRIER = 33
const IFLA_CARRIER_CHANGES = 35
const IFLA_LINK_NETNSID = 37
const IFLA_MIN_MTU = 50
const IFLA_MAX_MTU = 51
const IFLA_PROP_LIST = 52
const IFLA_ALT_IFNAME = 53
const IFLA_PERM_ADDRESS = 54

/** Attributes of the `IFLA_LINKINFO` nest, and of a veth's data. */
const IFLA_INFO_KIND = 1
const IFLA_INFO_DATA = 2
const IFLA_INFO_SLAVE_KIND = 4
const VETH_INFO_PEER = 1

/** `IFF_UP`: the link is administratively up. */
const IFF_UP = 0x1
/** `IFF_RUNNING`: the link has carrier (RFC 2863 "up"). */
const IFF_RUNNING = 0x40

// Declared apart from their export: TypeScript's CommonJS output reads an
// `export const` through `exports` at each use, and the decoder's switch
// over a dozen such reads cost a tenth of a link's time.
export {
  IFINFOMSG_LENGTH,
  IFLA_ADDRESS,
  IFLA_BROADCAST,
  IFLA_IFNAME,
  IFLA_MTU,
  IFLA_LINK,
  IFLA_QDISC,
  IFLA_STATS,
  IFLA_MASTER,
  IFLA_TXQLEN,
  IFLA_OPERSTATE,
  IFLA_LINKINFO,
  IFLA_IFALIAS,
  IFLA_STATS64,
  IFLA_GROUP,
  IFLA_NET_NS_FD,
  IFLA_PROMISCUITY,
  IFLA_NUM_TX_QUEUES,
  IFLA_NUM_RX_QUEUES,
  IFLA_CARRIER,
  IFLA_CARRIER_CHANGES,
  IFLA_LINK_NETNSID,
  IFLA_MIN_MTU,
  IFLA_MAX_MTU,
  IFLA_PROP_LIST,
  IFLA_ALT_IFNAME,
  IFLA_PERM_ADDRESS,
  IFLA_INFO_KIND,
  IFLA_INFO_DATA,
  IFLA_INFO_SLAVE_KIND,
  VETH_INFO_PEER,
  IFF_UP,
  IFF_RUNNING,
}

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
  /**
   * Attributes not modelled here, as bytes, decoded when first read:
   * spread, JSON and structured clone see them like any field, while
   * `util.inspect` shows `[Getter/Setter]` until the first read.
   */
  attributes: RawAttribute[]
}

/**
 * Decodes an `RTM_NEWLINK` or `RTM_DELLINK` message; throws a
 * `MalformedError` when it is cut short or its attributes are malformed.
 * The link keeps a copy of the payload until its `attributes` field is
 * first read, so `m` may be reused at once.
 */
export function decodeLink(m: Message): Link {
  return readLink(Buffer.from(payloadOf(m, IFINFOMSG_LENGTH, 'link')))
}

/**
 * Decodes a link as `decodeLink` does, from a message a Conn received:
 * its bytes are never written again, so the link reads them in place
 * (and holds on to them) until its `attributes` field is first read.
 */
export function decodeReceivedLink(m: Message): Link {
  return readLink(payloadOf(m, IFINFOMSG_LENGTH, 'link'))
}

/**
 * The attributes decoded into fields, by type; the others are the link's
 * `attributes`. `readFields` has a case for each and no other.
 */
const MODELLED = new Uint8Array(64)
for (const type of [
  IFLA_ADDRESS,
  IFLA_BROADCAST,
  IFLA_IFNAME,
  IFLA_MTU,
  IFLA_LINK,
  IFLA_QDISC,
  IFLA_STATS,
  IFLA_MASTER,
  IFLA_TXQLEN,
  IFLA_OPERSTATE,
  IFLA_LINKINFO,
  IFLA_IFALIAS,
  IFLA_STATS64,
  IFLA_GROUP,
  IFLA_PROMISCUITY,
  IFLA_NUM_TX_QUEUES,
  IFLA_NUM_RX_QUEUES,
  IFLA_CARRIER,
  IFLA_CARRIER_CHANGES,
  IFLA_LINK_NETNSID,
  IFLA_MIN_MTU,
  IFLA_MAX_MTU,
  IFLA_PROP_LIST,
  IFLA_PERM_ADDRESS,
]) {
  MODELLED[type] = 1
}

/** Values that repeat from link to link in a dump. */
const recentQdisc = new RecentText()
const recentKind = new RecentText()
const recentSlaveKind = new RecentText()
const recentBroadcast = new RecentText()

/** The flag names of the last link decoded, which the next often shares. */
let recentFlags = -1
let recentFlagNames: readonly string[] = []

/** Decodes `data`, a link message's payload, reading it in place. */
function readLink(data: Buffer): Link {
  const index = readI32(data, 4)
  const flags = readU32(data, 8)
  const type = readU16(data, 2)
  if (flags !== recentFlags) {
    recentFlagNames = bitNames(LINK_FLAGS, flags)
    recentFlags = flags
  }

  // Fields are added in the order the kernel sends their attributes, as
  // they always were: a link prints and serializes the same as before.
  const link = {
    index,
    name: '',
    type: LINK_TYPES[type] ?? String(type),
    flags: recentFlagNames.slice(),
    up: (flags & IFF_UP) !== 0,
    running: (flags & IFF_RUNNING) !== 0,
    operstate: 'UNKNOWN',
  } as Link
  deferAttributes(link, data, IFINFOMSG_LENGTH, MODELLED)

  try {
    readFields(data, link)
  } catch (err) {
    if (!(err instanceof AttributeError)) throw err
    throw new MalformedError(`link ${index}: ${err.message}`, err)
  }
  return link
}

/** Error offsets count from the first attribute, past `ifinfomsg`. */
const ORIGIN = IFINFOMSG_LENGTH

/**
 * Reads the attributes of `b` into `link`'s fields. The walk keeps its
 * place in locals and reads each value at its offset: a link has forty
 * attributes, and a cursor object's fields cost a quarter of its time.
 */
function readFields(b: Buffer, link: Link): void {
  // The 32-bit counters come first but count only where the 64-bit ones
  // are missing: decoding them anyway cost a tenth of a link's time.
  let stats32 = -1
  let stats32End = 0

  const stop = b.length
  for (let at = ORIGIN; at < stop;) {
    const end = valueEnd(b, at, stop, ORIGIN)
    switch (typeAt(b, at)) {
      case IFLA_IFNAME:
        link.name = stringAt(b, at, end)
        break
      case IFLA_MTU:
        link.mtu = u32At(b, at, end, ORIGIN)
        break
      case IFLA_MIN_MTU:
        link.minMtu = u32At(b, at, end, ORIGIN)
        break
      case IFLA_MAX_MTU:
        link.maxMtu = u32At(b, at, end, ORIGIN)
        break
      case IFLA_ADDRESS:
        link.address = formatMACAt(b, at + NLA_HDRLEN, end)
        break
      case IFLA_BROADCAST:
        link.broadcast = broadcastAt(b, at, end)
        break
      case IFLA_PERM_ADDRESS:
        link.permanentAddress = formatMACAt(b, at + NLA_HDRLEN, end)
        break
      case IFLA_OPERSTATE: {
        const state = u8At(b, at, end, ORIGIN)
        link.operstate = OPERSTATES[state] ?? String(state)
        break
      }
      case IFLA_MASTER:
        link.master = u32At(b, at, end, ORIGIN)
        break
      case IFLA_LINK:
        link.link = u32At(b, at, end, ORIGIN)
        break
      case IFLA_LINK_NETNSID:
        link.linkNetnsId = i32At(b, at, end, ORIGIN)
        break
      case IFLA_QDISC:
        link.qdisc = repeatedString(b, at, end, recentQdisc)
        break
      case IFLA_TXQLEN:
        link.txqlen = u32At(b, at, end, ORIGIN)
        break
      case IFLA_GROUP:
        link.group = u32At(b, at, end, ORIGIN)
        break
      case IFLA_IFALIAS:
        link.alias = stringAt(b, at, end)
        break
      case IFLA_PROMISCUITY:
        link.promiscuity = u32At(b, at, end, ORIGIN)
        break
      case IFLA_CARRIER:
        link.carrier = u8At(b, at, end, ORIGIN) !== 0
        break
      case IFLA_CARRIER_CHANGES:
        link.carrierChanges = u32At(b, at, end, ORIGIN)
        break
      case IFLA_NUM_TX_QUEUES:
        link.numTxQueues = u32At(b, at, end, ORIGIN)
        break
      case IFLA_NUM_RX_QUEUES:
        link.numRxQueues = u32At(b, at, end, ORIGIN)
        break
      case IFLA_LINKINFO:
        readLinkInfo(b, at, end, link)
        break
      case IFLA_PROP_LIST:
        readAltNames(b, at, end, link)
        break
      case IFLA_STATS64:
        link.stats = decodeStats(b, at + NLA_HDRLEN, end, 8)
        break
      case IFLA_STATS:
        stats32 = at + NLA_HDRLEN
        stats32End = end
        break
    }
    at = nextAt(at, end, stop)
  }

  if (link.stats === undefined && stats32 >= 0) {
    link.stats = decodeStats(b, stats32, stats32End, 4)
  }
}

/** Reads a string that often repeats, through `recent`. */
function repeatedString(
  b: Buffer,
  at: number,
  end: number,
  recent: RecentText,
): string {
  const start = at + NLA_HDRLEN
  const stop = stringEnd(b, at, end)
  return (
    recent.match(b, start, stop) ??
    recent.remember(b, start, stop, b.toString('utf8', start, stop))
  )
}

/** The broadcast address, the same for every Ethernet link. */
function broadcastAt(b: Buffer, at: number, end: number): string {
  const start = at + NLA_HDRLEN
  return (
    recentBroadcast.match(b, start, end) ??
    recentBroadcast.remember(b, start, end, formatMACAt(b, start, end))
  )
}

function readLinkInfo(b: Buffer, at: number, end: number, link: Link): void {
  // The kind comes before the data in every kernel, but do not rely on it.
  const c = new AttributeCursor(b, at + NLA_HDRLEN, end, ORIGIN)
  let data = -1
  let dataEnd = 0
  while (c.next()) {
    const type = c.type
    if (type === IFLA_INFO_KIND) {
      link.kind = repeatedString(b, c.at, c.end, recentKind)
    } else if (type === IFLA_INFO_DATA) {
      data = c.start
      dataEnd = c.end
    } else if (type === IFLA_INFO_SLAVE_KIND) {
      link.slaveKind = repeatedString(b, c.at, c.end, recentSlaveKind)
    }
  }
  if (data < 0) return

  // The kind's settings come from the table-driven decoder, whose errors
  // count offsets from the start of the data.
  const info = new AttributeDecoder(b.subarray(data, dataEnd))
  try {
    link.info = decodeInfo(link.kind ?? '', info)
  } catch (err) {
    const why = (err as Error).message
    throw attributeError(b, at, ORIGIN, why, { cause: err })
  }
  if (info.err) {
    throw attributeError(b, at, ORIGIN, info.err.message, { cause: info.err })
  }
}

function readAltNames(b: Buffer, at: number, end: number, link: Link): void {
  const c = new AttributeCursor(b, at + NLA_HDRLEN, end, ORIGIN)
  while (c.next()) {
    if (c.type === IFLA_ALT_IFNAME) {
      link.altNames ??= []
      link.altNames.push(c.string())
    }
  }
}
