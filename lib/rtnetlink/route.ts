/**
 * Routes (`RTM_*ROUTE`): the typed `Route` a `struct rtmsg` and its
 * `RTA_*` attributes describe, and `Routes`, the collection that lists,
 * looks up, adds, replaces and deletes them (writing them is
 * `route-encode.ts`'s part).
 */
import { AttributeDecoder, AttributeEncoder } from '../attribute'
import { NetlinkError } from '../errors'
import type { Message } from '../message'
import * as check from '../validate'
import { U32, optionalU32 } from './arguments'
import { Collection } from './collection'
import { RTM_DELROUTE, RTM_GETROUTE, RTM_NEWROUTE } from './constants'
import { bitNames, nameOf, numberOf } from './enum'
import { readU16, readU32, writeU32 } from '../host-order'
import {
  AF_INET,
  AF_INET6,
  familyName,
  formatIP,
  formatPrefix,
  optionalFamily,
  optionalIP,
  parseIP,
  sameFamily,
  type IPFamily,
} from './ip'
import {
  CREATE,
  MalformedError,
  REPLACE,
  change,
  dump,
  getOne,
  payloadOf,
  rawAttribute,
  readAttributes,
  type RawAttribute,
} from './request'
import { encodeRoute } from './route-encode'
import {
  METRICS,
  NEXTHOP_FLAGS,
  PREFERENCES,
  PROTOCOLS,
  ROUTE_FLAGS,
  RTAX_CC_ALGO,
  RTA_CACHEINFO,
  RTA_DST,
  RTA_GATEWAY,
  RTA_IIF,
  RTA_MARK,
  RTA_METRICS,
  RTA_MULTIPATH,
  RTA_OIF,
  RTA_NH_ID,
  RTA_PREF,
  RTA_PREFSRC,
  RTA_PRIORITY,
  RTA_SRC,
  RTA_TABLE,
  RTA_VIA,
  RTMSG,
  RTNEXTHOP,
  RTM_F_FIB_MATCH,
  SCOPES,
  TABLES,
  TYPES,
} from './route-names'
import { readPrefixHeader } from './prefix-header'

/**
 * A route's `RTA_METRICS`, by iproute2's names for `RTAX_*`; all are
 * numbers but `congctl`, the congestion control algorithm. `lock` is the
 * bitmask of metrics locked against change (bit `1 << RTAX_*`).
 */
export interface RouteMetrics {
  lock?: number
  mtu?: number
  window?: number
  rtt?: number
  rttvar?: number
  ssthresh?: number
  cwnd?: number
  advmss?: number
  reordering?: number
  hoplimit?: number
  initcwnd?: number
  features?: number
  rtoMin?: number
  initrwnd?: number
  quickack?: number
  congctl?: string
  fastopenNoCookie?: number
  /** Metrics this decoder does not know, as bytes. */
  attributes?: RawAttribute[]
}

/** One next hop of a multipath route (`struct rtnexthop`). */
export interface Nexthop {
  /** `RTA_GATEWAY`, or `RTA_VIA` when of the other family. */
  gateway?: string
  /** The output link's index; 0 when the kernel picks it. */
  index: number
  /** Weight, 1 to 256, as iproute2 shows it (`rtnh_hops` + 1). */
  weight: number
  /** `RTNH_F_*` by name: `'onlink'`, `'dead'`, `'linkdown'`, ... */
  flags: string[]
  /** The next hop's attributes this decoder does not model. */
  attributes?: RawAttribute[]
}

/**
 * A route as the kernel reports it in `RTM_NEWROUTE`, in iproute2's terms.
 * Plain data: it may be kept, compared and passed back to `Routes`.
 */
