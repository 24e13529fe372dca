/**
 * Argument checks shared by the public functions: each throws a
 * `TypeError` or `RangeError` whose message names the argument.
 */

/** A `TypeError` with Node's code for an argument of the wrong type. */
export function typeError(message: string): TypeError {
  return Object.assign(new TypeError(message), {
    code: 'ERR_INVALID_ARG_TYPE',
  })
}

/** A `RangeError` with Node's code for an argument out of range. */
export function rangeError(message: string): RangeError {
  return Object.assign(new RangeError(message), { code: 'ERR_OUT_OF_RANGE' })
}

/** Checks that `value` is an integer in `[min, max]`. */
export function integer(
  name: string,
  value: unknown,
  min: number,
  max: number,
): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw typeError(`${name} must be an integer, got ${describe(value)}`)
  }
  if (value < min || value > max) {
    throw rangeError(`${name} must be in ${min}..${max}, got ${value}`)
  }
  return value
}

/** Checks an optional integer; `undefined` gives `fallback`. */
export function optionalInteger(
  name: string,
  value: unknown,
  min: number,
  max: number,
  fallback: number,
): number {
  return value === undefined ? fallback : integer(name, value, min, max)
}

/** Checks an optional boolean; `undefined` gives `fallback`. */
export function optionalBoolean(
  name: string,
  value: unknown,
  fallback: boolean,
): boolean {
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') {
    throw typeError(`${name} must be a boolean, got ${describe(value)}`)
  }
  return value
}

/**
 * Checks that `value` is a plain object (or absent). Arrays and binary
 * data are refused: their elements would pass for options, and walking
 * the keys of a large buffer takes minutes.
 */
export function optionalObject(
  name: string,
  value: unknown,
): Record<string, unknown> {
  if (value === undefined) return {}
  if (!isPlainObject(value)) {
    throw typeError(`${name} must be an object, got ${describe(value)}`)
  }
  return value
}

/** Whether `optionalObject` takes `value` as it is. */
export function isPlainObject(
  value: unknown,
): value is Record<string, unknown> {
  return (
    value !== null &&
    typeof value === 'object' &&
    !Array.isArray(value) &&
    !ArrayBuffer.isView(value) &&
    !(value instanceof ArrayBuffer) &&
    !(value instanceof SharedArrayBuffer)
  )
}

/** Whether `integer` takes `value` as it is. */
export function isIntegerIn(
  value: unknown,
  min: number,
  max: number,
): value is number {
  return (
    typeof value === 'number' &&
    Number.isInteger(value) &&
    value >= min &&
    value <= max
  )
}

/** Checks that `value` is bytes: a Buffer or another Uint8Array. */
export function bytes(name: string, value: unknown): Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw typeError(
      `${name} must be a Buffer or Uint8Array, got ${describe(value)}`,
    )
  }
  return value
}

/** Throws unless every key of `object` is one of `known`. */
export function knownKeys(
  name: string,
  object: Record<string, unknown>,
  known: readonly string[],
): void {
  // for-in makes no array of the keys: this runs for every request.
  for (const key in object) {
    if (!known.includes(key) && Object.hasOwn(object, key)) {
      throw typeError(`${name} has an unknown option ${String(key)}`)
    }
  }
}

/** Checks an optional AbortSignal. */
export function optionalSignal(
  name: string,
  value: unknown,
): AbortSignal | undefined {
  if (value === undefined) return undefined
  if (!(value instanceof AbortSignal)) {
    throw typeError(`${name} must be an AbortSignal`)
  }
  return value
}

/** A short description of a value for error messages. */
export function describe(value: unknown): string {
  if (value === null) return 'null'
  if (typeof value === 'string') return `string ${JSON.stringify(value)}`
  if (typeof value === 'object') {
    return value.constructor?.name ?? 'object'
  }
  return `${typeof value} ${String(value)}`
}
