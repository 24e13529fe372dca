/**
 * Addresses as people write them: IPv4 and IPv6 addresses, prefixes and
 * link-layer (MAC) addresses, to and from the bytes rtnetlink carries.
 * IPv6 is printed as `inet_ntop` and iproute2 print it (RFC 5952).
 */
import { isIPv4, isIPv6 } from 'node:net'

import * as check from '../validate'

/** `AF_INET`: IPv4. */
export const AF_INET = 2
/** `AF_INET6`: IPv6. */
export const AF_INET6 = 10
/** `AF_BRIDGE`: the bridge's forwarding database. */
export const AF_BRIDGE = 7
/** `AF_UNSPEC`: any family. */
export const AF_UNSPEC = 0

/** An address family by name, as the typed objects carry it. */
export type IPFamily = 'inet' | 'inet6'

/** An address's family and bytes (4 or 16). */
export interface IPBytes {
  family: number
  bytes: Buffer
}

/** A prefix: an address, its family, and how many bits are fixed. */
export interface Prefix extends IPBytes {
  length: number
}

/** The family name for an `AF_*` number, or undefined. */
export function familyName(family: number): IPFamily | undefined {
  if (family === AF_INET) return 'inet'
  if (family === AF_INET6) return 'inet6'
  return undefined
}

/** The `AF_*` number for a family name; throws a TypeError otherwise. */
export function familyNumber(name: string, value: unknown): number {
  if (value === 'inet') return AF_INET
  if (value === 'inet6') return AF_INET6
  throw check.typeError(
    `${name} must be 'inet' or 'inet6', got ${check.describe(value)}`,
  )
}

/** As `familyNumber`, but `AF_UNSPEC` (any family) when not given. */
export function optionalFamily(name: string, value: unknown): number {
  return value === undefined ? AF_UNSPEC : familyNumber(name, value)
}

/**
 * Formats 4 or 16 address bytes; other lengths (and other families'
 * addresses) come out as colon-separated hex, so nothing is lost.
 */
