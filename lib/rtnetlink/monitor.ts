/**
 * Typed change events of links, addresses, routes and neighbours, from
 * rtnetlink's multicast groups; after an overrun, optionally a re-dump
 * and the differences it finds.
 */
import type { Conn, ReceivedMessage } from '../conn'
import { NetlinkError } from '../errors'
import type { Message } from '../message'
import * as check from '../validate'
import { Addresses, decodeAddress, type Address } from './address'
import * as rtm from './constants'
import { decodeReceivedLink, type Link } from './link'
import { Links } from './links'
import {
  Neighbours,
  decodeNeighbour,
  neighbourKey,
  type Neighbour,
} from './neighbour'
import { Routes, decodeRoute, routeKey, type Route } from './route'

/** The kinds of objects a monitor follows. */
export type MonitorKind = 'link' | 'address' | 'route' | 'neighbour'

/** How to monitor. Every field is optional. */
export interface MonitorOptions {
  /** The kinds to follow; all four when left out. */
  kinds?: MonitorKind[]
  /**
   * After an overrun, dump the kinds followed and emit the differences
   * from what the monitor had seen as `new` and `delete` events. The
   * monitor then dumps once at the start too, to know the state.
   */
  resync?: boolean
  /** Ends the monitor when aborted. */
  signal?: AbortSignal
  /** Receive buffer of the monitor's own socket, in bytes. */
  readBufferSize?: number
  /**
   * Bytes of events the monitor's own socket holds while the consumer is
   * busy; past it events are dropped and an overrun is reported.
   */
  maxQueuedBytes?: number
}

/** A change: `new` (created or changed) or `delete`. */
export type ChangeEvent =
  | { kind: 'link'; action: Action; object: Link }
  | { kind: 'address'; action: Action; object: Address }
  | { kind: 'route'; action: Action; object: Route }
  | { kind: 'neighbour'; action: Action; object: Neighbour }

/** What happened to an object. */
export type Action = 'new' | 'delete'

/**
 * What a monitor yields: changes; an `overrun` where the kernel dropped
 * events (`resync` says whether the monitor re-dumps; if not, the
 * consumer should); an `error` for a message that could not be decoded.
 */
export type RouteEvent =
  | ChangeEvent
  | { kind: 'overrun'; error: NetlinkError; resync: boolean }
  | { kind: 'error'; error: Error; message: Message }

type AnyObject = Link | Address | Route | Neighbour

interface KindSpec {
  groups: number[]
  newType: number
  delType: number
  /** Every object of the kind that its events can name. */
  list: (conn: Conn) => Promise<AnyObject[]>
  decode: (m: Message) => AnyObject
  key: (o: AnyObject) => string
}

const KINDS: Record<MonitorKind, KindSpec> = {
  link: {
    groups: [rtm.RTNLGRP_LINK],
    newType: rtm.RTM_NEWLINK,
    delType: rtm.RTM_DELLINK,
    list: (conn) => new Links(conn).list(),
    decode: decodeReceivedLink,
    key: (o) => String((o as Link).index),
  },
  address: {
    groups: [rtm.RTNLGRP_IPV4_IFADDR, rtm.RTNLGRP_IPV6_IFADDR],
    newType: rtm.RTM_NEWADDR,
    delType: rtm.RTM_DELADDR,
    list: (conn) => new Addresses(conn).list(),
    decode: decodeAddress,
    key: (o) => {
      const a = o as Address
      return `${a.index} ${a.address}/${a.prefixLength} ${a.peer ?? ''}`
    },
  },
  route: {
    groups: [rtm.RTNLGRP_IPV4_ROUTE, rtm.RTNLGRP_IPV6_ROUTE],
    newType: rtm.RTM_NEWROUTE,
    delType: rtm.RTM_DELROUTE,
    list: (conn) => new Routes(conn).list(),
    decode: decodeRoute,
    key: (o) => routeKey(o as Route),
  },
  neighbour: {
    groups: [rtm.RTNLGRP_NEIGH],
    newType: rtm.RTM_NEWNEIGH,
    delType: rtm.RTM_DELNEIGH,
    // Events name bridge forwarding entries too, which a plain dump
    // leaves out.
    list: async (conn) => {
      const neighbours = new Neighbours(conn)
      const [ip, bridge] = await Promise.all([
        neighbours.list(),
        neighbours.list({ family: 'bridge' }),
      ])
      return [...ip, ...bridge]
    },
    decode: decodeNeighbour,
    key: (o) => neighbourKey(o as Neighbour),
  },
}

const ALL_KINDS = Object.keys(KINDS) as MonitorKind[]

/** Fields that change without the object changing: counters, timers. */
const VOLATILE = new Set([
  'stats',
  'carrierChanges',
  'preferredLifetime',
  'validLifetime',
  'cacheInfo',
  'expires',
  'attributes',
])

