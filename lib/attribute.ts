import { endianness } from 'node:os'
import * as check from './validate'
import { rangeError, typeError } from './validate'

/**
 * `NLA_F_NESTED`: the attribute type bit that marks a value made of nested
 * attributes.
 */
export const NLA_F_NESTED = 0x8000

/**
 * `NLA_F_NET_BYTEORDER`: the attribute type bit that marks an integer value
 * stored big-endian (network byte order).
 */
export const NLA_F_NET_BYTEORDER = 0x4000

/** `NLA_TYPE_MASK`: the bits of an attribute type left after its flags. */
export const NLA_TYPE_MASK = 0x3fff

/** Size of `nlattr`, the length and type in front of every value. */
const HEADER = 4

/** Longest value an attribute can carry: `nla_len` is a u16. */
const MAX_VALUE = 0xffff - HEADER

const HOST_BIG_ENDIAN = endianness() === 'BE'

const U64_MAX = 0xffff_ffff_ffff_ffffn
const I64_MIN = -0x8000_0000_0000_0000n
const I64_MAX = 0x7fff_ffff_ffff_ffffn

/**
 * The byte order of integer values: `'host'` (the machine's, which the
 * kernel uses for most families) or `'network'` (big-endian, as netfilter
 * uses).
 */
export type ByteOrder = 'host' | 'network'

/** Options of `AttributeEncoder` and `AttributeDecoder`. */
export interface AttributeOptions {
  /** Byte order of integer values; `'host'` when left out. */
  byteOrder?: ByteOrder
}

/**
 * A netlink attribute as raw bytes. `type` is the whole `nla_type`, so it
 * may carry `NLA_F_NESTED` and `NLA_F_NET_BYTEORDER`.
 */
export interface Attribute {
  type: number
  data: Uint8Array
}

/**
 * One attribute seen while iterating an `AttributeDecoder`: its type
 * without flags, the flag bits, and its value as a view into the decoded
 * buffer.
 */
export interface AttributeEntry {
  type: number
  typeFlags: number
  data: Buffer
}

/**
 * AttributeError reports malformed attributes: a length that is under the
 * header size or runs past the end, or a value whose size does not fit the
 * way it was read. `offset` is where the attribute starts, counted from the
 * start of the outermost buffer being decoded; `type` is set once the
 * header could be read.
 */
export class AttributeError extends Error {
  override readonly name = 'AttributeError'
  readonly code = 'ERR_NETLINK_ATTRIBUTE'
  readonly offset: number
  readonly type?: number

  constructor(
    message: string,
    offset: number,
    type?: number,
    options?: ErrorOptions,
  ) {
    super(message, options)
    this.offset = offset
    if (type !== undefined) this.type = type
  }
}

function readByteOrder(options: AttributeOptions | undefined): ByteOrder {
  if (options === undefined) return 'host'
  check.optionalObject('options', options)

  const order = options.byteOrder ?? 'host'
  if (order !== 'host' && order !== 'network') {
    throw typeError("options.byteOrder must be 'host' or 'network'")
  }
  return order
}

/** Views any `Uint8Array` as a Buffer over the same memory. */
function asBuffer(b: Uint8Array): Buffer {
  if (Buffer.isBuffer(b)) return b
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength)
}

function pad4(n: number): number {
  return (n + 3) & ~3
}

function writeHeader(buf: Buffer, at: number, len: number, type: number) {
  if (HOST_BIG_ENDIAN) {
    buf.writeUInt16BE(len, at)
    buf.writeUInt16BE(type, at + 2)
  } else {
    buf.writeUInt16LE(len, at)
    buf.writeUInt16LE(type, at + 2)
  }
}

function readU16(buf: Buffer, at: number): number {
  return HOST_BIG_ENDIAN ? buf.readUInt16BE(at) : buf.readUInt16LE(at)
}