export function formatIP(b: Uint8Array): string {
  if (b.length === 4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`
  if (b.length === 16) return formatIPv6(b)
  return formatMAC(b)
}

function formatIPv6(b: Uint8Array): string {
  const words: number[] = []
  for (let i = 0; i < 16; i += 2) words.push((b[i] << 8) | b[i + 1])

  // The longest run of two or more zero words becomes '::'; the first
  // such run wins a tie.
  let best = -1
  let bestLength = 1
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) {
      i++
      continue
    }
    let j = i
    while (j < 8 && words[j] === 0) j++
    if (j - i > bestLength) {
      best = i
      bestLength = j - i
    }
    i = j
  }

  // IPv4-mapped and IPv4-compatible addresses end in dotted form.
  const embedded =
    best === 0 &&
    (bestLength === 6 || (bestLength === 5 && words[5] === 0xffff)) &&
    words[6] !== 0
  const tail = embedded ? [formatIP(b.subarray(12))] : []
  const count = embedded ? 6 : 8

  const hex = (from: number, to: number) =>
    words.slice(from, to).map((w) => w.toString(16))
  if (best < 0 || best >= count) {
    return [...hex(0, count), ...tail].join(':')
  }
  const end = Math.min(best + bestLength, count)
  const head = hex(0, best).join(':')
  const rest = [...hex(end, count), ...tail].join(':')
  return `${head}::${rest}`
}

/** Each byte value as two lowercase hex digits. */
const HEX = Array.from({ length: 256 }, (_, i) =>
  i.toString(16).padStart(2, '0'),
)

/** The character codes of each byte value's first and second hex digit. */
const HIGH = Uint8Array.from(HEX, (h) => h.charCodeAt(0))
const LOW = Uint8Array.from(HEX, (h) => h.charCodeAt(1))

/** `:` */
const COLON = 0x3a

/** Formats link-layer address bytes as `aa:bb:cc:dd:ee:ff`. */
export function formatMAC(b: Uint8Array): string {
  return formatMACAt(b, 0, b.length)
}

/** Formats the address bytes of `b` from `start` to `end` as `formatMAC`. */
export function formatMACAt(b: Uint8Array, start: number, end: number): string {
  // Ethernet's six bytes make one flat string at once, where joining two
  // digits at a time made ten strings, and a chain the collector walks.
  if (end - start === 6) {
    const b0 = b[start]
    const b1 = b[start + 1]
    const b2 = b[start + 2]
    const b3 = b[start + 3]
    const b4 = b[start + 4]
    const b5 = b[start + 5]
    // prettier-ignore
    return String.fromCharCode(
      HIGH[b0], LOW[b0], COLON, HIGH[b1], LOW[b1], COLON,
      HIGH[b2], LOW[b2], COLON, HIGH[b3], LOW[b3], COLON,
      HIGH[b4], LOW[b4], COLON, HIGH[b5], LOW[b5],
    )
  }
  let s = ''
  for (let i = start; i < end; i++) {
    if (i > start) s += ':'
    s += HEX[b[i]]
  }
  return s
}

/** Parses an IPv4 or IPv6 address; throws a TypeError naming `name`. */
export function parseIP(name: string, value: unknown): IPBytes {
  if (typeof value === 'string') {
    if (isIPv4(value)) return { family: AF_INET, bytes: parseIPv4(value) }
    if (isIPv6(value)) return { family: AF_INET6, bytes: parseIPv6(value) }
  }
  throw check.typeError(
    `${name} must be an IPv4 or IPv6 address, got ${check.describe(value)}`,
  )
}

function parseIPv4(s: string): Buffer {
  return Buffer.from(s.split('.').map(Number))
}

function parseIPv6(s: string): Buffer {
  const out = Buffer.alloc(16)
  const zone = s.indexOf('%')
  const text = zone >= 0 ? s.slice(0, zone) : s

  // Expand to eight groups, an embedded IPv4 address counting as two.
  const groups = (part: string): number[] => {
    if (part === '') return []
    const words: number[] = []
    for (const g of part.split(':')) {
      if (g.includes('.')) {
        const v4 = parseIPv4(g)
        words.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3])
      } else {
        words.push(parseInt(g, 16))
      }
    }
    return words
  }
  const gap = text.indexOf('::')
  let words: number[]
  if (gap < 0) {
    words = groups(text)
  } else {
    const head = groups(text.slice(0, gap))
    const tail = groups(text.slice(gap + 2))
    const zeros = new Array(8 - head.length - tail.length).fill(0)
    words = [...head, ...zeros, ...tail]
  }

  words.forEach((w, i) => out.writeUInt16BE(w, i * 2))
  return out
}

/**
 * Parses a prefix, `'192.0.2.0/24'` or `'2001:db8::/32'`; a bare address
 * is a host prefix (/32 or /128). With `family`, `'default'` is the
 * zero-length prefix of that family.
 */
export function parsePrefix(
  name: string,
  value: unknown,
  family?: number,
): Prefix {
  if (value === 'default' && family !== undefined) {
    const size = family === AF_INET6 ? 16 : 4
    return { family, bytes: Buffer.alloc(size), length: 0 }
  }
  if (typeof value !== 'string') {
    throw check.typeError(
      `${name} must be a prefix string, got ${check.describe(value)}`,
    )
  }

  const slash = value.indexOf('/')
  const address = slash < 0 ? value : value.slice(0, slash)
  const ip = parseIP(name, address)
  const max = ip.bytes.length * 8
  if (slash < 0) return { ...ip, length: max }

  const bits = value.slice(slash + 1)
  const length = /^\d{1,3}$/.test(bits) ? Number(bits) : NaN
  if (!(length <= max)) {
    throw check.rangeError(
      `${name} must have a prefix length in 0..${max}, got ${value}`,
    )
  }
  return { ...ip, length }
}

/** Formats address bytes and a prefix length as `address/length`. */
export function formatPrefix(b: Uint8Array, length: number): string {
  return `${formatIP(b)}/${length}`
}

/**
 * Parses a link-layer address, `'aa:bb:cc:dd:ee:ff'` (any number of
 * colon-separated hex bytes, or `-` separators); throws a TypeError.
 */
export function parseMAC(name: string, value: unknown): Buffer {
  if (
    typeof value === 'string' &&
    /^[0-9a-f]{1,2}([:-][0-9a-f]{1,2}){0,31}$/i.test(value)
  ) {
    return Buffer.from(value.split(/[:-]/).map((h) => parseInt(h, 16)))
  }
  throw check.typeError(
    `${name} must be a link-layer address like 'aa:bb:cc:dd:ee:ff', ` +
      `got ${check.describe(value)}`,
  )
}

/** Throws a TypeError naming `name` unless `ip` is of `family`. */
export function sameFamily(name: string, ip: IPBytes, family: number): void {
  if (ip.family === family) return
  throw check.typeError(
    `${name} must be an ${familyName(family)} address, got ` +
      `${familyName(ip.family)}`,
  )
}

/** Parses an optional address; throws a TypeError naming `name`. */
export function optionalIP(name: string, v: unknown): IPBytes | undefined {
  return v === undefined ? undefined : parseIP(name, v)
}
