/**
 * What every typed rtnetlink decoder is tested for in the same way:
 * messages built around a payload, and malformed input that must be a
 * MalformedError and nothing else.
 */
import type { ExecutionContext } from 'ava'
import * as fc from 'fast-check'
import { marshalAttributes } from '../../index'
import type { Message } from '../../lib/message'
import { MalformedError } from '../../lib/rtnetlink/request'

/** A typed decoder: `decodeRoute`, `decodeRule`, ... */
export type Decoder = (m: Message) => unknown

/** A message of `type` carrying `data`, as a Conn would deliver it. */
export function messageOf(data: Buffer, type = 0): Message {
  return { header: { length: 0, type, flags: 0, sequence: 0, pid: 0 }, data }
}

/** The shape of the messages `decodesOrIsMalformed` makes up. */
export interface MessageShape {
  /** Size of the fixed header, family byte included. */
  headerSize: number
  /** Families the first byte takes: those the decoder knows and others. */
  families: number[]
  /** The highest attribute type to make up. */
  maxType: number
}

/**
 * Asserts that `decode` returns or throws a MalformedError, nothing
 * else, for 2000 messages of every shape: a header of a family from
 * `shape`, attributes of types up to `shape.maxType` with values of any
 * size, then stray bytes; and for random bytes.
 */
export function decodesOrIsMalformed(
  t: ExecutionContext,
  decode: Decoder,
  shape: MessageShape,
): void {
  const shaped = fc
    .tuple(
      fc.constantFrom(...shape.families),
      fc.uint8Array({
        minLength: shape.headerSize - 1,
        maxLength: shape.headerSize - 1,
      }),
      fc.array(
        fc.record({
          type: fc.integer({ min: 0, max: shape.maxType }),
          data: fc.uint8Array({ maxLength: 40 }),
        }),
        { maxLength: 8 },
      ),
      fc.uint8Array({ maxLength: 6 }),
    )
    .map(([family, header, attrs, tail]) =>
      Buffer.concat([
        Buffer.from([family]),
        header,
        marshalAttributes(attrs),
        tail,
      ]),
    )

  fc.assert(
    fc.property(fc.oneof(shaped, fc.uint8Array()), (data) => {
      try {
        decode(messageOf(Buffer.from(data)))
      } catch (err) {
        if (!(err instanceof MalformedError)) throw err
      }
    }),
    { numRuns: 2000 },
  )
  t.pass()
}

/**
 * Asserts that a payload one byte shorter than the fixed header of
 * `headerSize` is a MalformedError with code `ERR_NETLINK_MALFORMED`
 * that gives the size it got.
 */
export function truncatedIsMalformed(
  t: ExecutionContext,
  decode: Decoder,
  headerSize: number,
): void {
  const short = headerSize - 1
  const err = t.throws(() => decode(messageOf(Buffer.alloc(short))), {
    instanceOf: MalformedError,
  })

  t.is(err?.code, 'ERR_NETLINK_MALFORMED')
  t.regex(err?.message ?? '', new RegExp(`\\b${short} bytes`))
}

/**
 * Asserts that a message carrying `data` is a MalformedError whose
 * message matches `pattern`.
 */
export function isMalformed(
  t: ExecutionContext,
  decode: Decoder,
  data: Buffer,
  pattern = /./,
): void {
  t.throws(() => decode(messageOf(data)), {
    instanceOf: MalformedError,
    message: pattern,
  })
}

/**
 * Asserts that `header` followed by an attribute whose length runs past
 * the message is a MalformedError whose message matches `pattern`.
 */
export function garbageIsMalformed(
  t: ExecutionContext,
  decode: Decoder,
  header: Buffer,
  pattern: RegExp,
): void {
  const garbage = Buffer.from([0xff, 0x00, 0x01, 0x00, 1, 2, 3])

  isMalformed(t, decode, Buffer.concat([header, garbage]), pattern)
}

/**
 * Asserts that `decode` refuses, with a TypeError, what is not a message
 * with a data Buffer.
 */
export function refusesNonMessages(t: ExecutionContext, decode: Decoder) {
  t.throws(() => decode(undefined as never), { instanceOf: TypeError })
  t.throws(() => decode({ data: 'x' } as never), {
    instanceOf: TypeError,
    message: /data Buffer/,
  })
}
