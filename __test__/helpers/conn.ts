/**
 * Dialing and reading for kernel tests: every Conn opened here lives in
 * the test's namespace and is closed when the test ends.
 */
import type { ExecutionContext } from 'ava'
import {
  Family,
  NetlinkError,
  dial,
  type Config,
  type Conn,
  type ReceivedMessage,
} from '../../index'

/**
 * Dials `family` (ROUTE unless given) inside the namespace `ns` and
 * closes the Conn when the test ends.
 */
export function dialIn(
  t: ExecutionContext,
  ns: string,
  config: Config = {},
  family: number = Family.ROUTE,
): Conn {
  const conn = dial(family, { ...config, netns: ns })

  t.teardown(() => closeQuietly(conn))
  return conn
}

/** Closes `conn`, which the test may have closed already. */
export async function closeQuietly(conn: Conn): Promise<void> {
  try {
    await conn.close()
  } catch (err) {
    if (!(err instanceof NetlinkError && err.code === 'EBADF')) {
      throw err
    }
  }
}

/**
 * Reads `conn` until a message satisfies `match` and returns it. The
 * messages before it are passed over.
 */
export async function receiveUntil(
  conn: Conn,
  match: (m: ReceivedMessage) => boolean,
): Promise<ReceivedMessage> {
  for await (const m of conn.receive()) {
    if (match(m)) {
      return m
    }
  }
  throw new Error('receive ended before the message came')
}

/** Reads the next message `conn` receives. */
export function receiveOne(conn: Conn): Promise<ReceivedMessage> {
  return receiveUntil(conn, () => true)
}

/**
 * Calls `fn` and returns what it threw, synchronously or by rejecting;
 * fails when it did neither.
 */
export async function caught(fn: () => unknown): Promise<unknown> {
  try {
    await fn()
  } catch (err) {
    return err
  }
  throw new Error('expected an error, got none')
}
