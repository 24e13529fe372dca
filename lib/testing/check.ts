/**
 * Assertions about the requests a fake Conn's handler receives.
 */
import { AssertionError } from 'node:assert'

import { formatFlags } from '../format'
import type { Message } from '../message'
import * as check from '../validate'

/**
 * Throws an `AssertionError` unless `request` has one of `types` and,
 * when `flags` is given, every bit of `flags` set (others may be set
 * too). The message names the request's sequence, what it has and what
 * was wanted, flags by name (`request|dump`). Meant for a handler: the
 * failure then rejects the `execute` that sent the request.
 */
export function checkRequest(
  request: Message,
  types: number | readonly number[],
  flags?: number,
): void {
  const header = requestHeader(request)
  const want = typeof types === 'number' ? [types] : types
  if (!Array.isArray(want) || want.length === 0) {
    throw check.typeError('types must be a type or a non-empty array of them')
  }
  want.forEach((t, i) => check.integer(`types[${i}]`, t, 0, 0xffff))
  if (flags !== undefined) check.integer('flags', flags, 0, 0xffff)

  const { type, sequence } = header
  const problems: string[] = []
  if (!want.includes(type)) {
    const wanted = want.length === 1 ? want[0] : `one of ${want.join(', ')}`
    problems.push(`type ${type}, want ${wanted}`)
  }

  const missing = flags === undefined ? 0 : flags & ~header.flags
  if (flags !== undefined && missing !== 0) {
    const name = (bits: number) => formatFlags(bits, type)
    problems.push(
      `flags ${name(header.flags)}, want ${name(flags)}` +
        ` (missing ${name(missing)})`,
    )
  }
  if (problems.length === 0) return

  throw new AssertionError({
    message: `request seq=${sequence} has ${problems.join(' and ')}`,
    actual: { type, flags: header.flags },
    expected: { types: [...want], flags },
    operator: 'checkRequest',
    stackStartFn: checkRequest,
  })
}

function requestHeader(request: Message): Message['header'] {
  const m = check.optionalObject('request', request)
  const header = check.optionalObject('request.header', m.header)
  check.integer('request.header.type', header.type, 0, 0xffff)
  check.integer('request.header.flags', header.flags, 0, 0xffff)
  return header as unknown as Message['header']
}
