/**
 * Argument checks the rtnetlink modules share: the Conn a collection
 * wraps, the message a decoder reads, and optional numeric fields.
 */
import type { AttributeEncoder } from '../attribute'
import type { Conn } from '../conn'
import type { Message } from '../message'
import * as check from '../validate'

/** The largest u32, the bound of most numeric fields. */
export const U32 = 0xffffffff

/** Checks that `value` is a Conn (or acts like one); throws a TypeError. */
export function checkConn(value: unknown): Conn {
  const conn = value as Partial<Conn> | null
  if (
    conn === null ||
    typeof conn !== 'object' ||
    typeof conn.execute !== 'function'
  ) {
    throw check.typeError(`conn must be a Conn, got ${check.describe(value)}`)
  }
  return value as Conn
}

/**
 * The payload of `m`, which must be a message with a Buffer as `data`;
 * throws a TypeError naming `name` otherwise.
 */
export function messageData(name: string, m: unknown): Buffer {
  const data = (m as Partial<Message> | null)?.data
  if (m === null || typeof m !== 'object' || !Buffer.isBuffer(data)) {
    throw check.typeError(
      `${name} must be a message with a data Buffer, got ` + check.describe(m),
    )
  }
  return data
}

/** Writes an optional u32 attribute, checked under `name`. */
export function optionalU32(
  e: AttributeEncoder,
  type: number,
  name: string,
  v: unknown,
): void {
  if (v !== undefined) e.uint32(type, check.integer(name, v, 0, U32))
}
