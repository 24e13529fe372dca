/**
 * The links collection: list, get, create, set and delete network
 * interfaces, in the `Link` shape `decodeLink` returns.
 */
import { closeSync, openSync } from 'node:fs'

import { AttributeEncoder } from '../attribute'
import * as check from '../validate'
import { Collection } from './collection'
import { writeI32, writeU32 } from '../host-order'
import { parseMAC } from './ip'
import {
  IFF_UP,
  IFINFOMSG_LENGTH,
  IFLA_ADDRESS,
  IFLA_BROADCAST,
  IFLA_GROUP,
  IFLA_IFALIAS,
  IFLA_IFNAME,
  IFLA_INFO_DATA,
  IFLA_INFO_KIND,
  IFLA_LINK,
  IFLA_LINKINFO,
  IFLA_MASTER,
  IFLA_MTU,
  IFLA_NET_NS_FD,
  IFLA_TXQLEN,
  VETH_INFO_PEER,
  decodeReceivedLink,
  type Link,
} from './link'
import { encodeInfo, hasInfoFields } from './link-info'
import { RTM_DELLINK, RTM_GETLINK, RTM_NEWLINK } from './constants'
import { CREATE, change, dump, getOne } from './request'

/** A link named by index, by name, or by a `Link` (its index). */
export type LinkRef = number | string | { index: number }

/**
 * What `create` and `set` take: the `Link` shape, every field optional.
 * Fields the kernel only reports (`flags`, `operstate`, `stats`, ...)
 * are ignored, so a listed link can be passed back.
 */
export interface LinkInit extends Partial<Omit<Link, 'info'>> {
  /** Settings of the kind; for `'veth'`, `{ peer: LinkInit }`. */
  info?: Record<string, unknown>
  /**
   * The network namespace to create the link in or move it to: a name
   * from `ip netns add`, a path, or an open fd (borrowed).
   */
  netns?: string | number
}

/** Filters of `list`, applied by the kernel where it can. */
export interface LinkFilter {
  /** Only links of this kind. */
  kind?: string
  /** Only links enslaved to this link index. */
  master?: number
}

const WRITABLE = new Set([
  'index',
  'name',
  'up',
  'mtu',
  'address',
  'broadcast',
  'master',
  'link',
  'txqlen',
  'group',
  'alias',
  'kind',
  'info',
  'netns',
])

const REPORTED = new Set([
  'type',
  'flags',
  'running',
  'operstate',
  'minMtu',
  'maxMtu',
  'permanentAddress',
  'linkNetnsId',
  'qdisc',
  'altNames',
  'promiscuity',
  'carrier',
  'carrierChanges',
  'numTxQueues',
  'numRxQueues',
  'slaveKind',
  'stats',
  'attributes',
])

/** `IFNAMSIZ` less the NUL: the longest interface name. */
const MAX_NAME = 15

/**
 * Links of one Conn. Every method is one request (or two, where a name
 * must first be resolved) and may run concurrently with the others; each
 * rejects with the kernel's `NetlinkError`, extended acknowledgement
 * included, and with `EBADF` once the Conn is closed.
 */
export class Links extends Collection {
  /** Lists the links, like `ip -d link show`. */
  async list(filter: LinkFilter = {}): Promise<Link[]> {
    const given = check.optionalObject('filter', filter)
    check.knownKeys('filter', given, ['kind', 'master'])
    const kind = optionalName('filter.kind', given.kind)
    const master = check.optionalInteger(
      'filter.master',
      given.master,
      0,
      0x7fffffff,
      -1,
    )

    const attrs = new AttributeEncoder()
    if (master >= 0) attrs.uint32(IFLA_MASTER, master)
    if (kind !== undefined) {
      attrs.nested(IFLA_LINKINFO, (e) => e.string(IFLA_INFO_KIND, kind))
    }
    return dump(this.conn, RTM_GETLINK, body(0, 0, 0, attrs), (m) => {
      if (m.header.type !== RTM_NEWLINK) return undefined
      const l = decodeReceivedLink(m)
      if (kind !== undefined && l.kind !== kind) return undefined
      if (master >= 0 && (l.master ?? 0) !== master) return undefined
      return l
    })
  }

