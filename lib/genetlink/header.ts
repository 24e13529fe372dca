import type { Message } from '../message'
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
 * front of `data`, in a new Buffer. The caller checks the ranges.
 */
export function encodeGeneric(
  command: number,
  version: number,
  data: Uint8Array,
): Buffer {
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
  const { header, data } = message
  if (data.length < GENL_HDRLEN) {
    throw new GenericError(
      `message type ${header.type} seq=${header.sequence}: payload of` +
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