/**
 * AttributeEncoder builds a run of netlink attributes, each a `nlattr`
 * header and a value padded to 4 bytes. Every method returns the encoder
 * for chaining.
 *
 * Errors do not throw where they happen: the first one (a bad type, a
 * value out of range for its width, a value over 65,531 bytes, or an
 * exception from a callback) is kept, later calls do nothing, and
 * `encode()` throws it. Integer writers put the value in the encoder's
 * byte order; in `'network'` order they also set `NLA_F_NET_BYTEORDER` on
 * the attribute type. The encoder copies what it is given, so callers may
 * reuse their buffers at once, and it stays usable after `encode()`.
 */
export class AttributeEncoder {
  readonly #order: ByteOrder
  readonly #bigEndian: boolean
  readonly #intFlags: number
  #buf = Buffer.alloc(0)
  #len = 0
  #err: unknown = null
  #failed = false

  constructor(options?: AttributeOptions) {
    this.#order = readByteOrder(options)
    this.#bigEndian = this.#order === 'network' || HOST_BIG_ENDIAN
    this.#intFlags = this.#order === 'network' ? NLA_F_NET_BYTEORDER : 0
  }

  /** Number of bytes encoded so far, padding included. */
  get length(): number {
    return this.#len
  }

  /** Writes an 8-bit unsigned integer (`NLA_U8`). */
  uint8(type: number, v: number): this {
    return this.#small(type, v, 1, 0, 0xff, 'uint8')
  }

  /** Writes a 16-bit unsigned integer (`NLA_U16`). */
  uint16(type: number, v: number): this {
    return this.#small(type, v, 2, 0, 0xffff, 'uint16')
  }

  /** Writes a 32-bit unsigned integer (`NLA_U32`). */
  uint32(type: number, v: number): this {
    return this.#small(type, v, 4, 0, 0xffff_ffff, 'uint32')
  }

