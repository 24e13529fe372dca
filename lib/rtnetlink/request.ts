/**
 * The two shapes every rtnetlink collection's requests take (a dump that
 * returns every object of a kind, and a change the kernel acknowledges),
 * and the steps every decoder of their replies shares: the payload after
 * a fixed header, the attributes, and MalformedError for what does not
 * fit.
 */
import { eachReply, type Conn } from '../conn'
import { HeaderFlags } from '../constants'
import { AttributeDecoder } from '../attribute'
import type { Message } from '../message'
import { messageData } from './arguments'

/** An attribute the typed decoders do not model, kept as bytes. */
export interface RawAttribute {
  /** The attribute type, flags included. */
  type: number
  /** Its payload; a copy, safe to keep. */
  data: Buffer
}

/** Flags of a request that creates (`NLM_F_CREATE|NLM_F_EXCL`). */
export const CREATE = HeaderFlags.Create | HeaderFlags.Excl
/** Flags of a request that creates or replaces. */
export const REPLACE = HeaderFlags.Create | HeaderFlags.Replace

/**
 * Dumps the objects of a kind: `type` is the `RTM_GET*` and `body` the
 * fixed header (plus any filter attributes). Each message goes to `keep`
 * as it arrives, so decoding runs while the rest of the dump is read;
 * resolves with what `keep` returned, less the `undefined`s. Rejects with
 * the kernel's NetlinkError, or with what `keep` threw.
 */
export async function dump<T>(
  conn: Conn,
  type: number,
  body: Buffer,
  keep: (message: Message) => T | undefined,
): Promise<T[]> {
  const request = {
    header: { type, flags: HeaderFlags.Request | HeaderFlags.Dump },
    data: body,
  }
  const kept: T[] = []
  const take = (message: Message): void => {
    const value = keep(message)
    if (value !== undefined) kept.push(value)
  }

  // A Conn of this package hands messages over as they come; anything
  // else that passes for a Conn gets them all at the end.
  if (typeof conn[eachReply] === 'function') {
    await conn[eachReply](request, take)
  } else {
    for (const message of await conn.execute(request)) take(message)
  }
  return kept
}

/**
 * Requests a change and waits for the kernel's acknowledgement; rejects
 * with the kernel's error and extended acknowledgement.
 */
export async function change(
  conn: Conn,
  type: number,
  flags: number,
  body: Buffer,
): Promise<void> {
  await conn.execute({
    header: {
      type,
      flags: HeaderFlags.Request | HeaderFlags.Acknowledge | flags,
    },
    data: body,
  })
}

/** Asks for one object (`RTM_GET*` without dump); resolves with it. */
export async function getOne(
  conn: Conn,
  type: number,
  body: Buffer,
): Promise<Message | undefined> {
  const replies = await conn.execute({
    header: { type, flags: HeaderFlags.Request },
    data: body,
  })
  return replies[0]
}

/** Copies the decoder's current attribute out as a `RawAttribute`. */
export function rawAttribute(d: AttributeDecoder): RawAttribute {
  return { type: d.type | d.typeFlags, data: Buffer.from(d.bytes()) }
}

/**
 * MalformedError reports a message of a kind the decoders know whose
 * bytes do not fit it: a fixed header cut short, a bad attribute. `code`
 * is `'ERR_NETLINK_MALFORMED'`; the decoder's own error is `cause`.
 */
export class MalformedError extends Error {
  readonly code = 'ERR_NETLINK_MALFORMED'

  constructor(message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause })
    this.name = 'MalformedError'
  }
}

/**
 * The payload of `m`, a message of `what` (`'route'`, `'link'`, ...)
 * whose fixed header is `size` bytes. Throws a TypeError when `m` is not
 * a message with a data Buffer, and a MalformedError when the payload is
 * shorter than the header.
 */
export function payloadOf(m: unknown, size: number, what: string): Buffer {
  const data = messageData('m', m)
  if (data.length < size) {
    throw new MalformedError(
      `${what} message of ${data.length} bytes is shorter than its ` +
        `${size}-byte header`,
    )
  }
  return data
}

/**
 * Runs `read` on each attribute of `data`, a message's attributes after
 * its fixed header. An error the decoder meets, or one `read` throws,
 * becomes a MalformedError whose message starts with `what`.
 */
export function readAttributes(
  what: string,
  data: Buffer,
  read: (d: AttributeDecoder) => void,
): void {
  const d = new AttributeDecoder(data)
  try {
    while (d.next()) read(d)
  } catch (err) {
    throw new MalformedError(`${what}: ${(err as Error).message}`, err)
  }
  if (d.err !== null) {
    throw new MalformedError(`${what}: ${d.err.message}`, d.err)
  }
}

/**
 * A copy of a decoded object with its fields in the order of `keys`
 * (those of its init), the undefined ones left out: every object of a
 * kind then has the same shape and prints the same way.
 */
export function inKeyOrder<T extends object>(
  value: T,
  keys: readonly string[],
): T {
  const fields = value as Record<string, unknown>
  const out: Record<string, unknown> = {}
  for (const key of keys) {
    if (fields[key] !== undefined) out[key] = fields[key]
  }
  return out as T
}