  /** Gets one link by index or name; rejects with `ENODEV` if none. */
  async get(ref: LinkRef): Promise<Link> {
    const attrs = new AttributeEncoder()
    const index = refIndex('link', ref, attrs)
    const reply = await getOne(this.conn, RTM_GETLINK, body(index, 0, 0, attrs))
    if (reply === undefined) throw new Error('the kernel sent no link')
    return decodeReceivedLink(reply)
  }

  /**
   * Creates a link of `link.kind`; fails with `EEXIST` if the name is
   * taken. A veth's peer is `info.peer`, itself a `LinkInit`.
   */
  async create(link: LinkInit): Promise<void> {
    const init = linkInit('link', link)
    if (typeof init.kind !== 'string' || init.kind === '') {
      throw check.typeError('link.kind must name the kind of link to create')
    }

    const fds: number[] = []
    try {
      const data = encodeLink('link', init, fds)
      await change(this.conn, RTM_NEWLINK, CREATE, data)
    } finally {
      for (const fd of fds) closeSync(fd)
    }
  }

  /**
   * Changes a link: up or down, mtu, name, address, master (0 for none),
   * netns, settings of its kind. Only the fields given change.
   */
  async set(ref: LinkRef, changes: LinkInit): Promise<void> {
    const init = linkInit('changes', changes)
    let index = refIndex('link', ref)
    if (index === 0 || (init.info !== undefined && init.kind === undefined)) {
      const current = await this.get(ref)
      index = current.index
      if (init.info !== undefined) init.kind ??= current.kind
    }

    const fds: number[] = []
    try {
      const data = encodeLink('changes', { ...init, index }, fds)
      await change(this.conn, RTM_NEWLINK, 0, data)
    } finally {
      for (const fd of fds) closeSync(fd)
    }
  }

  /** Deletes a link (a veth's peer goes with it). */
  async delete(ref: LinkRef): Promise<void> {
    const attrs = new AttributeEncoder()
    const index = refIndex('link', ref, attrs)
    await change(this.conn, RTM_DELLINK, 0, body(index, 0, 0, attrs))
  }
}

/** `struct ifinfomsg` and the encoded attributes after it. */
function body(
  index: number,
  flags: number,
  change: number,
  attrs: AttributeEncoder,
): Buffer {
  const b = Buffer.alloc(IFINFOMSG_LENGTH)
  writeI32(b, index, 4)
  writeU32(b, flags, 8)
  writeU32(b, change, 12)
  return Buffer.concat([b, attrs.encode()])
}

/**
 * Checks a `LinkRef` and returns its index; a name goes into `attrs` as
 * `IFLA_IFNAME` (index 0), or is left for the caller when `attrs` is
 * absent.
 */
function refIndex(
  name: string,
  ref: unknown,
  attrs?: AttributeEncoder,
): number {
  if (typeof ref === 'number') return check.integer(name, ref, 1, 0x7fffffff)
  if (typeof ref === 'string') {
    attrs?.string(IFLA_IFNAME, checkName(name, ref))
    return 0
  }
  if (ref !== null && typeof ref === 'object' && 'index' in ref) {
    return check.integer(`${name}.index`, ref.index, 1, 0x7fffffff)
  }
  throw check.typeError(
    `${name} must be an index, a name or a link, got ${check.describe(ref)}`,
  )
}

function checkName(name: string, v: unknown): string {
  if (typeof v !== 'string') {
    throw check.typeError(`${name} must be a string, got ${check.describe(v)}`)
  }
  if (v.length === 0 || Buffer.byteLength(v) > MAX_NAME || /[\s/]/.test(v)) {
    throw check.rangeError(
      `${name} must be 1..${MAX_NAME} bytes without spaces or '/', ` +
        `got ${JSON.stringify(v)}`,
    )
  }
  return v
}

function optionalName(name: string, v: unknown): string | undefined {
  if (v === undefined) return undefined
  if (typeof v !== 'string' || v === '') {
    throw check.typeError(
      `${name} must be a non-empty string, got ${check.describe(v)}`,
    )
  }
  return v
}

