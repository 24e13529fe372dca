/**
 * Attributes a typed object carries as bytes (`attributes`): checked when
 * an init gives them back, and written after the modelled ones, so that
 * what a decoder kept reaches the kernel again unchanged.
 */
import { marshalAttributes } from '../attribute'
import * as check from '../validate'
import type { RawAttribute } from './request'

/**
 * Checks `value`, an optional array of `{ type, data }`; throws a
 * TypeError or RangeError naming `field` and the entry at fault.
 */
export function checkRaw(field: string, value: unknown): RawAttribute[] {
  if (value === undefined) return []
  if (!Array.isArray(value)) {
    throw check.typeError(
      `${field} must be an array, got ${check.describe(value)}`,
    )
  }

  return value.map((a: unknown, i) => {
    const o = check.optionalObject(`${field}[${i}]`, a)
    if (a === undefined) {
      throw check.typeError(`${field}[${i}] must be an object, got undefined`)
    }
    const type = check.integer(`${field}[${i}].type`, o.type, 1, 0xffff)
    const data = check.bytes(`${field}[${i}].data`, o.data)
    if (data.length > 0xffff - 4) {
      throw check.rangeError(
        `${field}[${i}].data of ${data.length} bytes is over 65531`,
      )
    }
    return { type, data: Buffer.from(data) }
  })
}

/** Encodes checked raw attributes, flag bits as given. */
export function encodeRaw(attrs: readonly RawAttribute[]): Buffer {
  return marshalAttributes(attrs)
}
