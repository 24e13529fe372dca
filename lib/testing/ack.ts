/**
 * The payloads of NLMSG_ERROR and NLMSG_DONE, both ways: writing them as
 * the kernel's `netlink_ack` does, and reading them back as the binding's
 * parser does (`crates/netlink-core/src/ack.rs`), so that what a fake
 * Conn receives went through the same bytes a real one would.
 */
import { endianness } from 'node:os'

import type { ExtAckJs } from '../../binding'
import { AttributeDecoder, AttributeEncoder } from '../attribute'
import { marshalMessage } from '../codec'
import { HeaderFlags } from '../constants'
import { HEADER_LENGTH, align, type Message } from '../message'

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

/** What an NLMSG_ERROR or NLMSG_DONE says: a positive errno and TLVs. */
export interface Outcome {
  errno: number
  extAck?: ExtAckJs
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

/**
 * Reads an NLMSG_ERROR payload as the binding does, or returns undefined
 * when it cannot hold the errno and the echoed header (the binding then
 * reports the message malformed). TLVs after an echo whose length cannot
 * be trusted are ignored, and a malformed TLV ends the reading quietly.
 */
export function readError(
  flags: number,
  payload: Buffer,
): Outcome | undefined {
  if (payload.length < ERRNO_LENGTH + HEADER_LENGTH) return undefined
  const errno = Math.abs(readI32(payload, 0))
  if ((flags & HeaderFlags.AcknowledgeTLVs) === 0) return { errno }

  let start = ERRNO_LENGTH + HEADER_LENGTH
  if ((flags & HeaderFlags.Capped) === 0) {
    const echoed = readU32(payload, ERRNO_LENGTH)
    const end = ERRNO_LENGTH + echoed
    if (echoed < HEADER_LENGTH || end > payload.length) return { errno }
    start = align(end)
  }
  return withExtAck(errno, payload.subarray(start))
}

/**
 * Reads an NLMSG_DONE payload as the binding does: under 4 bytes means
 * errno 0; TLVs, when flagged, follow the errno directly.
 */
export function readDone(flags: number, payload: Buffer): Outcome {
  if (payload.length < ERRNO_LENGTH) return { errno: 0 }
  const errno = Math.abs(readI32(payload, 0))
  if ((flags & HeaderFlags.AcknowledgeTLVs) === 0) return { errno }
  return withExtAck(errno, payload.subarray(ERRNO_LENGTH))
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

function withExtAck(errno: number, tlvs: Buffer): Outcome {
  const extAck = decodeExtAck(tlvs)
  return Object.keys(extAck).length === 0 ? { errno } : { errno, extAck }
}

/**
 * Decodes the attributes the fake can send. An integer of the wrong size
 * is skipped, as the binding skips it; `NLMSGERR_ATTR_POLICY`, which the
 * fake never sends, is skipped too.
 */
function decodeExtAck(tlvs: Buffer): ExtAckJs {
  const extAck: ExtAckJs = {}
  const d = new AttributeDecoder(tlvs)
  const u32 = (key: 'offset' | 'missingType' | 'missingNest') => {
    if (d.length === 4) extAck[key] = d.uint32()
  }

  while (d.next()) {
    switch (d.type) {
      case NLMSGERR_ATTR_MSG:
        extAck.message = d.string()
        break
      case NLMSGERR_ATTR_OFFS:
        u32('offset')
        break
      case NLMSGERR_ATTR_COOKIE:
        extAck.cookie = Buffer.from(d.bytes())
        break
      case NLMSGERR_ATTR_MISS_TYPE:
        u32('missingType')
        break
      case NLMSGERR_ATTR_MISS_NEST:
        u32('missingNest')
        break
    }
  }
  return extAck
}

function readI32(buf: Buffer, at: number): number {
  return HOST_BIG_ENDIAN ? buf.readInt32BE(at) : buf.readInt32LE(at)
}

function readU32(buf: Buffer, at: number): number {
  return HOST_BIG_ENDIAN ? buf.readUInt32BE(at) : buf.readUInt32LE(at)
}
