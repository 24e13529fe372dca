import type { Message } from '../message'
import * as check from '../validate'
import { GENL_HDRLEN } from './constants'
import { GenericError } from './errors'

/**
 * A generic netlink message: its netlink header, the generic header's
 * command and version (`struct genlmsghdr`), and what follows them. For
 * most families `data` is a run of attributes for `AttributeDecoder`; a
 * family with a header of its own (`headerSize` above 0) puts it first.
 * `data` is a view into the batch the message arrived in.
 */
export interface GenericMessage {
  header: Message['header']
  /** The command (`genlmsghdr.cmd`). */
  command: number
  /** The family's protocol version (`genlmsghdr.version`). */
  version: number
  /** The payload after the 4-byte generic header. */
  data: Buffer
}

/**
 * Puts the 4-byte generic header (command, version, two zero bytes) in
 * front of `data`, in a new Buffer.
 */
export function encodeGeneric(
  command: number,
  version: number,
  data: Uint8Array = Buffer.alloc(0),
): Buffer {
  check.integer('command', command, 0, 255)
  check.integer('version', version, 0, 255)
  check.bytes('data', data)

  const out = Buffer.alloc(GENL_HDRLEN + data.length)
  out[0] = command
  out[1] = version
  out.set(data, GENL_HDRLEN)
  return out
}

/**
 * Reads the generic header of a netlink message. Throws a `GenericError`
 * when the payload is shorter than the header. `data` of the result is a
 * view into `message.data`.
 */
export function decodeGeneric(message: Message): GenericMessage {
  if (message === null || typeof message !== 'object') {
    const got = check.describe(message)
    throw check.typeError(`message must be a Message, got ${got}`)
  }
  check.optionalObject('message.header', message.header)
  const bytes = check.bytes('message.data', message.data)
  const data = Buffer.isBuffer(bytes)
    ? bytes
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length)

  const { header } = message
  if (data.length < GENL_HDRLEN) {
    throw new GenericError(
      `message type ${header?.type} seq=${header?.sequence}: payload of` +
        ` ${data.length} bytes is too short for the generic header`,
    )
  }
  return {
    header,
    command: data[0]!,
    version: data[1]!,
    data: data.subarray(GENL_HDRLEN),
  }
}
