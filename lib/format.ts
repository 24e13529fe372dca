import { endianness } from 'node:os'

import {
  AttributeDecoder,
  NLA_F_NESTED,
  NLA_F_NET_BYTEORDER,
} from './attribute'
import { HeaderFlags, HeaderType } from './constants'
import type { Message } from './message'
import { knownErrnoName } from './errors'
import * as check from './validate'
import { rangeError, typeError } from './validate'

const HOST_BIG_ENDIAN = endianness() === 'BE'

/** Nesting deeper than this is dumped as hex rather than expanded. */
const MAX_DEPTH = 32

/** Bytes shown on one line of a hex dump. */
const LINE_BYTES = 16

type FlagNames = ReadonlyArray<readonly [number, string]>

/** Flags every message kind shares. */
const COMMON: FlagNames = [
  [HeaderFlags.Request, 'request'],
  [HeaderFlags.Multi, 'multi'],
  [HeaderFlags.Acknowledge, 'ack'],
  [HeaderFlags.Echo, 'echo'],
  [HeaderFlags.DumpInterrupted, 'dump-intr'],
  [HeaderFlags.DumpFiltered, 'dump-filtered'],
]

/** GET flags; `dump` stands for root and match together. */
const GET: FlagNames = [
  [HeaderFlags.Dump, 'dump'],
  [HeaderFlags.Root, 'root'],
  [HeaderFlags.Match, 'match'],
  [HeaderFlags.Atomic, 'atomic'],
]

const NEW: FlagNames = [
  [HeaderFlags.Replace, 'replace'],
  [HeaderFlags.Excl, 'excl'],
  [HeaderFlags.Create, 'create'],
  [HeaderFlags.Append, 'append'],
]

const DELETE: FlagNames = [
  [HeaderFlags.NonRecursive, 'nonrec'],
  [HeaderFlags.Bulk, 'bulk'],
]

const ACK: FlagNames = [
  [HeaderFlags.Capped, 'capped'],
  [HeaderFlags.AcknowledgeTLVs, 'ack-tlvs'],
]

/** The first type a family may use (`NLMSG_MIN_TYPE`). */
const MIN_TYPE = 0x10

const TYPE_NAMES: ReadonlyMap<number, string> = new Map([
  [HeaderType.Noop, 'noop'],
  [HeaderType.Error, 'error'],
  [HeaderType.Done, 'done'],
  [HeaderType.Overrun, 'overrun'],
])

/**
 * Picks the names of the high flag bits from the message type. For types
 * of 16 and up it follows rtnetlink, where types come in groups of four
 * (NEW, DEL, GET, SET); that holds for NETLINK_ROUTE and is only a guess
 * for other families.
 */
function kindFlags(type: number | undefined): FlagNames {
  if (type === HeaderType.Error || type === HeaderType.Done) return ACK
  if (type === undefined || type < MIN_TYPE) return []

  switch ((type - MIN_TYPE) % 4) {
    case 0:
      return NEW
    case 1:
      return DELETE
    case 2:
      return GET
    default:
      return []
  }
}

/**
 * Names the bits of a header's flags, joined by `|`, or `0` for none, as
 * in `request|ack|dump`. The bits from 0x100 up mean different things by
 * message kind: `type` picks the meaning. NLMSG_ERROR and NLMSG_DONE get
 * the ACK names; types of 16 and up are read as rtnetlink's NEW, DEL, GET
 * or SET by `(type - 16) % 4`, a convention of NETLINK_ROUTE that other
 * families need not follow. Bits left unnamed are shown as one hex number.
 */
export function formatFlags(flags: number, type?: number): string {
  if (typeof flags !== 'number') throw typeError('flags must be a number')
  if (!Number.isInteger(flags) || flags < 0 || flags > 0xffff) {
    throw rangeError(`flags out of range: ${flags}`)
  }
  if (type !== undefined) check.integer('type', type, 0, 0xffff)

  const names: string[] = []
  let left = flags
  for (const [bits, name] of [...COMMON, ...kindFlags(type)]) {
    if ((left & bits) === bits) {
      names.push(name)
      left &= ~bits
    }
  }

  if (left !== 0) names.push(`0x${(left >>> 0).toString(16)}`)
  return names.length === 0 ? '0' : names.join('|')
}

/** Describes the errno at the start of an NLMSG_ERROR payload. */
function formatErrno(data: Buffer): string {
  if (data.length < 4) return 'errno=?'

  const errno = HOST_BIG_ENDIAN ? data.readInt32BE(0) : data.readInt32LE(0)
  if (errno === 0) return 'errno=0(ack)'
  const name = errno < 0 ? knownErrnoName(-errno) : undefined
  return name === undefined ? `errno=${errno}` : `errno=${name}(${errno})`
}