export interface Route {
  family: IPFamily
  /** `'default'` for a zero-length prefix, else `'prefix/length'`. */
  destination: string
  /** The source prefix (`RTA_SRC`), IPv6 source routing. */
  source?: string
  /** `RTA_GATEWAY`, or `RTA_VIA` (an IPv6 next hop of an IPv4 route). */
  gateway?: string
  /** The output link's index (`RTA_OIF`). */
  index?: number
  /** The input link's index (`RTA_IIF`). */
  inputIndex?: number
  /** `RTA_TABLE`, or `rtm_table` without it; 254 is main. */
  table: number
  /** The metric (`RTA_PRIORITY`). */
  priority?: number
  /** `'kernel'`, `'boot'`, `'static'`, ... or the number as a string. */
  protocol: string
  /** `'global'`, `'site'`, `'link'`, `'host'`, `'nowhere'` or a number. */
  scope: string
  /** `'unicast'`, `'local'`, `'broadcast'`, `'blackhole'`, ... */
  type: string
  /** The preferred source address (`RTA_PREFSRC`). */
  preferredSource?: string
  /** The type of service the route matches (`rtm_tos`). */
  tos: number
  /** `rtm_flags` by name: `'onlink'`, `'cloned'`, `'notify'`, ... */
  flags: string[]
  /** Per-route TCP settings (`RTA_METRICS`): `mtu`, `advmss`, ... */
  metrics?: RouteMetrics
  /** The next hops of a multipath route (`RTA_MULTIPATH`). */
  nexthops?: Nexthop[]
  /** The next-hop object the route uses (`RTA_NH_ID`, `ip nexthop`). */
  nexthopId?: number
  /** IPv6 router preference (`RTA_PREF`): `'medium'`, `'low'`, `'high'`. */
  preference?: string
  /**
   * Use and expiry counters (`RTA_CACHEINFO`); they change as the route
   * is used, so leave them out when comparing routes.
   */
  cacheInfo?: RouteCacheInfo
  /** Every attribute not modelled above, as bytes. */
  attributes: RawAttribute[]
}

/**
 * `struct rta_cacheinfo`: reference count, ticks since last use, ticks
 * until expiry (0: never), error, use count, and the IP ID and TCP
 * timestamp fields of cached routes.
 */
export interface RouteCacheInfo {
  clntref: number
  lastuse: number
  expires: number
  error: number
  used: number
  id: number
  ts: number
  tsage: number
}

/** A next hop to write; `weight` defaults to 1. */
export interface NexthopInit {
  gateway?: string
  index?: number
  weight?: number
  flags?: string[]
  attributes?: RawAttribute[]
}

/**
 * A route to add, replace or delete: `Route`'s fields, all optional but
 * `destination`. Names may be given as numbers too (`protocol: 4`,
 * `table: 'main'`). The family comes from the addresses when not given.
 * Defaults for add and replace are iproute2's: table main, protocol
 * boot, type unicast, scope link for a route without gateway, host for
 * local routes, else global. A delete matches only the fields given.
 */
export interface RouteInit {
  family?: IPFamily
  destination: string
  source?: string
  gateway?: string
  index?: number
  inputIndex?: number
  table?: number | string
  priority?: number
  protocol?: string | number
  scope?: string | number
  type?: string | number
  preferredSource?: string
  tos?: number
  flags?: string[]
  metrics?: RouteMetrics
  nexthops?: NexthopInit[]
  nexthopId?: number
  preference?: string | number
  /** Ignored: the kernel keeps these counters itself. */
  cacheInfo?: RouteCacheInfo
  attributes?: RawAttribute[]
}

/** Which routes `Routes.list` returns; every field is optional. */
export interface RouteFilter {
  family?: IPFamily
  /** One table's routes, by number or name. */
  table?: number | string
  /** Routes through this output link (any of their next hops). */
  index?: number
}

/** Options of `Routes.get`, as `ip route get` takes them. */
export interface RouteGetOptions {
  /** The source address (`from`). */
  source?: string
  /** The output link (`oif`). */
  index?: number
  /** The input link (`iif`), to look up as if received there. */
  inputIndex?: number
  /** The firewall mark (`mark`). */
  mark?: number
  /** Answer with the route that matched, not the result (`fibmatch`). */
  fibMatch?: boolean
}

/**
 * Decodes an `RTM_NEWROUTE` or `RTM_DELROUTE` message of family IPv4 or
 * IPv6. Throws a `MalformedError` for a header cut short, a bad
 * attribute, an address of the wrong size, or another family.
 * Synchronous and pure: the result holds no view into `m`'s buffer,
 * so it may be kept after the batch it came in is gone.
 */
