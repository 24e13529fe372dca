/**
 * Numbers of a fixed header or attribute that people read as words, and
 * back: one value from a table of names (a route's protocol), or a set of
 * bits (its flags). Values without a name keep their number, so nothing
 * the kernel sends is lost in translation.
 */
import * as check from '../validate'

/** Names of values, by number. */
export type NameTable = Readonly<Record<number, string>>

/** Names of bits, in the order they are listed. */
export type BitTable = readonly (readonly [number, string])[]

/** The name of `n` in `table`, or its decimal string. */
export function nameOf(table: NameTable, n: number): string {
  return table[n] ?? String(n)
}

/**
 * The number that `value` names: a name in `table`, a decimal string, or
 * an integer, in `0..max`. Throws a TypeError or RangeError naming
 * `field` otherwise.
 */
export function numberOf(
  field: string,
  table: NameTable,
  value: unknown,
  max: number,
): number {
  if (typeof value === 'number') return check.integer(field, value, 0, max)
  if (typeof value === 'string') {
    for (const [n, name] of Object.entries(table)) {
      if (name === value) return Number(n)
    }
    if (/^\d+$/.test(value)) return check.integer(field, Number(value), 0, max)
  }

  const names = Object.values(table).join(', ')
  throw check.typeError(
    `${field} must be one of ${names} or a number, ` +
      `got ${check.describe(value)}`,
  )
}

/**
 * The names of the bits set in `bits`; bits without a name come last as
 * one hex string (`'0x40000'`).
 */
export function bitNames(table: BitTable, bits: number): string[] {
  const names: string[] = []
  let rest = bits >>> 0
  for (const [bit, name] of table) {
    if ((rest & bit) === 0) continue
    names.push(name)
    rest = (rest & ~bit) >>> 0
  }
  if (rest !== 0) names.push(`0x${rest.toString(16)}`)
  return names
}

/**
 * The bits that `value`, an array of names from `table` (or hex strings
 * as `bitNames` makes them), stands for. Throws a TypeError naming
 * `field` for anything else.
 */
export function bitsOf(field: string, table: BitTable, value: unknown): number {
  if (!Array.isArray(value)) {
    throw check.typeError(
      `${field} must be an array of names, got ${check.describe(value)}`,
    )
  }

  let bits = 0
  value.forEach((name: unknown, i) => {
    const entry = table.find(([, n]) => n === name)
    if (entry !== undefined) {
      bits |= entry[0]
    } else if (typeof name === 'string' && /^0x[0-9a-f]{1,8}$/i.test(name)) {
      bits |= Number(name)
    } else {
      const names = table.map(([, n]) => n).join(', ')
      throw check.typeError(
        `${field}[${i}] must be one of ${names}, got ${check.describe(name)}`,
      )
    }
  })
  return bits >>> 0
}
