/**
 * Routes to bytes: a `RouteInit` checked field by field and written as
 * the `struct rtmsg` and attributes of `RTM_NEWROUTE` or `RTM_DELROUTE`,
 * the mirror of `decodeRoute`.
 */
import { AttributeEncoder } from '../attribute'
import * as check from '../validate'
import { U32, optionalU32 } from './arguments'
import { bitsOf, numberOf } from './enum'
import { writeI32, writeU16, writeU32 } from '../host-order'
import {
  AF_INET,
  familyNumber,
  optionalIP,
  parseIP,
  parsePrefix,
  sameFamily,
  type IPBytes,
} from './ip'
import { checkRaw, encodeRaw } from './raw'
import {
  METRICS,
  NEXTHOP_FLAGS,
  PREFERENCES,
  PROTOCOLS,
  ROUTE_FLAGS,
  RTAX_CC_ALGO,
  RTA_DST,
  RTA_GATEWAY,
  RTA_IIF,
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
  RTN_UNICAST,
  RTPROT_BOOT,
  RT_SCOPE_HOST,
  RT_SCOPE_LINK,
  RT_SCOPE_NOWHERE,
  RT_SCOPE_UNIVERSE,
  RT_TABLE_MAIN,
  SCOPES,
  TABLES,
  TYPES,
} from './route-names'

/** The fields a `RouteInit` may have: those of a `Route`. */
const INIT_KEYS = [
  'family',
  'destination',
  'source',
  'gateway',
  'index',
  'inputIndex',
  'table',
  'priority',
  'protocol',
  'scope',
  'type',
  'preferredSource',
  'tos',
  'flags',
  'metrics',
  'nexthops',
  'nexthopId',
  'preference',
  'cacheInfo',
  'attributes',
] as const

/** What a request for a change is for: add, replace or delete. */
export type RouteOp = 'add' | 'replace' | 'delete'

/**
 * Encodes `init` as the payload of an `RTM_NEWROUTE` or `RTM_DELROUTE`:
 * `struct rtmsg` and attributes. Throws a TypeError or RangeError naming
 * the field at fault.
 */
export function encodeRoute(value: unknown, op: RouteOp): Buffer {
  const init = check.optionalObject('init', value)
  if (value === undefined) {
    throw check.typeError('init must be an object, got undefined')
  }
  check.knownKeys('init', init, INIT_KEYS)

  const family = routeFamily(init)
  const dst = parsePrefix('init.destination', init.destination, family)
  sameFamily('init.destination', dst, family)
  const src =
    init.source === undefined
      ? undefined
      : parsePrefix('init.source', init.source, family)
  if (src !== undefined) sameFamily('init.source', src, family)

  const gateway = optionalIP('init.gateway', init.gateway)
  const nexthops = checkNexthops(init.nexthops, family)
  const table = numberOf('init.table', TABLES, init.table ?? RT_TABLE_MAIN, U32)
  const deleting = op === 'delete'

  // iproute2's defaults: a change is a boot route of type unicast; its
  // scope follows from the type and whether it has a gateway. A delete
  // leaves them open (scope nowhere matches any).
  const type = numberOf(
    'init.type',
    TYPES,
    init.type ?? (deleting ? 0 : RTN_UNICAST),
    0xff,
  )
  const protocol = numberOf(
    'init.protocol',
    PROTOCOLS,
    init.protocol ?? (deleting ? 0 : RTPROT_BOOT),
    0xff,
  )
  const viaGateway =
    gateway !== undefined || nexthops.length > 0 || init.nexthopId !== undefined
  const scope =
    init.scope === undefined
      ? defaultScope(op, type, viaGateway)
      : numberOf('init.scope', SCOPES, init.scope, 0xff)

  const header = Buffer.alloc(RTMSG)
  header[0] = family
  header[1] = dst.length
  header[2] = src?.length ?? 0
  header[3] = check.optionalInteger('init.tos', init.tos, 0, 0xff, 0)
  header[4] = table < 256 ? table : 0
  header[5] = protocol
  header[6] = scope
  header[7] = type
  const flags =
    init.flags === undefined ? 0 : bitsOf('init.flags', ROUTE_FLAGS, init.flags)
  writeU32(header, flags, 8)

  const e = new AttributeEncoder()
  if (dst.length > 0) e.bytes(RTA_DST, dst.bytes)
  if (src !== undefined && src.length > 0) e.bytes(RTA_SRC, src.bytes)
  if (gateway !== undefined) writeGateway(e, gateway, family)
  optionalU32(e, RTA_OIF, 'init.index', init.index)
  optionalU32(e, RTA_IIF, 'init.inputIndex', init.inputIndex)
  optionalU32(e, RTA_PRIORITY, 'init.priority', init.priority)
  if (init.preferredSource !== undefined) {
    const ip = parseIP('init.preferredSource', init.preferredSource)
    sameFamily('init.preferredSource', ip, family)
    e.bytes(RTA_PREFSRC, ip.bytes)
  }
  e.uint32(RTA_TABLE, table)
  if (init.metrics !== undefined) {
    e.bytes(RTA_METRICS, encodeMetrics(init.metrics))
  }
  if (nexthops.length > 0) {
    e.bytes(RTA_MULTIPATH, Buffer.concat(nexthops))
  }
  optionalU32(e, RTA_NH_ID, 'init.nexthopId', init.nexthopId)
  if (init.preference !== undefined) {
    const pref = numberOf('init.preference', PREFERENCES, init.preference, 3)
    e.uint8(RTA_PREF, pref)
  }
  const raw = encodeRaw(checkRaw('init.attributes', init.attributes))

  return Buffer.concat([header, e.encode(), raw])
}

