import { endianness } from 'node:os'

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
 * `m` is not changed), then the payload, then zero padding to 4 bytes.
 * Throws a TypeError or RangeError naming the bad field.
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

  const out = Buffer.alloc(align(length))
  if (HOST_BIG_ENDIAN) {
    out.writeUInt32BE(length, 0)
    out.writeUInt16BE(header.type, 4)
    out.writeUInt16BE(header.flags, 6)
    out.writeUInt32BE(header.sequence, 8)
    out.writeUInt32BE(header.pid, 12)
  } else {
    out.writeUInt32LE(length, 0)
    out.writeUInt16LE(header.type, 4)
    out.writeUInt16LE(header.flags, 6)
    out.writeUInt32LE(header.sequence, 8)
    out.writeUInt32LE(header.pid, 12)
  }
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
