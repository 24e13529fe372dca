/**
 * Argument checks of `GenericConn`'s methods: each throws a `TypeError`
 * or `RangeError` whose message names the argument, before any request
 * goes out.
 */
import * as check from '../validate'
import { GENL_MAX_ID, GENL_MIN_ID, GENL_NAMSIZ } from './constants'
import type { GenericRequest } from './conn'

const REQUEST_KEYS = ['command', 'version', 'flags', 'data'] as const

/** A family: a name, or an id from `GENL_MIN_ID` to `GENL_MAX_ID`. */
export function checkFamily(family: unknown): void {
  if (typeof family === 'string') {
    checkName('family', family)
    return
  }
  if (typeof family !== 'number') {
    throw check.typeError(
      'family must be a name or an id, got ' + check.describe(family),
    )
  }
  check.integer('family', family, GENL_MIN_ID, GENL_MAX_ID)
}

/**
 * Names of families and groups: 1 to 15 bytes, as `GENL_NAMSIZ`
 * allows.
 */
export function checkName(what: string, name: unknown): void {
  if (typeof name !== 'string') {
    throw check.typeError(
      `${what} must be a string, got ${check.describe(name)}`,
    )
  }
  const bytes = Buffer.byteLength(name)
  if (bytes === 0 || bytes >= GENL_NAMSIZ || name.includes('\0')) {
    throw check.rangeError(
      `${what} must be 1 to ${GENL_NAMSIZ - 1} bytes` +
        ` without NUL, got ${JSON.stringify(name)}`,
    )
  }
}

/** A request: command and version 0 to 255, flags, data. */
export function checkRequest(request: unknown): Required<GenericRequest> {
  const r = check.optionalObject('request', request)
  if (request === undefined) {
    throw check.typeError('request must be an object, got undefined')
  }
  check.knownKeys('request', r, REQUEST_KEYS)
  return {
    command: check.integer('request.command', r.command, 0, 255),
    version: check.integer('request.version', r.version, 0, 255),
    flags: check.optionalInteger('request.flags', r.flags, 0, 0xffff, 0),
    data:
      r.data === undefined
        ? Buffer.alloc(0)
        : check.bytes('request.data', r.data),
  }
}

/** Options of the waiting methods: only `signal`. */
export function checkWait(options: unknown): AbortSignal | undefined {
  const o = check.optionalObject('options', options)
  check.knownKeys('options', o, ['signal'])
  return check.optionalSignal('options.signal', o.signal)
}
