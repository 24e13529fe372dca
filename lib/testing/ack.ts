/**
 * The payloads of NLMSG_ERROR and NLMSG_DONE, written as the kernel's
 * `netlink_ack` writes them; the binding's parser reads them back.
 */
import { endianness } from 'node:os'

import { AttributeEncoder } from '../attribute'
import { marshalMessage } from '../codec'
import { HeaderFlags } from '../constants'
import { HEADER_LENGTH, type Message } from '../message'

const HOST_BIG_ENDIAN = endianness() === 'BE'

// Extended acknowledgement attributes (`enum nlmsgerr_attrs`).
const NLMSGERR_ATTR_MSG = 1
const NLMSGERR_ATTR_OFFS = 2
const NLMSGERR_ATTR_COOKIE = 3
const NLMSGERR_ATTR_MISS_TYPE = 5
const NLMSGERR_ATTR_MISS_NEST = 6

/** The errno that opens both payloads (`int error`). */
const ERRNO_LENGTH = 4

/**
 * What the fake can put in an extended acknowledgement; each field is
 * sent only when present.
 */
export interface ExtAckInit {
  /** A sentence for the caller (`NLMSGERR_ATTR_MSG`). */
  message?: string
  /** Byte offset of the fault in the request, header included. */
  offset?: number
  /** Opaque bytes for the caller (`NLMSGERR_ATTR_COOKIE`). */
  cookie?: Uint8Array
  /** The type of a required attribute that was missing. */
  missingType?: number
  /** Offset of the nest the missing attribute belongs in. */
  missingNest?: number
}

/** How `errorPayload` echoes the request and whether it adds TLVs. */
export interface ErrorPayloadOptions {
  /** Echo only the request's header, with `NLM_F_CAPPED`. */
  capped: boolean
  /** Append the extended acknowledgement (`NETLINK_EXT_ACK` is on). */
  tlvs: boolean
}

/**
 * The payload of an NLMSG_ERROR answering `request`, and the flags its
 * header needs: the errno negated, the request echoed (whole, or its
 * header only when `capped`), then the extended acknowledgement when
 * `tlvs` is set and it has a field. Throws a TypeError or RangeError for
 * a field out of range.
 */
export function errorPayload(
  request: Message,
  errno: number,
  extAck: ExtAckInit,
  options: ErrorPayloadOptions,
): { flags: number; data: Buffer } {
  const head = Buffer.alloc(ERRNO_LENGTH)
  if (HOST_BIG_ENDIAN) head.writeInt32BE(-errno)
  else head.writeInt32LE(-errno)

  // The echo keeps the request's own length field even when capped, as
  // the kernel copies the header unchanged.
  const whole = marshalMessage(request)
  const echo = options.capped ? whole.subarray(0, HEADER_LENGTH) : whole
  let flags = options.capped ? HeaderFlags.Capped : 0

  const tlvs = options.tlvs ? encodeExtAck(extAck) : Buffer.alloc(0)
  if (tlvs.length > 0) flags |= HeaderFlags.AcknowledgeTLVs
  return { flags, data: Buffer.concat([head, echo, tlvs]) }
}

/** The payload of an NLMSG_DONE: the errno negated, nothing after it. */
export function donePayload(errno: number): Buffer {
  const data = Buffer.alloc(ERRNO_LENGTH)
  if (HOST_BIG_ENDIAN) data.writeInt32BE(-errno)
  else data.writeInt32LE(-errno)
  return data
}

function encodeExtAck(extAck: ExtAckInit): Buffer {
  const e = new AttributeEncoder()
  if (extAck.message !== undefined) {
    e.string(NLMSGERR_ATTR_MSG, extAck.message)
  }
  if (extAck.offset !== undefined) {
    e.uint32(NLMSGERR_ATTR_OFFS, extAck.offset)
  }
  if (extAck.cookie !== undefined) {
    e.bytes(NLMSGERR_ATTR_COOKIE, extAck.cookie)
  }
  if (extAck.missingType !== undefined) {
    e.uint32(NLMSGERR_ATTR_MISS_TYPE, extAck.missingType)
  }
  if (extAck.missingNest !== undefined) {
    e.uint32(NLMSGERR_ATTR_MISS_NEST, extAck.missingNest)
  }
  return e.encode()
}