/** Checks `MonitorOptions`, throwing a TypeError or RangeError. */
export function checkMonitorOptions(options: unknown): {
  kinds: MonitorKind[]
  resync: boolean
  signal?: AbortSignal
  readBufferSize?: number
  maxQueuedBytes?: number
} {
  const given = check.optionalObject('options', options)
  check.knownKeys('options', given, [
    'kinds',
    'resync',
    'signal',
    'readBufferSize',
    'maxQueuedBytes',
  ])

  let kinds = ALL_KINDS
  if (given.kinds !== undefined) {
    if (!Array.isArray(given.kinds) || given.kinds.length === 0) {
      throw check.typeError('options.kinds must be a non-empty array')
    }
    for (const k of given.kinds) {
      if (!ALL_KINDS.includes(k)) {
        throw check.typeError(
          `options.kinds: unknown kind ${check.describe(k)}; ` +
            `known: ${ALL_KINDS.join(', ')}`,
        )
      }
    }
    kinds = given.kinds
  }
  const readBufferSize =
    given.readBufferSize === undefined
      ? undefined
      : check.integer(
          'options.readBufferSize',
          given.readBufferSize,
          1,
          0x7fffffff,
        )
  const maxQueuedBytes =
    given.maxQueuedBytes === undefined
      ? undefined
      : check.integer(
          'options.maxQueuedBytes',
          given.maxQueuedBytes,
          0,
          Number.MAX_SAFE_INTEGER,
        )
  return {
    kinds,
    resync: check.optionalBoolean('options.resync', given.resync, false),
    signal: check.optionalSignal('options.signal', given.signal),
    readBufferSize,
    maxQueuedBytes,
  }
}

/**
 * Follows the groups of the kinds asked for on `conn`, yielding typed
 * events, and dumps over `dumps` (which may be `conn`) to resync; `owned`
 * closes `conn` when the monitor ends. Options were checked by
 * `checkMonitorOptions`.
 */
export async function* monitor(
  conn: Conn,
  dumps: Conn,
  owned: boolean,
  options: MonitorOptions,
): AsyncGenerator<RouteEvent, void, undefined> {
  const { kinds, resync, signal } = checkMonitorOptions(options)
  const byType = new Map<number, [MonitorKind, Action]>()
  for (const kind of kinds) {
    byType.set(KINDS[kind].newType, [kind, 'new'])
    byType.set(KINDS[kind].delType, [kind, 'delete'])
  }

  try {
    for (const kind of kinds) {
      for (const group of KINDS[kind].groups) conn.joinGroup(group)
    }

    // Join first, then dump: a change between the two is seen twice at
    // worst, never missed.
    const seen = new Map<string, AnyObject>()
    if (resync) await snapshot(dumps, kinds, seen)

    const messages = conn.receive({ signal })
    for (;;) {
      let item: IteratorResult<ReceivedMessage>
      try {
        item = await messages.next()
      } catch (err) {
        if (!isOverrun(err)) throw err
        yield { kind: 'overrun', error: err, resync }
        if (resync) yield* differences(dumps, kinds, seen)
        continue
      }
      if (item.done) return

      const event = toEvent(item.value, byType)
      if (event === undefined) continue
      if (resync && 'object' in event) remember(seen, event)
      yield event
    }
  } finally {
    if (owned) await conn.close()
  }
}

function isOverrun(err: unknown): err is NetlinkError {
  return err instanceof NetlinkError && err.code === 'ENOBUFS'
}

function toEvent(
  m: ReceivedMessage,
  byType: Map<number, [MonitorKind, Action]>,
): RouteEvent | undefined {
  const which = byType.get(m.header.type)
  if (which === undefined) return undefined

  const [kind, action] = which
  try {
    const object = KINDS[kind].decode(m)
    return { kind, action, object } as ChangeEvent
  } catch (err) {
    return { kind: 'error', error: err as Error, message: m }
  }
}

/** The key of `object` of `kind` in a snapshot. */
function keyOf(kind: MonitorKind, object: AnyObject): string {
  return `${kind} ${KINDS[kind].key(object)}`
}

function remember(seen: Map<string, AnyObject>, e: ChangeEvent): void {
  const key = keyOf(e.kind, e.object)
  if (e.action === 'new') seen.set(key, e.object)
  else seen.delete(key)
}

/** Dumps the kinds followed into `seen`, keyed by `keyOf`. */
async function snapshot(
  conn: Conn,
  kinds: MonitorKind[],
  seen: Map<string, AnyObject>,
): Promise<void> {
  for (const kind of kinds) {
    for (const object of await KINDS[kind].list(conn)) {
      seen.set(keyOf(kind, object), object)
    }
  }
}

/**
 * Re-dumps the kinds followed and yields what differs from `seen`: a
 * `delete` for each object gone, a `new` for each one added or changed.
 * `seen` is left holding the new state.
 */
async function* differences(
  conn: Conn,
  kinds: MonitorKind[],
  seen: Map<string, AnyObject>,
): AsyncGenerator<ChangeEvent> {
  // A dump on a socket that overruns again may lose its reply: retry.
  const now = new Map<string, AnyObject>()
  for (;;) {
    try {
      await snapshot(conn, kinds, now)
      break
    } catch (err) {
      if (!isOverrun(err)) throw err
      now.clear()
    }
  }

  for (const [key, object] of seen) {
    if (now.has(key)) continue
    const kind = key.slice(0, key.indexOf(' ')) as MonitorKind
    yield { kind, action: 'delete', object } as ChangeEvent
  }
  for (const [key, object] of now) {
    const before = seen.get(key)
    if (before !== undefined && same(before, object)) continue
    const kind = key.slice(0, key.indexOf(' ')) as MonitorKind
    yield { kind, action: 'new', object } as ChangeEvent
  }

  seen.clear()
  for (const [key, object] of now) seen.set(key, object)
}

/** Whether two objects agree on every field but the volatile ones. */
function same(a: AnyObject, b: AnyObject): boolean {
  return stable(a) === stable(b)
}

function stable(o: AnyObject): string {
  return JSON.stringify(o, (key, v) => {
    if (VOLATILE.has(key)) return undefined
    return typeof v === 'bigint' ? v.toString() : v
  })
}
