/**
 * Netlink attributes read where they lie in one Buffer, for the decoders
 * that run once per object of a dump: no view, copy or object is made
 * per attribute. Attributes are framed exactly as `AttributeDecoder`
 * frames them and malformed ones are reported with the same
 * `AttributeError`s, thrown at the first.
 *
 * The functions take the offset `at` of an attribute's header and the
 * offset `end` just past its value (its padding left out); `origin` is
 * where error offsets count from, the start of the outermost run.
 */
import {
  AttributeError,
  NLA_F_NET_BYTEORDER,
  NLA_TYPE_MASK,
} from '../attribute'
import { readI32, readU16, readU32 } from '../host-order'

/** Size of `nlattr`, the length and type before every value. */
const NLA_HDRLEN = 4

// Module-local copies: an imported constant is a property read at each
// use in TypeScript's CommonJS output, and these are read per attribute.
const TYPE_MASK = NLA_TYPE_MASK
const NET_BYTEORDER = NLA_F_NET_BYTEORDER

export { NLA_HDRLEN }

/**
 * Checks the header of the attribute at `at`, in a run that stops at
 * `stop`, and returns the end of its value. Throws an AttributeError for
 * 1 to 3 stray bytes, a length under 4, or one that runs past `stop`.
 */
export function valueEnd(
  b: Buffer,
  at: number,
  stop: number,
  origin: number,
): number {
  const left = stop - at
  const offset = at - origin
  if (left < NLA_HDRLEN) {
    throw new AttributeError(
      `attribute at offset ${offset}: ${left} stray bytes, too few for a ` +
        `header`,
      offset,
    )
  }

  const length = readU16(b, at)
  if (length >= NLA_HDRLEN && length <= left) return at + length
  const why =
    length < NLA_HDRLEN
      ? `length ${length} is under ${NLA_HDRLEN}`
      : `length ${length} runs past the end (${left} bytes left)`
  throw new AttributeError(
    `attribute at offset ${offset}: ${why}`,
    offset,
    typeAt(b, at),
  )
}

/**
 * Where the attribute after the one at `at` starts: past its padding,
 * which the last attribute of a run may lack.
 */
export function nextAt(at: number, end: number, stop: number): number {
  return Math.min(at + ((end - at + 3) & ~3), stop)
}

/** The type of the attribute at `at`, flags masked off. */
export function typeAt(b: Buffer, at: number): number {
  return readU16(b, at + 2) & TYPE_MASK
}

/** Reads the attribute at `at` as a u8; its value must be 1 byte. */
export function u8At(b: Buffer, at: number, end: number, origin: number) {
  if (end - at !== NLA_HDRLEN + 1) {
    throw sizeError(b, at, end, origin, 1, 'uint8')
  }
  return b[at + NLA_HDRLEN]
}

/**
 * Reads the attribute at `at` as a u32 in host byte order, or big-endian
 * where it has `NLA_F_NET_BYTEORDER`; its value must be 4 bytes.
 */
export function u32At(b: Buffer, at: number, end: number, origin: number) {
  if (end - at !== NLA_HDRLEN + 4) {
    throw sizeError(b, at, end, origin, 4, 'uint32')
  }
  if (readU16(b, at + 2) & NET_BYTEORDER) {
    return b.readUInt32BE(at + NLA_HDRLEN)
  }
  return readU32(b, at + NLA_HDRLEN)
}

/** Reads the attribute at `at` as an s32, as `u32At` does. */
export function i32At(b: Buffer, at: number, end: number, origin: number) {
  if (end - at !== NLA_HDRLEN + 4) {
    throw sizeError(b, at, end, origin, 4, 'int32')
  }
  if (readU16(b, at + 2) & NET_BYTEORDER) {
    return b.readInt32BE(at + NLA_HDRLEN)
  }
  return readI32(b, at + NLA_HDRLEN)
}

/** The end of the string in the value of the attribute at `at`. */
export function stringEnd(b: Buffer, at: number, end: number): number {
  for (let i = at + NLA_HDRLEN; i < end; i++) {
    if (b[i] === 0) return i
  }
  return end
}

/** Reads the value of the attribute at `at` as UTF-8, to its first NUL. */
export function stringAt(b: Buffer, at: number, end: number): string {
  return b.toString('utf8', at + NLA_HDRLEN, stringEnd(b, at, end))
}

/** An AttributeError about the attribute at `at`. */
export function attributeError(
  b: Buffer,
  at: number,
  origin: number,
  why: string,
  options?: ErrorOptions,
): AttributeError {
  const type = typeAt(b, at)
  return new AttributeError(
    `attribute ${type} at offset ${at - origin}: ${why}`,
    at - origin,
    type,
    options,
  )
}

function sizeError(
  b: Buffer,
  at: number,
  end: number,
  origin: number,
  size: number,
  name: string,
): AttributeError {
  const got = end - at - NLA_HDRLEN
  return attributeError(
    b,
    at,
    origin,
    `${name} needs ${size} bytes, got ${got}`,
  )
}

/**
 * AttributeCursor walks the attributes of `buf` from `start` to `stop`
 * with the functions above: `next()` moves to each in turn and `at` and
 * `end` describe the one it moved to. It only reads `buf`, which must
 * not change while it is in use. One cursor serves one walk.
 */
export class AttributeCursor {
  /** The Buffer the attributes lie in. */
  readonly buf: Buffer
  /** Where error offsets count from. */
  readonly origin: number
  /** Offset of the current attribute's header. */
  at = 0
  /** Offset just past the current attribute's value. */
  end = 0
  #next: number
  readonly #stop: number

  /**
   * A cursor over `buf` from `start` to `stop`; errors give offsets from
   * `origin`, which is `start` unless this run is nested in another.
   */
  constructor(buf: Buffer, start: number, stop: number, origin = start) {
    this.buf = buf
    this.origin = origin
    this.#next = start
    this.#stop = stop
  }

  /**
   * Moves to the next attribute; false at the end of the run. Throws an
   * AttributeError where `valueEnd` does.
   */
  next(): boolean {
    const at = this.#next
    if (at >= this.#stop) return false

    this.at = at
    this.end = valueEnd(this.buf, at, this.#stop, this.origin)
    this.#next = nextAt(at, this.end, this.#stop)
    return true
  }

  /** The current attribute's type, flags masked off. */
  get type(): number {
    return typeAt(this.buf, this.at)
  }

  /** The current attribute's whole `nla_type`, flags included. */
  get rawType(): number {
    return readU16(this.buf, this.at + 2)
  }

  /** Offset of the current value. */
  get start(): number {
    return this.at + NLA_HDRLEN
  }

  /** Reads the current value as UTF-8, to its first NUL. */
  string(): string {
    return stringAt(this.buf, this.at, this.end)
  }
}