export function decodeRoute(m: Message): Route {
  const data = payloadOf(m, RTMSG, 'route')

  const header = readPrefixHeader(data, 'route')
  const { family, size, dstLength, srcLength } = header

  // Attributes go to locals first: the object is then built in one
  // order, which keeps its shape (and iteration order) the same for
  // every route.
  let dst: Buffer | undefined
  let src: Buffer | undefined
  let gateway: string | undefined
  let index: number | undefined
  let inputIndex: number | undefined
  let table: number = data[4]
  let priority: number | undefined
  let preferredSource: string | undefined
  let metrics: RouteMetrics | undefined
  let nexthops: Nexthop[] | undefined
  let nexthopId: number | undefined
  let preference: string | undefined
  let info: RouteCacheInfo | undefined
  const attributes: RawAttribute[] = []

  readAttributes('route', data.subarray(RTMSG), (d) => {
    switch (d.type) {
      case RTA_DST:
        dst = address(d, size, 'RTA_DST')
        break
      case RTA_SRC:
        src = address(d, size, 'RTA_SRC')
        break
      case RTA_GATEWAY:
        gateway = formatIP(address(d, size, 'RTA_GATEWAY'))
        break
      case RTA_VIA:
        gateway = via(d.bytes())
        break
      case RTA_PREFSRC:
        preferredSource = formatIP(address(d, size, 'RTA_PREFSRC'))
        break
      case RTA_OIF:
        index = d.uint32()
        break
      case RTA_IIF:
        inputIndex = d.uint32()
        break
      case RTA_PRIORITY:
        priority = d.uint32()
        break
      case RTA_TABLE:
        table = d.uint32()
        break
      case RTA_METRICS:
        metrics = decodeMetrics(d)
        break
      case RTA_MULTIPATH:
        nexthops = decodeNexthops(d.bytes(), size)
        break
      case RTA_NH_ID:
        nexthopId = d.uint32()
        break
      case RTA_PREF:
        preference = nameOf(PREFERENCES, d.uint8())
        break
      case RTA_CACHEINFO:
        info = cacheInfo(d.bytes())
        break
      default:
        attributes.push(rawAttribute(d))
    }
  })

  const route = {
    family,
    destination:
      dstLength === 0
        ? 'default'
        : formatPrefix(dst ?? Buffer.alloc(size), dstLength),
  } as Route
  if (srcLength > 0) {
    route.source = formatPrefix(src ?? Buffer.alloc(size), srcLength)
  }
  if (gateway !== undefined) route.gateway = gateway
  if (index !== undefined) route.index = index
  if (inputIndex !== undefined) route.inputIndex = inputIndex
  route.table = table
  if (priority !== undefined) route.priority = priority
  route.protocol = nameOf(PROTOCOLS, data[5])
  route.scope = nameOf(SCOPES, data[6])
  route.type = nameOf(TYPES, data[7])
  if (preferredSource !== undefined) route.preferredSource = preferredSource
  route.tos = data[3]
  route.flags = bitNames(ROUTE_FLAGS, readU32(data, 8))
  if (metrics !== undefined) route.metrics = metrics
  if (nexthops !== undefined) route.nexthops = nexthops
  if (nexthopId !== undefined) route.nexthopId = nexthopId
  if (preference !== undefined) route.preference = preference
  if (info !== undefined) route.cacheInfo = info
  route.attributes = attributes
  return route
}

/** The current attribute's bytes, which must be one address of `size`. */
function address(d: AttributeDecoder, size: number, what: string): Buffer {
  const b = d.bytes()
  if (d.err !== null) return b
  if (b.length !== size) {
    throw new MalformedError(
      `${what} of ${b.length} bytes, want an address of ${size}`,
    )
  }
  return b
}

const CACHEINFO_FIELDS = [
  'clntref',
  'lastuse',
  'expires',
  'error',
  'used',
  'id',
  'ts',
  'tsage',
] as const

/** Decodes `struct rta_cacheinfo`, eight u32s. */
function cacheInfo(b: Buffer): RouteCacheInfo {
  if (b.length < 32) {
    throw new MalformedError(`RTA_CACHEINFO of ${b.length} bytes`)
  }
  const info: Record<string, number> = {}
  CACHEINFO_FIELDS.forEach((key, i) => (info[key] = readU32(b, i * 4)))
  return info as unknown as RouteCacheInfo
}

/** Decodes `struct rtvia`: a u16 family, then the address. */
function via(b: Buffer): string {
  if (b.length < 2) throw new MalformedError(`RTA_VIA of ${b.length} bytes`)

  const family = readU16(b, 0)
  const size = family === AF_INET ? 4 : family === AF_INET6 ? 16 : -1
  if (b.length - 2 !== size) {
    throw new MalformedError(
      `RTA_VIA of family ${family} holds ${b.length - 2} address bytes`,
    )
  }
  return formatIP(b.subarray(2))
}

