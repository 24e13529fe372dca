/**
 * Replies a fake Conn's handler returns: plain messages, errors and
 * acknowledgements, and multipart replies spread over several batches.
 * Each is a description; the fake turns it into bytes when it answers a
 * request, filling in what depends on the request.
 */
import { constants } from 'node:os'

import { HeaderFlags, HeaderType } from '../constants'
import type { MessageInit } from '../message'
import * as check from '../validate'
import { donePayload, type ExtAckInit } from './ack'

const ERRNO: Record<string, number | undefined> = constants.errno

/** Largest errno Linux uses (`MAX_ERRNO`). */
const MAX_ERRNO = 4095

/**
 * An NLMSG_ERROR to send in answer to a request: an error, or with errno
 * 0 an acknowledgement. Build one with `errorReply` or `ack`. The fake
 * echoes the request into it as the kernel does: whole for an error,
 * only its header (`NLM_F_CAPPED`) for an acknowledgement or when the
 * Conn turned `ConnOption.CapAcknowledge` on. The extended
 * acknowledgement goes out with `NLM_F_ACK_TLVS` while
 * `ConnOption.ExtendedAcknowledge` is on, as it is from the start.
 */
export class ErrorReply {
  /** The positive errno; 0 for an acknowledgement. */
  readonly errno: number
  /** The extended acknowledgement's fields. */
  readonly extAck: Readonly<ExtAckInit>

  constructor(errno: number, extAck: ExtAckInit = {}) {
    this.errno = check.integer('errno', errno, 0, MAX_ERRNO)
    this.extAck = { ...extAck }
  }
}

/**
 * A reply spread over several batches, delivered one batch at a time in
 * order, each a datagram of its own, so that a Conn must put it together
 * as it would a long dump. `multipart` builds one; any split is allowed.
 */
export class ReplyBatches {
  /** The messages of each batch. */
  readonly batches: ReadonlyArray<readonly ReplyMessage[]>

  constructor(batches: ReplyMessage[][]) {
    if (!Array.isArray(batches) || batches.length === 0) {
      throw check.typeError('batches must be a non-empty array of arrays')
    }
    batches.forEach((batch, i) => {
      if (!Array.isArray(batch) || batch.length === 0) {
        throw check.typeError(`batches[${i}] must be a non-empty array`)
      }
    })
    this.batches = batches.map((batch) => [...batch])
  }
}

/** One message of a reply: a message to send, or an error to make. */
export type ReplyMessage = MessageInit | ErrorReply

/**
 * What a handler answers a request with: one message, several in one
 * datagram, several batches, or `null` for no reply at all.
 */
export type Reply = ReplyMessage | ReplyMessage[] | ReplyBatches | null

/** The extended acknowledgement `errorReply` adds to the error. */
export type ErrorReplyOptions = ExtAckInit

/** How `multipart` splits a reply. */
export interface MultipartOptions {
  /**
   * How many batches the parts and the DONE are spread over, from 1 to
   * one more than the parts (the DONE then comes alone). Default 2 when
   * there are two parts or more, else 1.
   */
  batches?: number
}

/**
 * A multipart reply, as the kernel sends a dump: each of `messages` with
 * `NLM_F_MULTI` added to its flags, then an NLMSG_DONE, spread over
 * `options.batches` batches as evenly as can be, the first batches the
 * shorter. The Conn's `execute` resolves with `messages` at the DONE.
 */
export function multipart(
  messages: MessageInit[],
  options: MultipartOptions = {},
): ReplyBatches {
  if (!Array.isArray(messages)) {
    throw check.typeError(
      `messages must be an array, got ${check.describe(messages)}`,
    )
  }
  const given = check.optionalObject('options', options)
  check.knownKeys('options', given, ['batches'])
  const count = check.optionalInteger(
    'options.batches',
    given.batches,
    1,
    messages.length + 1,
    messages.length >= 2 ? 2 : 1,
  )

  const parts = messages.map((m, i) => withMulti(`messages[${i}]`, m))
  return new ReplyBatches(split([...parts, done()], count))
}

/**
 * An error reply: `errno` is a positive number or its name (`'ENODEV'`).
 * The options become the extended acknowledgement, so `execute` rejects
 * with a `NetlinkError` whose `extAck` holds them.
 */
export function errorReply(
  errno: number | string,
  options: ErrorReplyOptions = {},
): ErrorReply {
  const value = errnoValue('errno', errno)
  if (value === 0) throw check.rangeError('errno must not be 0; use ack()')

  const given = check.optionalObject('options', options)
  check.knownKeys('options', given, [
    'message',
    'offset',
    'cookie',
    'missingType',
    'missingNest',
  ])
  if (given.message !== undefined && typeof given.message !== 'string') {
    throw check.typeError(
      `options.message must be a string, got ${check.describe(given.message)}`,
    )
  }
  if (given.cookie !== undefined) check.bytes('options.cookie', given.cookie)
  for (const key of ['offset', 'missingType', 'missingNest']) {
    check.optionalInteger(`options.${key}`, given[key], 0, 0xffffffff, 0)
  }
  return new ErrorReply(value, given as ExtAckInit)
}

/** An acknowledgement: an NLMSG_ERROR with errno 0. */
export function ack(): ErrorReply {
  return new ErrorReply(0)
}

/**
 * An NLMSG_DONE with `NLM_F_MULTI`, ending a multipart reply; with an
 * errno (a number or its name), a dump that failed part way.
 */
export function done(errno: number | string = 0): MessageInit {
  const value = errnoValue('errno', errno)
  return {
    header: { type: HeaderType.Done, flags: HeaderFlags.Multi },
    data: donePayload(value),
  }
}

/** An errno given as a number or a name, as a number from 0. */
function errnoValue(name: string, errno: unknown): number {
  if (typeof errno !== 'string') {
    return check.integer(name, errno, 0, MAX_ERRNO)
  }
  const value = ERRNO[errno]
  if (value === undefined) {
    throw check.rangeError(`${name} ${JSON.stringify(errno)} is no errno`)
  }
  return value
}

function withMulti(name: string, m: MessageInit): MessageInit {
  const init = check.optionalObject(name, m)
  check.knownKeys(name, init, ['header', 'data'])
  const header = check.optionalObject(`${name}.header`, init.header)
  const flags = check.optionalInteger(
    `${name}.header.flags`,
    header.flags,
    0,
    0xffff,
    0,
  )
  return { ...m, header: { ...header, flags: flags | HeaderFlags.Multi } }
}

/** Cuts `items` into `count` runs as even as can be, shorter runs first. */
function split<T>(items: T[], count: number): T[][] {
  const base = Math.floor(items.length / count)
  const longer = items.length % count
  const runs: T[][] = []

  let at = 0
  for (let i = 0; i < count; i++) {
    const size = base + (i >= count - longer ? 1 : 0)
    runs.push(items.slice(at, at + size))
    at += size
  }
  return runs
}