/**
 * The route's family: as given, else that of its destination, gateway,
 * first next hop's gateway or preferred source, else IPv4 as iproute2.
 */
function routeFamily(init: Record<string, unknown>): number {
  if (init.family !== undefined) return familyNumber('init.family', init.family)

  const dst = init.destination
  if (dst !== 'default') return parsePrefix('init.destination', dst).family
  const hops = Array.isArray(init.nexthops) ? init.nexthops : []
  const hop = hops[0] as Record<string, unknown> | undefined
  for (const [name, v] of [
    ['init.gateway', init.gateway],
    ['init.nexthops[0].gateway', hop?.gateway],
    ['init.preferredSource', init.preferredSource],
  ] as const) {
    if (v !== undefined) return parseIP(name, v).family
  }
  return AF_INET
}

/**
 * The scope iproute2 gives a route added without one; `viaGateway` is
 * whether it has a gateway, next hops or a next-hop object.
 */
function defaultScope(op: RouteOp, type: number, viaGateway: boolean): number {
  if (op === 'delete') return RT_SCOPE_NOWHERE
  if (type === 2 || type === 10) return RT_SCOPE_HOST
  if (type === 3 || type === 4 || type === 5) return RT_SCOPE_LINK
  if ((type === RTN_UNICAST || type === 0) && !viaGateway) {
    return RT_SCOPE_LINK
  }
  return RT_SCOPE_UNIVERSE
}

/**
 * Writes a gateway of the route's family as `RTA_GATEWAY`, and one of the
 * other family (an IPv6 next hop of an IPv4 route) as `RTA_VIA`.
 */
function writeGateway(e: AttributeEncoder, ip: IPBytes, family: number) {
  if (ip.family === family) {
    e.bytes(RTA_GATEWAY, ip.bytes)
    return
  }
  const b = Buffer.alloc(2 + ip.bytes.length)
  writeU16(b, ip.family, 0)
  ip.bytes.copy(b, 2)
  e.bytes(RTA_VIA, b)
}

/** Checks and encodes the next hops, each a `struct rtnexthop`. */
function checkNexthops(value: unknown, family: number): Buffer[] {
  if (value === undefined) return []
  if (!Array.isArray(value) || value.length === 0) {
    throw check.typeError(
      `init.nexthops must be a non-empty array, got ${check.describe(value)}`,
    )
  }

  return value.map((v: unknown, i) => {
    const name = `init.nexthops[${i}]`
    if (v === undefined) throw check.typeError(`${name} must be an object`)
    const hop = check.optionalObject(name, v)
    check.knownKeys(name, hop, [
      'gateway',
      'index',
      'weight',
      'flags',
      'attributes',
    ])

    const e = new AttributeEncoder()
    const gateway = optionalIP(`${name}.gateway`, hop.gateway)
    if (gateway !== undefined) writeGateway(e, gateway, family)
    const attrs = Buffer.concat([
      e.encode(),
      encodeRaw(checkRaw(`${name}.attributes`, hop.attributes)),
    ])

    const b = Buffer.alloc(RTNEXTHOP)
    writeU16(b, RTNEXTHOP + attrs.length, 0)
    b[2] =
      hop.flags === undefined
        ? 0
        : bitsOf(`${name}.flags`, NEXTHOP_FLAGS, hop.flags)
    b[3] = check.optionalInteger(`${name}.weight`, hop.weight, 1, 256, 1) - 1
    const index = check.optionalInteger(`${name}.index`, hop.index, 0, U32, 0)
    writeI32(b, index | 0, 4)
    return Buffer.concat([b, attrs])
  })
}

/** Encodes `RTA_METRICS`' nested `RTAX_*` attributes. */
function encodeMetrics(value: unknown): Buffer {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw check.typeError(
      `init.metrics must be an object, got ${check.describe(value)}`,
    )
  }
  const metrics = value as Record<string, unknown>
  const known = [...Object.values(METRICS), 'attributes']
  check.knownKeys('init.metrics', metrics, known)

  const e = new AttributeEncoder()
  for (const [n, key] of Object.entries(METRICS)) {
    const v = metrics[key]
    if (v === undefined) continue
    const type = Number(n)
    if (type === RTAX_CC_ALGO) {
      if (typeof v !== 'string') {
        throw check.typeError(
          `init.metrics.congctl must be a string, got ${check.describe(v)}`,
        )
      }
      e.string(type, v)
    } else {
      e.uint32(type, check.integer(`init.metrics.${key}`, v, 0, U32))
    }
  }
  const raw = checkRaw('init.metrics.attributes', metrics.attributes)
  return Buffer.concat([e.encode(), encodeRaw(raw)])
}