/**
 * Describes a message on one line for logs, as in `type=error flags=0
 * seq=1 pid=0 len=36 data=20 errno=ENOENT(-2)`: the type (named for the
 * NLMSG_* types, a number otherwise), the flags as `formatFlags` names
 * them, sequence, port ID, `nlmsg_len`, and the payload length. An error
 * message also shows its errno, `0(ack)` for an acknowledgement.
 */
export function formatMessage(m: Message): string {
  const given = check.optionalObject('message', m ?? null)
  const h = check.optionalObject('message.header', given.header ?? null)
  for (const field of ['type', 'flags', 'sequence', 'pid', 'length']) {
    check.integer(`message.header.${field}`, h[field], 0, 0xffffffff)
  }
  const bytes = check.bytes('message.data', given.data)
  const header = h as unknown as Message['header']
  const data = Buffer.isBuffer(bytes)
    ? bytes
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const type = TYPE_NAMES.get(header.type) ?? String(header.type)
  const parts = [
    `type=${type}`,
    `flags=${formatFlags(header.flags, header.type)}`,
    `seq=${header.sequence}`,
    `pid=${header.pid}`,
    `len=${header.length}`,
    `data=${data.length}`,
  ]

  if (header.type === HeaderType.Error) parts.push(formatErrno(data))
  return parts.join(' ')
}

/**
 * Dumps bytes as hex, 16 a line, each line led by `indent` spaces and the
 * offset of its first byte. Returns an empty string for no bytes.
 */
export function formatHex(buf: Uint8Array, indent = 0): string {
  const pad = ' '.repeat(indent)
  const lines: string[] = []
  for (let at = 0; at < buf.length; at += LINE_BYTES) {
    const row = buf.subarray(at, at + LINE_BYTES)
    lines.push(`${pad}${at.toString(16).padStart(4, '0')}: ${hexBytes(row)}`)
  }
  return lines.join('\n')
}

function hexBytes(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ')
}

function typeFlagLetters(flags: number): string {
  let s = ''
  if (flags & NLA_F_NESTED) s += 'N'
  if (flags & NLA_F_NET_BYTEORDER) s += 'B'
  return s
}

/** State shared by the levels of one attribute dump. */
interface Dump {
  lines: string[]
  /** Set once a level has written the line saying where decoding stopped. */
  stopped: boolean
}

function dumpAttributes(
  d: AttributeDecoder,
  indent: number,
  depth: number,
  out: Dump,
): void {
  const pad = ' '.repeat(indent)
  while (d.next()) {
    const flags = typeFlagLetters(d.typeFlags)
    const head =
      `${pad}type=${d.type}` +
      (flags === '' ? '' : ` flags=${flags}`) +
      ` len=${d.length + 4}`
    const value = d.bytes()

    // Nested attributes share the decoder's error, so a malformed child
    // ends the whole dump at the offset where it went wrong.
    if (d.typeFlags & NLA_F_NESTED && depth < MAX_DEPTH) {
      out.lines.push(head)
      d.nested((c) => dumpAttributes(c, indent + 2, depth + 1, out))
    } else if (value.length === 0) {
      out.lines.push(head)
    } else if (value.length <= LINE_BYTES) {
      out.lines.push(`${head}: ${hexBytes(value)}`)
    } else {
      out.lines.push(head, formatHex(value, indent + 2))
    }
  }

  if (d.err !== null && !out.stopped) {
    out.lines.push(`${pad}stopped: ${d.err.message}`)
    out.stopped = true
  }
}

/**
 * Dumps a run of attributes, one line per attribute: its type, its flag
 * letters (`N` for NLA_F_NESTED, `B` for NLA_F_NET_BYTEORDER), `nla_len`
 * (header included) and its value in hex, 16 bytes a line. Attributes
 * marked nested are expanded below their parent, two spaces further in.
 * Malformed input ends the dump with a line saying where it stopped; it
 * never throws for the content of `buf`.
 */
export function formatAttributes(buf: Uint8Array, indent = 0): string {
  if (!(buf instanceof Uint8Array)) {
    throw typeError('buf must be a Buffer or Uint8Array')
  }
  check.integer('indent', indent, 0, 1024)

  const out: Dump = { lines: [], stopped: false }
  dumpAttributes(new AttributeDecoder(buf), indent, 0, out)
  return out.lines.join('\n')
}