/** Checks a `LinkInit`'s keys: writable, reported (ignored), or neither. */
function linkInit(name: string, v: unknown): LinkInit {
  const given = check.optionalObject(name, v)
  if (v === undefined) throw check.typeError(`${name} must be an object`)
  for (const key of Object.keys(given)) {
    if (!WRITABLE.has(key) && !REPORTED.has(key)) {
      throw check.typeError(`${name} has an unknown field ${key}`)
    }
  }
  return { ...given } as LinkInit
}

/**
 * Encodes `struct ifinfomsg` and the writable fields of `init`; fds
 * opened for `netns` are pushed onto `fds` for the caller to close once
 * the request is done.
 */
function encodeLink(name: string, init: LinkInit, fds: number[]): Buffer {
  const e = new AttributeEncoder()
  const index = check.optionalInteger(
    `${name}.index`,
    init.index,
    0,
    0x7fffffff,
    0,
  )
  const up = check.optionalBoolean(`${name}.up`, init.up, false)
  const u32 = (key: keyof LinkInit) =>
    check.integer(`${name}.${key}`, init[key], 0, 0xffffffff)

  if (init.name !== undefined) {
    e.string(IFLA_IFNAME, checkName(`${name}.name`, init.name))
  }
  if (init.mtu !== undefined) e.uint32(IFLA_MTU, u32('mtu'))
  if (init.txqlen !== undefined) e.uint32(IFLA_TXQLEN, u32('txqlen'))
  if (init.group !== undefined) e.uint32(IFLA_GROUP, u32('group'))
  if (init.master !== undefined) e.uint32(IFLA_MASTER, u32('master'))
  if (init.link !== undefined) e.uint32(IFLA_LINK, u32('link'))
  if (init.address !== undefined) {
    e.bytes(IFLA_ADDRESS, parseMAC(`${name}.address`, init.address))
  }
  if (init.broadcast !== undefined) {
    e.bytes(IFLA_BROADCAST, parseMAC(`${name}.broadcast`, init.broadcast))
  }
  if (init.alias !== undefined) {
    if (typeof init.alias !== 'string') {
      throw check.typeError(`${name}.alias must be a string`)
    }
    e.string(IFLA_IFALIAS, init.alias)
  }
  if (init.netns !== undefined) {
    e.uint32(IFLA_NET_NS_FD, netnsFd(`${name}.netns`, init.netns, fds))
  }
  if (init.kind !== undefined || init.info !== undefined) {
    encodeLinkInfo(name, init, e, fds)
  }

  const flags = up ? IFF_UP : 0
  const changed = init.up === undefined ? 0 : IFF_UP
  return body(index, flags, changed, e)
}

function encodeLinkInfo(
  name: string,
  init: LinkInit,
  e: AttributeEncoder,
  fds: number[],
): void {
  const kind = optionalName(`${name}.kind`, init.kind)
  if (kind === undefined) {
    throw check.typeError(`${name}.info needs ${name}.kind`)
  }
  const info = check.optionalObject(`${name}.info`, init.info)

  e.nested(IFLA_LINKINFO, (li) => {
    li.string(IFLA_INFO_KIND, kind)
    if (init.info === undefined) return

    if (kind === 'veth') {
      check.knownKeys(`${name}.info`, info, ['peer'])
      if (info.peer === undefined) return
      const peer = linkInit(`${name}.info.peer`, info.peer)
      const data = encodeLink(`${name}.info.peer`, peer, fds)
      li.nested(IFLA_INFO_DATA, (d) => d.bytes(VETH_INFO_PEER, data))
    } else if (hasInfoFields(kind)) {
      li.nested(IFLA_INFO_DATA, (d) => encodeInfo(d, kind, info))
    } else if (Object.keys(info).some((k) => k !== 'attributes')) {
      throw check.typeError(`${name}.info: no settings are known for ${kind}`)
    }
  })
}

/** An fd for `IFLA_NET_NS_FD`: the caller's, or one opened here. */
function netnsFd(name: string, v: unknown, fds: number[]): number {
  if (typeof v === 'number') return check.integer(name, v, 0, 0x7fffffff)
  if (typeof v !== 'string' || v === '') {
    throw check.typeError(
      `${name} must be a namespace name, path or fd, got ` + check.describe(v),
    )
  }

  const path = v.includes('/') ? v : `/var/run/netns/${v}`
  const fd = openSync(path, 'r')
  fds.push(fd)
  return fd
}
