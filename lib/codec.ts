import { endianness } from 'node:os'

import { writeU16, writeU32 } from './host-order'
import { HEADER_LENGTH, align } from './message'
import type { Header, Message } from './message'
import { rangeError, typeError } from './validate'

const HOST_BIG_ENDIAN = endianness() === 'BE'

/** Largest value of `nlmsg_len`, a u32. */
const MAX_LENGTH = 0xffff_ffff

/**
 * MessageError reports a batch whose message lengths cannot be trusted: a
 * length under the header size, one that runs past the end, or 1 to 15
 * stray bytes after the last message. `offset` is where the bad message
 * starts in the batch; `messages` holds the messages parsed before it,
 * whose `data` are views into the batch.
 */
export class MessageError extends Error {
  override readonly name = 'MessageError'
  readonly code = 'ERR_NETLINK_MESSAGE'
  readonly offset: number
  readonly messages: Message[]

  constructor(message: string, offset: number, messages: Message[]) {
    super(message)
    this.offset = offset
    this.messages = messages
  }
}

/**
 * What `marshalMessage` takes: a `Message`, or a header and optional
 * payload. `header.length` may be left out; it is always recomputed.
 */
export interface MessageLike {
  header: Omit<Header, 'length'> & { length?: number }
  data?: Uint8Array
}

/** Throws unless `header[field]` is an integer from 0 to `max`. */
function checkField(
  header: MessageLike['header'],
  field: 'type' | 'flags' | 'sequence' | 'pid',
  max: number,
): void {
  const v = header[field]
  if (typeof v !== 'number') {
    throw typeError(`header.${field} must be a number`)
  }
  if (!Number.isInteger(v) || v < 0 || v > max) {
    throw rangeError(`header.${field} out of range: ${v}`)
  }
}

/**
 * Encodes one message into a new Buffer: the header with `nlmsg_len` set to
 * 16 plus the payload length (the given `header.length` is ignored, and
 * `m` is not changed), then the payload, then zero padding to 4 bytes. A
 * small Buffer is carved from Node.js's shared pool, as
 * `Buffer.allocUnsafe` does. Throws a TypeError or RangeError naming the
 * bad field.
 */
export function marshalMessage(m: Message | MessageLike): Buffer {
  if (m === null || typeof m !== 'object') {
    throw typeError('message must be an object')
  }
  const { header, data } = m
  if (header === null || typeof header !== 'object') {
    throw typeError('header must be an object')
  }
  checkField(header, 'type', 0xffff)
  checkField(header, 'flags', 0xffff)
  checkField(header, 'sequence', MAX_LENGTH)
  checkField(header, 'pid', MAX_LENGTH)

  if (data !== undefined && !(data instanceof Uint8Array)) {
    throw typeError('data must be a Uint8Array')
  }
  const length = HEADER_LENGTH + (data?.length ?? 0)
  if (length > MAX_LENGTH) {
    throw rangeError(`data too long for a message: ${data?.length} bytes`)
  }

  return encodeMessage(header, data)
}

/**
 * `marshalMessage` without its checks, for messages whose every field was
 * checked already: the header's type and flags are 16-bit integers, its
 * sequence and pid 32-bit ones, and the message fits in `nlmsg_len`.
 */
export function encodeMessage(
  header: MessageLike['header'],
  data: Uint8Array | undefined,
): Buffer {
  // Small Buffers come from Node.js's shared pool: a request then costs
  // no backing store of its own. Only the padding needs zeroing.
  const length = HEADER_LENGTH + (data === undefined ? 0 : data.length)
  const size = align(length)
  const out = Buffer.allocUnsafe(size)
  if (size > length) out.fill(0, length, size)
  writeU32(out, length, 0)
  writeU16(out, header.type, 4)
  writeU16(out, header.flags, 6)
  writeU32(out, header.sequence, 8)
  writeU32(out, header.pid, 12)
  if (data !== undefined) out.set(data, HEADER_LENGTH)
  return out
}

function readHeader(buf: Buffer, at: number): Header {
  if (HOST_BIG_ENDIAN) {
    return {
      length: buf.readUInt32BE(at),
      type: buf.readUInt16BE(at + 4),
      flags: buf.readUInt16BE(at + 6),
      sequence: buf.readUInt32BE(at + 8),
      pid: buf.readUInt32BE(at + 12),
    }
  }
  return {
    length: buf.readUInt32LE(at),
    type: buf.readUInt16LE(at + 4),
    flags: buf.readUInt16LE(at + 6),
    sequence: buf.readUInt32LE(at + 8),
    pid: buf.readUInt32LE(at + 12),
  }
}

/**
 * Splits a datagram into its messages, each aligned to 4 bytes. The last
 * message may lack its padding. Each message's `data` is a view into
 * `buf`, so `buf` must not be reused while they are in use.
 *
 * Throws a MessageError when a length cannot be trusted (under 16, past the
 * end, or followed by 1 to 15 stray bytes); the messages before the fault
 * are on the error as `messages`.
 */
export function parseMessages(buf: Uint8Array): Message[] {
  if (!(buf instanceof Uint8Array)) {
    throw typeError('buf must be a Buffer or Uint8Array')
  }
  const b = Buffer.isBuffer(buf)
    ? buf
    : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength)

  const messages: Message[] = []
  let at = 0
  while (at < b.length) {
    const left = b.length - at
    if (left < HEADER_LENGTH) {
      throw new MessageError(
        `message at offset ${at}: ${left} stray bytes,` +
          ` too few for a header`,
        at,
        messages,
      )
    }

    const header = readHeader(b, at)
    if (header.length < HEADER_LENGTH) {
      throw new MessageError(
        `message at offset ${at}: length` +
          ` ${header.length} is under ${HEADER_LENGTH}`,
        at,
        messages,
      )
    }
    if (header.length > left) {
      throw new MessageError(
        `message at offset ${at}: length` +
          ` ${header.length} runs past the end (${left} bytes left)`,
        at,
        messages,
      )
    }

    const data = b.subarray(at + HEADER_LENGTH, at + header.length)
    messages.push({ header, data })
    at += align(header.length)
  }
  return messages
}