function decodeMetrics(d: AttributeDecoder): RouteMetrics {
  const metrics: RouteMetrics = {}
  const raw: RawAttribute[] = []

  d.nested((n) => {
    while (n.next()) {
      const key = METRICS[n.type] as keyof RouteMetrics | undefined
      if (key === undefined || (n.type !== RTAX_CC_ALGO && n.length !== 4)) {
        raw.push(rawAttribute(n))
      } else if (n.type === RTAX_CC_ALGO) {
        metrics.congctl = n.string()
      } else {
        ;(metrics as Record<string, number>)[key] = n.uint32()
      }
    }
  })
  if (raw.length > 0) metrics.attributes = raw
  return metrics
}

/** Decodes `RTA_MULTIPATH`: `struct rtnexthop`s, each with attributes. */
function decodeNexthops(b: Buffer, size: number): Nexthop[] {
  const hops: Nexthop[] = []

  for (let at = 0; at < b.length;) {
    const length = b.length - at >= RTNEXTHOP ? readU16(b, at) : 0
    if (length < RTNEXTHOP || length > b.length - at) {
      throw new MalformedError(
        `RTA_MULTIPATH next hop at offset ${at}: length ${length} does not ` +
          `fit the ${b.length - at} bytes left`,
      )
    }

    const hop: Nexthop = {
      index: readU32(b, at + 4),
      weight: b[at + 3] + 1,
      flags: bitNames(NEXTHOP_FLAGS, b[at + 2]),
    }
    const raw: RawAttribute[] = []
    const d = new AttributeDecoder(b.subarray(at + RTNEXTHOP, at + length))
    while (d.next()) {
      if (d.type === RTA_GATEWAY) {
        hop.gateway = formatIP(address(d, size, 'next hop RTA_GATEWAY'))
      } else if (d.type === RTA_VIA) {
        hop.gateway = via(d.bytes())
      } else {
        raw.push(rawAttribute(d))
      }
    }
    if (d.err !== null) throw d.err

    if (raw.length > 0) hop.attributes = raw
    hops.push(hop.gateway === undefined ? hop : reorderHop(hop))
    at += (length + 3) & ~3
  }
  return hops
}

/** Puts a next hop's gateway first, as the interface lists it. */
function reorderHop(hop: Nexthop): Nexthop {
  const { gateway, ...rest } = hop
  return { gateway, ...rest }
}

/**
 * The identity of a route, for telling whether two reports describe the
 * same route: family, table, destination, source, TOS and priority, as
 * the kernel matches them, plus the output link of a single-path route
 * (IPv6 keeps one route per link for the same prefix and metric).
 * Routes with equal keys are the same route; compare the other fields to
 * see a change.
 */
export function routeKey(r: Route): string {
  const o = check.optionalObject('route', r)
  if (o.family === undefined || o.destination === undefined) {
    throw check.typeError('route must have a family and a destination')
  }
  const link = r.nexthops === undefined ? (r.index ?? '') : 'multipath'
  return [
    r.family,
    r.table,
    r.destination,
    r.source ?? '',
    r.tos,
    r.priority ?? '',
    r.family === 'inet6' ? link : '',
  ].join('|')
}

/**
 * Routes: the routes of the namespace a `Conn` was opened in. Every
 * method is safe to call concurrently; each call is one request on the
 * Conn, and fails with the Conn's `EBADF` once it is closed. The
 * collection holds no state of its own.
 */
export class Routes extends Collection {
  /**
   * Lists the routes of every table (as `ip route show table all`), or
   * those `filter` selects. The kernel filters by family, table and
   * output link where strict checking lets it; the result is filtered
   * here as well. Cached (cloned) routes are not listed. A table that
   * does not exist lists empty. Resolves with the routes in the kernel's
   * order; rejects with the kernel's `NetlinkError`.
   */
  async list(filter: RouteFilter = {}): Promise<Route[]> {
    const given = check.optionalObject('filter', filter)
    check.knownKeys('filter', given, ['family', 'table', 'index'])
    const family = optionalFamily('filter.family', given.family)
    const table =
      given.table === undefined
        ? undefined
        : numberOf('filter.table', TABLES, given.table, U32)
    const index =
      given.index === undefined
        ? undefined
        : check.integer('filter.index', given.index, 1, 0x7fffffff)

    // Strict checking: a zero header but for the family, and only the
    // attributes the kernel filters dumps by.
    const header = Buffer.alloc(RTMSG)
    header[0] = family
    const e = new AttributeEncoder()
    if (table !== undefined) e.uint32(RTA_TABLE, table)
    if (index !== undefined) e.uint32(RTA_OIF, index)
    const body = Buffer.concat([header, e.encode()])

    const keep = (m: Message): Route | undefined => {
      if (m.header.type !== RTM_NEWROUTE) return undefined
      if (m.data.length >= RTMSG && !familyName(m.data[0])) return undefined
      const r = decodeRoute(m)
      const other = given.family !== undefined && r.family !== given.family
      if (other) return undefined
      if (table !== undefined && r.table !== table) return undefined
      return index === undefined || usesLink(r, index) ? r : undefined
    }
    try {
      return await dump(this.conn, RTM_GETROUTE, body, keep)
    } catch (err) {
      if (table !== undefined && isENOENT(err)) return []
      throw err
    }
  }

