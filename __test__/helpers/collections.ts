/**
 * What every typed rtnetlink collection is tested for in the same way:
 * over a fake Conn, the request a method sends, and the bad arguments it
 * refuses before sending anything.
 */
import type { ExecutionContext } from 'ava'
import type { Conn } from '../../lib/conn'
import type { Message } from '../../lib/message'
import { dialFake, errorReply, type Handler } from '../../testing'
import { caught } from './conn'

/**
 * A fake `NETLINK_ROUTE` Conn with strict checking that answers with
 * `handler`; closed when the test ends.
 */
export function fakeRoute(t: ExecutionContext, handler: Handler) {
  const f = dialFake(handler, { config: { strict: true } })
  t.teardown(() => f.conn.close())
  return f
}

/** A collection class: `Routes`, `Rules`, `Neighbours`, ... */
export type CollectionClass<C> = new (conn: Conn) => C

/**
 * The one request `action` sends through a `Class` over a fake Conn,
 * which refuses it with `EPERM` so that `action` ends there.
 */
export async function sentBy<C>(
  t: ExecutionContext,
  Class: CollectionClass<C>,
  action: (collection: C) => Promise<unknown>,
): Promise<Message> {
  const f = fakeRoute(t, () => errorReply('EPERM'))

  await caught(() => action(new Class(f.conn)))
  t.is(f.requests.length, 1)
  return f.requests[0]
}

/**
 * A bad argument and what it must be refused with: a description for
 * the test's title, the value, a pattern the message matches (the field
 * at fault) and the error's name.
 */
export type BadArgument = [
  what: string,
  value: unknown,
  pattern: RegExp,
  name: 'TypeError' | 'RangeError',
]

/**
 * Asserts that `action` on a `Class` over a fake Conn throws `bad`'s
 * error with a `code` and a message naming the field, and sends nothing.
 */
export async function refusedUnsent<C>(
  t: ExecutionContext,
  Class: CollectionClass<C>,
  bad: BadArgument,
  action: (collection: C, value: unknown) => Promise<unknown>,
): Promise<void> {
  const [, value, pattern, name] = bad
  const f = fakeRoute(t, () => null)

  const err = (await caught(() => action(new Class(f.conn), value))) as Error

  t.is(err.name, name)
  t.regex(err.message, pattern)
  t.truthy((err as { code?: string }).code)
  t.is(f.requests.length, 0)
}

/** Asserts that `Class` refuses, with a TypeError, what is not a Conn. */
export function refusesNonConns<C>(
  t: ExecutionContext,
  Class: CollectionClass<C>,
): void {
  t.throws(() => new Class(undefined as never), { instanceOf: TypeError })
  t.throws(() => new Class({} as never), { message: /conn must be a Conn/ })
}

/** A call that must be refused, and a pattern naming what is at fault. */
export type RefusedCall = [call: () => unknown, pattern: RegExp]

/**
 * Asserts that each call throws or rejects with a TypeError or
 * RangeError whose message matches its pattern.
 */
export async function refusesEach(
  t: ExecutionContext,
  calls: RefusedCall[],
): Promise<void> {
  for (const [call, pattern] of calls) {
    const err = await caught(call)

    t.true(
      err instanceof TypeError || err instanceof RangeError,
      `${pattern}: ${String(err)}`,
    )
    t.regex((err as Error).message, pattern)
  }
}