  /**
   * Writes a 64-bit unsigned integer (`NLA_U64`) given as a bigint or a
   * safe integer.
   */
  uint64(type: number, v: bigint | number): this {
    const n = this.#wide(type, v, 0n, U64_MAX, 'uint64')
    if (n === undefined) return this

    const at = this.#reserve(type | this.#intFlags, 8)
    if (this.#bigEndian) this.#buf.writeBigUInt64BE(n, at)
    else this.#buf.writeBigUInt64LE(n, at)
    return this
  }

  /** Writes an 8-bit signed integer (`NLA_S8`). */
  int8(type: number, v: number): this {
    return this.#small(type, v, 1, -0x80, 0x7f, 'int8')
  }

  /** Writes a 16-bit signed integer (`NLA_S16`). */
  int16(type: number, v: number): this {
    return this.#small(type, v, 2, -0x8000, 0x7fff, 'int16')
  }

  /** Writes a 32-bit signed integer (`NLA_S32`). */
  int32(type: number, v: number): this {
    return this.#small(type, v, 4, -0x8000_0000, 0x7fff_ffff, 'int32')
  }

  /**
   * Writes a 64-bit signed integer (`NLA_S64`) given as a bigint or a safe
   * integer.
   */
  int64(type: number, v: bigint | number): this {
    const n = this.#wide(type, v, I64_MIN, I64_MAX, 'int64')
    if (n === undefined) return this

    const at = this.#reserve(type | this.#intFlags, 8)
    if (this.#bigEndian) this.#buf.writeBigInt64BE(n, at)
    else this.#buf.writeBigInt64LE(n, at)
    return this
  }

  /**
   * Writes an unsigned integer of variable size (`NLA_UINT`, Linux 6.8):
   * 4 bytes when the value fits in 32 bits, 8 otherwise, as the kernel's
   * `nla_put_uint` does.
   */
  uint(type: number, v: bigint | number): this {
    const n = this.#wide(type, v, 0n, U64_MAX, 'uint')
    if (n === undefined) return this

    if (n <= 0xffff_ffffn) return this.#put(type, Number(n), 4, false)
    const at = this.#reserve(type | this.#intFlags, 8)
    if (this.#bigEndian) this.#buf.writeBigUInt64BE(n, at)
    else this.#buf.writeBigUInt64LE(n, at)
    return this
  }

  /**
   * Writes a signed integer of variable size (`NLA_SINT`, Linux 6.8):
   * 4 bytes when the value fits in 32 bits, 8 otherwise, as the kernel's
   * `nla_put_sint` does.
   */
  sint(type: number, v: bigint | number): this {
    const n = this.#wide(type, v, I64_MIN, I64_MAX, 'sint')
    if (n === undefined) return this

    if (n >= -0x8000_0000n && n <= 0x7fff_ffffn) {
      return this.#put(type, Number(n), 4, true)
    }
    const at = this.#reserve(type | this.#intFlags, 8)
    if (this.#bigEndian) this.#buf.writeBigInt64BE(n, at)
    else this.#buf.writeBigInt64LE(n, at)
    return this
  }

  /** Writes a string as UTF-8 ended by a NUL byte (`NLA_NUL_STRING`). */
  string(type: number, s: string): this {
    if (!this.#checkType(type)) return this
    if (typeof s !== 'string') {
      return this.#fail(typeError(`attribute ${type}: value must be a string`))
    }

    const size = Buffer.byteLength(s, 'utf8')
    const at = this.#reserve(type, size + 1)
    if (at >= 0) {
      this.#buf.write(s, at, size, 'utf8')
      this.#buf[at + size] = 0
    }
    return this
  }

  /** Writes a copy of `data` as the value (`NLA_BINARY`). */
  bytes(type: number, data: Uint8Array): this {
    if (!this.#checkType(type)) return this
    if (!(data instanceof Uint8Array)) {
      const msg = `attribute ${type}: value must be a Uint8Array`
      return this.#fail(typeError(msg))
    }

    const at = this.#reserve(type, data.length)
    if (at >= 0) this.#buf.set(data, at)
    return this
  }

  /**
   * Writes a flag (`NLA_FLAG`): an attribute without a value, present only
   * when `on` is true.
   */
  flag(type: number, on: boolean): this {
    if (!this.#checkType(type)) return this
    if (typeof on !== 'boolean') {
      return this.#fail(typeError(`attribute ${type}: on must be a boolean`))
    }

    if (on) this.#reserve(type, 0)
    return this
  }

  /**
   * Writes the attributes `fn` encodes as one nested attribute, with
   * `NLA_F_NESTED` set. The child encoder has this encoder's byte order and
   * is valid only while `fn` runs; its first error, or an exception `fn`
   * throws, becomes this encoder's error.
   */
  nested(type: number, fn: (e: AttributeEncoder) => void): this {
    if (!this.#checkType(type)) return this
    if (typeof fn !== 'function') {
      return this.#fail(typeError(`attribute ${type}: fn must be a function`))
    }

    const child = new AttributeEncoder({ byteOrder: this.#order })
    try {
      fn(child)
    } catch (err) {
      return this.#fail(err)
    }
    if (child.#failed) return this.#fail(child.#err)

    const at = this.#reserve(type | NLA_F_NESTED, child.#len)
    if (at >= 0) child.#buf.copy(this.#buf, at, 0, child.#len)
    return this
  }

  /**
   * Writes the bytes `fn` returns as the value, for types this encoder has
   * no method for. An exception `fn` throws becomes the encoder's error.
   */
  do(type: number, fn: () => Uint8Array): this {
    if (!this.#checkType(type)) return this
    if (typeof fn !== 'function') {
      return this.#fail(typeError(`attribute ${type}: fn must be a function`))
    }

    let data: Uint8Array
    try {
      data = fn()
    } catch (err) {
      return this.#fail(err)
    }
    return this.bytes(type, data)
  }

  /**
   * Returns the encoded attributes in a new Buffer that the caller owns,
   * or throws the first error met while encoding.
   */
  encode(): Buffer {
    if (this.#failed) throw this.#err
    return Buffer.from(this.#buf.subarray(0, this.#len))
  }

  #fail(err: unknown): this {
    this.#failed = true
    this.#err = err
    return this
  }

  /** Reports whether `type` is usable, recording the error if it is not. */
  #checkType(type: number): boolean {
    if (this.#failed) return false

    if (typeof type !== 'number') {
      this.#fail(typeError('attribute type must be a number'))
      return false
    }
    if (!Number.isInteger(type) || type < 0 || type > NLA_TYPE_MASK) {
      const msg = `attribute type must be an integer in 0..0x3fff: ${type}`
      this.#fail(rangeError(msg))
      return false
    }
    return true
  }

  #small(
    type: number,
    v: number,
    size: number,
    min: number,
    max: number,
    name: string,
  ): this {
    if (!this.#checkType(type)) return this

    if (typeof v !== 'number') {
      const msg = `attribute ${type}: ${name} value must be a number`
      return this.#fail(typeError(msg))
    }
    if (!Number.isInteger(v) || v < min || v > max) {
      const msg = `attribute ${type}: ${name} value out of range: ${v}`
      return this.#fail(rangeError(msg))
    }
    return this.#put(type, v, size, min < 0)
  }

  /** Checks a 64-bit value and returns it as a bigint, or records why not. */
  #wide(
    type: number,
    v: bigint | number,
    min: bigint,
    max: bigint,
    name: string,
  ): bigint | undefined {
    if (!this.#checkType(type)) return undefined

    let n: bigint
    if (typeof v === 'bigint') {
      n = v
    } else if (typeof v === 'number') {
      if (!Number.isSafeInteger(v)) {
        const msg =
          `attribute ${type}: ${name} value is not a safe integer` +
          ` (use a bigint): ${v}`
        this.#fail(rangeError(msg))
        return undefined
      }
      n = BigInt(v)
    } else {
      const msg = `attribute ${type}: ${name} value must be a bigint or number`
      this.#fail(typeError(msg))
      return undefined
    }

    if (n < min || n > max) {
      const msg = `attribute ${type}: ${name} value out of range: ${n}`
      this.#fail(rangeError(msg))
      return undefined
    }
    return n
  }

  /** Writes an integer of 1, 2 or 4 bytes that is known to fit. */
  #put(type: number, v: number, size: number, signed: boolean): this {
    const at = this.#reserve(type | this.#intFlags, size)
    const buf = this.#buf

    if (size === 1) {
      if (signed) buf.writeInt8(v, at)
      else buf.writeUInt8(v, at)
    } else if (this.#bigEndian) {
      if (signed) buf.writeIntBE(v, at, size)
      else buf.writeUIntBE(v, at, size)
    } else {
      if (signed) buf.writeIntLE(v, at, size)
      else buf.writeUIntLE(v, at, size)
    }
    return this
  }

  /**
   * Appends an attribute header for a value of `size` bytes, zeroes its
   * padding, and returns where the value goes; -1 when the value is too
   * long for an attribute.
   */
  #reserve(rawType: number, size: number): number {
    if (size > MAX_VALUE) {
      const msg =
        `attribute ${rawType & NLA_TYPE_MASK}: value of ${size}` +
        ` bytes is over the limit of ${MAX_VALUE}`
      this.#fail(rangeError(msg))
      return -1
    }

    // Double the buffer when it runs out, so encoding stays linear.
    const total = pad4(HEADER + size)
    if (this.#len + total > this.#buf.length) {
      const grown = Buffer.allocUnsafe(
        Math.max(this.#buf.length * 2, this.#len + total, 64),
      )
      this.#buf.copy(grown, 0, 0, this.#len)
      this.#buf = grown
    }

    const at = this.#len
    writeHeader(this.#buf, at, HEADER + size, rawType)
    this.#buf.fill(0, at + HEADER + size, at + total)
    this.#len += total
    return at + HEADER
  }
}

/**
 * AttributeDecoder walks a run of netlink attributes without copying:
 * `next()` moves to each attribute in turn, and the getters and readers
 * describe the one it moved to.
 *
 * Decoding never throws for what it reads, only for bad arguments. A
 * malformed attribute (a length under 4, one that runs past the end, or 1
 * to 3 stray bytes at the end) or a value whose size does not fit the
 * reader used stops it: `err` is set, `next()` returns false from then on,
 * and readers return zero values (`0`, `0n`, `''`, `false`, an empty
 * Buffer). Check `err` after the loop. The last
 * attribute may lack its padding. Before the first `next()` the getters
 * describe an empty attribute of type 0.
 *
 * Integers are read in the decoder's byte order, except that an attribute
 * with `NLA_F_NET_BYTEORDER` is read big-endian whatever the option says.
 * Every Buffer a decoder returns is a view into the buffer it was given;
 * copy it to keep it past that buffer's reuse.
 */
export class AttributeDecoder {
  readonly #buf: Buffer
  readonly #order: ByteOrder
  /** Offset of `#buf` in the outermost buffer, for error offsets. */
  #base = 0
  #next = 0
  #at = 0
  #rawType = 0
  #start = 0
  #end = 0
  #err: AttributeError | null = null

  /**
   * Creates a decoder over `buf`, which it reads in place and never
   * changes; `buf` must not change while the decoder is in use.
   */
  constructor(buf: Uint8Array, options?: AttributeOptions) {
    if (!(buf instanceof Uint8Array)) {
      throw typeError('buf must be a Buffer or Uint8Array')
    }
    this.#buf = asBuffer(buf)
    this.#order = readByteOrder(options)
  }

  /** The first error met while decoding, or null. */
  get err(): AttributeError | null {
    return this.#err
  }

  /** Type of the current attribute with the flag bits masked off. */
  get type(): number {
    return this.#rawType & NLA_TYPE_MASK
  }

  /**
   * Flag bits of the current attribute's type: `NLA_F_NESTED` and
   * `NLA_F_NET_BYTEORDER`.
   */
  get typeFlags(): number {
    return this.#rawType & ~NLA_TYPE_MASK & 0xffff
  }

  /** Length of the current attribute's value, header and padding left out. */
  get length(): number {
    return this.#end - this.#start
  }

  /**
   * Moves to the next attribute. Returns false at the end of the buffer or
   * once an error is set; a malformed attribute sets `err`.
   */
  next(): boolean {
    if (this.#err !== null) return false

    const buf = this.#buf
    const at = this.#next
    const left = buf.length - at
    if (left <= 0) return false
    this.#clear(at)

    if (left < HEADER) {
      this.#fail(
        `attribute at offset ${this.#base + at}: ${left} stray` +
          ` bytes, too few for a header`,
      )
      return false
    }

    const len = readU16(buf, at)
    this.#rawType = readU16(buf, at + 2)
    if (len < HEADER) {
      this.#fail(
        `attribute at offset ${this.#base + at}: length ${len}` +
          ` is under ${HEADER}`,
        this.type,
      )
      return false
    }
    if (len > left) {
      this.#fail(
        `attribute at offset ${this.#base + at}: length ${len}` +
          ` runs past the end (${left} bytes left)`,
        this.type,
      )
      return false
    }

    // The padding of the last attribute may be missing or cut short.
    this.#start = at + HEADER
    this.#end = at + len
    this.#next = Math.min(at + pad4(len), buf.length)
    return true
  }

  /** The current value as a view into the decoded buffer. */
  bytes(): Buffer {
    if (this.#err !== null) return this.#buf.subarray(0, 0)
    return this.#buf.subarray(this.#start, this.#end)
  }

  /**
   * The current value as a UTF-8 string, ending at the first NUL byte or
   * at the end of the value when it has none.
   */
  string(): string {
    const v = this.bytes()
    const nul = v.indexOf(0)
    return v.toString('utf8', 0, nul < 0 ? v.length : nul)
  }

  /** Reads an 8-bit unsigned value; the value must be 1 byte. */
  uint8(): number {
    return this.#fits(1, 'uint8') ? this.#buf[this.#start]! : 0
  }

  /** Reads a 16-bit unsigned value; the value must be 2 bytes. */
  uint16(): number {
    if (!this.#fits(2, 'uint16')) return 0
    if (this.#bigEndian()) return this.#buf.readUInt16BE(this.#start)
    return this.#buf.readUInt16LE(this.#start)
  }

  /** Reads a 32-bit unsigned value; the value must be 4 bytes. */
  uint32(): number {
    if (!this.#fits(4, 'uint32')) return 0
    if (this.#bigEndian()) return this.#buf.readUInt32BE(this.#start)
    return this.#buf.readUInt32LE(this.#start)
  }

  /** Reads a 64-bit unsigned value; the value must be 8 bytes. */
  uint64(): bigint {
    if (!this.#fits(8, 'uint64')) return 0n
    if (this.#bigEndian()) return this.#buf.readBigUInt64BE(this.#start)
    return this.#buf.readBigUInt64LE(this.#start)
  }

  /** Reads an 8-bit signed value; the value must be 1 byte. */
  int8(): number {
    return this.#fits(1, 'int8') ? this.#buf.readInt8(this.#start) : 0
  }

  /** Reads a 16-bit signed value; the value must be 2 bytes. */
  int16(): number {
    if (!this.#fits(2, 'int16')) return 0
    if (this.#bigEndian()) return this.#buf.readInt16BE(this.#start)
    return this.#buf.readInt16LE(this.#start)
  }

  /** Reads a 32-bit signed value; the value must be 4 bytes. */
  int32(): number {
    if (!this.#fits(4, 'int32')) return 0
    if (this.#bigEndian()) return this.#buf.readInt32BE(this.#start)
    return this.#buf.readInt32LE(this.#start)
  }

  /** Reads a 64-bit signed value; the value must be 8 bytes. */
  int64(): bigint {
    if (!this.#fits(8, 'int64')) return 0n
    if (this.#bigEndian()) return this.#buf.readBigInt64BE(this.#start)
    return this.#buf.readBigInt64LE(this.#start)
  }

  /**
   * Reads an unsigned value of variable size (`NLA_UINT`). The kernel
   * sends 4 or 8 bytes; 1 and 2 are accepted too, any other size is an
   * error.
   */
  uint(): bigint {
    if (!this.#variable('uint')) return 0n

    const buf = this.#buf
    const at = this.#start
    const size = this.length
    if (this.#bigEndian()) {
      if (size === 8) return buf.readBigUInt64BE(at)
      return BigInt(buf.readUIntBE(at, size))
    }
    if (size === 8) return buf.readBigUInt64LE(at)
    return BigInt(buf.readUIntLE(at, size))
  }

  /**
   * Reads a signed value of variable size (`NLA_SINT`). The kernel sends 4
   * or 8 bytes; 1 and 2 are accepted too, any other size is an error.
   */
  sint(): bigint {
    if (!this.#variable('sint')) return 0n

    const buf = this.#buf
    const at = this.#start
    const size = this.length
    if (this.#bigEndian()) {
      if (size === 8) return buf.readBigInt64BE(at)
      return BigInt(buf.readIntBE(at, size))
    }
    if (size === 8) return buf.readBigInt64LE(at)
    return BigInt(buf.readIntLE(at, size))
  }

  /**
   * Reads a flag (`NLA_FLAG`): true for an attribute without a value. A
   * flag that carries data is an error.
   */
  flag(): boolean {
    if (this.#err !== null) return false
    if (this.length === 0) return true

    this.#fail(
      `attribute ${this.type} at offset ${this.#base + this.#at}:` +
        ` flag carries ${this.length} bytes`,
      this.type,
    )
    return false
  }

  /**
   * Decodes the current value as nested attributes: `fn` gets a decoder
   * over the value with this decoder's byte order. The child's error, or
   * an exception `fn` throws (kept as `cause`), becomes this decoder's
   * error. Works whether or not `NLA_F_NESTED` is set.
   */
  nested(fn: (d: AttributeDecoder) => void): void {
    if (this.#err !== null) return
    if (typeof fn !== 'function') throw typeError('fn must be a function')

    const child = new AttributeDecoder(this.bytes(), {
      byteOrder: this.#order,
    })
    child.#base = this.#base + this.#start
    this.#call(() => fn(child))

    if (this.#err === null && child.#err !== null) this.#err = child.#err
  }

  /**
   * Hands the current value, a view, to `fn` for types this decoder has no
   * reader for. An exception `fn` throws becomes this decoder's error, kept
   * as `cause`.
   */
  do(fn: (b: Buffer) => void): void {
    if (this.#err !== null) return
    if (typeof fn !== 'function') throw typeError('fn must be a function')

    const v = this.bytes()
    this.#call(() => fn(v))
  }

  /**
   * Yields the remaining attributes, moving this decoder as `next()` does;
   * it stops at the end or at a malformed attribute, leaving `err` set.
   */
  *[Symbol.iterator](): Generator<AttributeEntry, void, undefined> {
    while (this.next()) {
      yield { type: this.type, typeFlags: this.typeFlags, data: this.bytes() }
    }
  }

  /** Forgets the previous attribute before reading the one at `at`. */
  #clear(at: number): void {
    this.#at = at
    this.#rawType = 0
    this.#start = at
    this.#end = at
  }

  #fail(message: string, type?: number, cause?: unknown): void {
    const options = cause === undefined ? undefined : { cause }
    const offset = this.#base + this.#at
    this.#err = new AttributeError(message, offset, type, options)
  }

  #bigEndian(): boolean {
    if (this.#rawType & NLA_F_NET_BYTEORDER) return true
    return this.#order === 'network' || HOST_BIG_ENDIAN
  }

  /** Reports whether the value is `size` bytes, recording why not. */
  #fits(size: number, name: string): boolean {
    if (this.#err !== null) return false
    if (this.length === size) return true

    this.#fail(
      `attribute ${this.type} at offset ${this.#base + this.#at}:` +
        ` ${name} needs ${size} bytes, got ${this.length}`,
      this.type,
    )
    return false
  }

  /** Reports whether the value has a size `NLA_UINT` and `NLA_SINT` allow. */
  #variable(name: string): boolean {
    if (this.#err !== null) return false

    const size = this.length
    if (size === 1 || size === 2 || size === 4 || size === 8) return true

    this.#fail(
      `attribute ${this.type} at offset ${this.#base + this.#at}:` +
        ` ${name} needs 1, 2, 4 or 8 bytes, got ${size}`,
      this.type,
    )
    return false
  }

  #call(fn: () => void): void {
    try {
      fn()
    } catch (cause) {
      const why = cause instanceof Error ? cause.message : String(cause)
      this.#fail(
        `attribute ${this.type} at offset ${this.#base + this.#at}:` +
          ` ${why}`,
        this.type,
        cause,
      )
    }
  }
}

/**
 * Encodes `attrs` in order, each padded to 4 bytes, into a new Buffer. The
 * types are written as given, flag bits included; no flag is added.
 */
export function marshalAttributes(attrs: readonly Attribute[]): Buffer {
  if (!Array.isArray(attrs)) throw typeError('attrs must be an array')

  // Check everything and size the output first, then write it in one go.
  let size = 0
  for (let i = 0; i < attrs.length; i++) {
    const a = attrs[i]
    if (a === null || typeof a !== 'object') {
      throw typeError(`attrs[${i}] must be an object`)
    }
    if (typeof a.type !== 'number') {
      throw typeError(`attrs[${i}].type must be a number`)
    }
    if (!Number.isInteger(a.type) || a.type < 0 || a.type > 0xffff) {
      throw rangeError(`attrs[${i}].type out of range: ${a.type}`)
    }
    if (!(a.data instanceof Uint8Array)) {
      throw typeError(`attrs[${i}].data must be a Uint8Array`)
    }
    if (a.data.length > MAX_VALUE) {
      throw rangeError(
        `attribute ${a.type & NLA_TYPE_MASK}: value of` +
          ` ${a.data.length} bytes is over the limit of ${MAX_VALUE}`,
      )
    }
    size += pad4(HEADER + a.data.length)
  }

  const out = Buffer.alloc(size)
  let at = 0
  for (const a of attrs) {
    writeHeader(out, at, HEADER + a.data.length, a.type)
    out.set(a.data, at + HEADER)
    at += pad4(HEADER + a.data.length)
  }
  return out
}

/**
 * Decodes every attribute in `buf`, whatever its type. Each `type` is the
 * raw `nla_type`, flag bits included; each `data` is a view into `buf`.
 * Throws an AttributeError for malformed input.
 */
export function unmarshalAttributes(
  buf: Uint8Array,
): Array<Attribute & { data: Buffer }> {
  const d = new AttributeDecoder(buf)
  const attrs: Array<Attribute & { data: Buffer }> = []
  for (const a of d) attrs.push({ type: a.type | a.typeFlags, data: a.data })

  if (d.err !== null) throw d.err
  return attrs
}