  /**
   * Looks up the route the kernel would use to reach `destination`, an
   * address, as `ip route get` does (`RTM_GETROUTE`). Resolves with the
   * resulting route (flag `'cloned'`), or with `fibMatch` the table entry
   * that matched; rejects with the kernel's `NetlinkError`, for instance
   * `ENETUNREACH` when no route matches.
   */
  async get(
    destination: string,
    options: RouteGetOptions = {},
  ): Promise<Route> {
    const dst = parseIP('destination', destination)
    const given = check.optionalObject('options', options)
    check.knownKeys('options', given, [
      'source',
      'index',
      'inputIndex',
      'mark',
      'fibMatch',
    ])
    const src = optionalIP('options.source', given.source)
    if (src !== undefined) sameFamily('options.source', src, dst.family)
    const fibMatch = check.optionalBoolean(
      'options.fibMatch',
      given.fibMatch,
      false,
    )

    const header = Buffer.alloc(RTMSG)
    header[0] = dst.family
    header[1] = dst.bytes.length * 8
    header[2] = src === undefined ? 0 : src.bytes.length * 8
    writeU32(header, fibMatch ? RTM_F_FIB_MATCH : 0, 8)
    const e = new AttributeEncoder().bytes(RTA_DST, dst.bytes)
    if (src !== undefined) e.bytes(RTA_SRC, src.bytes)
    optionalU32(e, RTA_OIF, 'options.index', given.index)
    optionalU32(e, RTA_IIF, 'options.inputIndex', given.inputIndex)
    optionalU32(e, RTA_MARK, 'options.mark', given.mark)

    const body = Buffer.concat([header, e.encode()])
    const reply = await getOne(this.conn, RTM_GETROUTE, body)
    if (reply === undefined || reply.header.type !== RTM_NEWROUTE) {
      throw new MalformedError('route get: the kernel sent no route')
    }
    return decodeRoute(reply)
  }

  /**
   * Adds a route (`RTM_NEWROUTE` with `NLM_F_CREATE|NLM_F_EXCL`). Rejects
   * with `EEXIST` when it exists, and with the kernel's `NetlinkError`
   * and extended acknowledgement otherwise; throws a TypeError or
   * RangeError naming the field for a bad `init`.
   */
  async add(init: RouteInit): Promise<void> {
    const body = encodeRoute(init, 'add')
    await change(this.conn, RTM_NEWROUTE, CREATE, body)
  }

  /**
   * Adds a route or replaces the one with the same key (`RTM_NEWROUTE`
   * with `NLM_F_CREATE|NLM_F_REPLACE`), as `ip route replace`. Errors as
   * for `add`.
   */
  async replace(init: RouteInit): Promise<void> {
    const body = encodeRoute(init, 'replace')
    await change(this.conn, RTM_NEWROUTE, REPLACE, body)
  }

  /**
   * Deletes the first route that matches `init` (`RTM_DELROUTE`); fields
   * left out match any value. A route from `list()` may be passed as is.
   * Rejects with `ESRCH` when none matches.
   */
  async delete(init: RouteInit): Promise<void> {
    const body = encodeRoute(init, 'delete')
    await change(this.conn, RTM_DELROUTE, 0, body)
  }
}

function usesLink(r: Route, index: number): boolean {
  if (r.index === index) return true
  return r.nexthops?.some((hop) => hop.index === index) ?? false
}

function isENOENT(err: unknown): boolean {
  return err instanceof NetlinkError && err.code === 'ENOENT'
}
