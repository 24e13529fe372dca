/**
 * The end of a Conn and of its calls: close, abort signals, async
 * disposal, and what a closed Conn answers.
 */
import { HeaderFlags, NetlinkError, type Conn } from '../index'
import { caught, dialIn } from './helpers/conn'
import { ipIn, kernelTest, uniqueName } from './helpers/netns'
import {
  RTM_NEWLINK,
  RTNLGRP_LINK,
  getLink,
  newLink,
  parseLink,
} from './helpers/rtnl'
import type { ExecutionContext } from 'ava'

/**
 * Starts an execute the kernel never answers: a link created without
 * asking for an acknowledgement succeeds in silence. Once the request
 * after it has its reply, the kernel has handled the first one, and the
 * execute is known to be waiting.
 */
async function silentExecute(
  conn: Conn,
  signal?: AbortSignal,
): Promise<{ pending: Promise<unknown> }> {
  const name = uniqueName('nlt')
  const flags = HeaderFlags.Create | HeaderFlags.Excl
  const pending = conn.execute(newLink(name, 'bridge', flags), { signal })

  // Wrapped, or the async function would wait for it to settle.
  await conn.execute(getLink(1))
  return { pending }
}

function isEBADF(t: ExecutionContext, err: unknown): void {
  t.true(err instanceof NetlinkError, String(err))
  t.is((err as NetlinkError).code, 'EBADF')
}

kernelTest('close rejects an execute still waiting', async (t, ns) => {
  const conn = dialIn(t, ns)
  const { pending } = await silentExecute(conn)

  await conn.close()

  isEBADF(t, await caught(() => pending))
})

kernelTest(
  'close rejects an execute started in the same tick',
  async (t, ns) => {
    const conn = dialIn(t, ns)

    const pending = conn.execute(getLink(1))
    const closing = conn.close()

    isEBADF(t, await caught(() => pending))
    await closing
  },
)

kernelTest('close ends a for-await loop with EBADF', async (t, ns) => {
  const conn = dialIn(t, ns)
  conn.joinGroup(RTNLGRP_LINK)

  // The loop sees one notification, so it is certainly inside receive()
  // when the Conn closes.
  const name = uniqueName('nlt')
  let seen = 0
  const loop = (async () => {
    for await (const m of conn.receive()) {
      if (m.header.type === RTM_NEWLINK && parseLink(m).name === name) {
        seen++
        void conn.close()
      }
    }
  })()
  ipIn(ns, 'link', 'add', name, 'type', 'bridge')

  isEBADF(t, await caught(() => loop))
  t.is(seen, 1)
})

kernelTest('close ends a receive waiting for a message', async (t, ns) => {
  const conn = dialIn(t, ns)
  const next = conn.receive().next()

  await conn.close()

  isEBADF(t, await caught(() => next))
})

kernelTest('every method of a closed Conn fails with EBADF', async (t, ns) => {
  const conn = dialIn(t, ns)
  await conn.close()

  isEBADF(t, await caught(() => conn.execute(getLink(1))))
  isEBADF(t, await caught(() => conn.send(getLink(1))))
  isEBADF(t, await caught(() => conn.sendMessages([getLink(1)])))
  isEBADF(t, await caught(() => conn.receive().next()))
  isEBADF(t, await caught(() => conn.joinGroup(RTNLGRP_LINK)))
  isEBADF(t, await caught(() => conn.leaveGroup(RTNLGRP_LINK)))
  isEBADF(t, await caught(() => conn.setReadBuffer(1 << 20)))
  isEBADF(t, await caught(() => conn.readBuffer()))
})

kernelTest('asyncDispose closes the Conn', async (t, ns) => {
  const conn = dialIn(t, ns)

  await conn[Symbol.asyncDispose]()

  isEBADF(t, await caught(() => conn.execute(getLink(1))))
})

kernelTest('an aborted execute rejects with an AbortError', async (t, ns) => {
  const conn = dialIn(t, ns)
  const abort = new AbortController()
  const { pending } = await silentExecute(conn, abort.signal)

  abort.abort()

  const err = await caught(() => pending)
  t.is((err as Error).name, 'AbortError')
})

kernelTest('a Conn works on after an aborted execute', async (t, ns) => {
  const conn = dialIn(t, ns)
  const abort = new AbortController()
  const { pending } = await silentExecute(conn, abort.signal)
  abort.abort()
  await caught(() => pending)

  const [reply] = await conn.execute(getLink(1))

  t.is(parseLink(reply).name, 'lo')
})

kernelTest('an execute with an aborted signal is never sent', async (t, ns) => {
  const conn = dialIn(t, ns)
  const name = uniqueName('nlt')

  const err = await caught(() =>
    conn.execute(newLink(name, 'bridge'), { signal: AbortSignal.abort() }),
  )

  t.is((err as Error).name, 'AbortError')
  t.throws(() => ipIn(ns, 'link', 'show', name), {
    message: /does not exist/,
  })
})

kernelTest('an aborted receive rejects with an AbortError', async (t, ns) => {
  const conn = dialIn(t, ns)
  const abort = new AbortController()
  const next = conn.receive({ signal: abort.signal }).next()

  abort.abort()

  const err = await caught(() => next)
  t.is((err as Error).name, 'AbortError')
})

kernelTest('an aborted receive leaves the Conn open', async (t, ns) => {
  const conn = dialIn(t, ns)
  const abort = new AbortController()
  const next = conn.receive({ signal: abort.signal }).next()
  abort.abort()
  await caught(() => next)

  const [reply] = await conn.execute(getLink(1))

  t.is(parseLink(reply).name, 'lo')
})
