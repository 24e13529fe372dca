/**
 * The benchmark's work done through this library: `dial`, `execute` and
 * `receive()` with their defaults.
 */
import { dial, Family, HeaderFlags, NetlinkError } from '../../index'
import type { Conn, Message } from '../../index'
import { Probe } from '../probe'
import {
  EventCounter,
  RTM_GETLINK,
  RTM_GETROUTE,
  RTM_NEWROUTE,
  RTNLGRP_IPV4_ROUTE,
  ifinfomsg,
  listenThrough,
  roundTrips,
  rtmsg,
  type DumpFigures,
  type Tool,
} from '../work'

/** The typed link listing, where the rtnetlink module exists. */
interface RouteModule {
  dialRoute(): {
    links: { list(): Promise<unknown[]> }
    close(): Promise<void> | void
  }
}

/** This library as a benchmark tool. */
export const library: Tool = {
  async routes() {
    return withConn(async (conn) => {
      const probe = new Probe()
      const start = performance.now()
      const messages = await conn.execute({
        header: { type: RTM_GETROUTE, flags: HeaderFlags.Dump },
        data: rtmsg(),
      })
      const seconds = (performance.now() - start) / 1000
      // The probe stops with the dump: counting the bytes after it reads
      // every header, which is the caller's work, not the dump's.
      const probed = probe.stop()
      return { ...figures(messages, seconds), ...probed }
    })
  },

  async links(typed) {
    if (typed) return typedLinks()
    return withConn(async (conn) => {
      const start = performance.now()
      const messages = await conn.execute({
        header: { type: RTM_GETLINK, flags: HeaderFlags.Dump },
        data: ifinfomsg(0),
      })
      return figures(messages, (performance.now() - start) / 1000)
    })
  },

  async execute(count, inFlight) {
    return withConn(async (conn) => {
      const request = { header: { type: RTM_GETLINK }, data: ifinfomsg(1) }
      const seconds = await roundTrips(count, inFlight, () =>
        conn.execute(request),
      )
      return { messages: count, seconds }
    })
  },

  async listen(expected, bursts) {
    const conn = dial(Family.ROUTE, { groups: 1 << (RTNLGRP_IPV4_ROUTE - 1) })
    const counter = new EventCounter()
    const events = conn.receive()
    let listening = true

    // Read until closed; an overrun is counted and reading goes on.
    const reading = (async () => {
      while (listening) {
        try {
          const next = await events.next()
          if (next.done) return
          if (next.value.header.type === RTM_NEWROUTE) counter.add(1)
        } catch (err) {
          if (!(err instanceof NetlinkError)) throw err
          if (err.code === 'ENOBUFS') counter.overruns++
          else if (err.code === 'EBADF') return
          else throw err
        }
      }
    })()

    const figures = await listenThrough(expected, bursts, counter)
    listening = false
    await conn.close()
    await reading
    return figures
  },
}

async function withConn<T>(work: (conn: Conn) => Promise<T>): Promise<T> {
  const conn = dial(Family.ROUTE)
  try {
    return await work(conn)
  } finally {
    await conn.close()
  }
}

function figures(messages: Message[], seconds: number): DumpFigures {
  let bytes = 0
  for (const m of messages) bytes += m.header.length
  return { messages: messages.length, bytes, seconds }
}

/** The rtnetlink module, or undefined while it does not exist. */
export function routeModule(): RouteModule | undefined {
  try {
    const loaded = require('../../rtnetlink') as Partial<RouteModule>
    return typeof loaded.dialRoute === 'function'
      ? (loaded as RouteModule)
      : undefined
  } catch {
    return undefined
  }
}

async function typedLinks(): Promise<DumpFigures | undefined> {
  const route = routeModule()
  if (route === undefined) return undefined
  const conn = route.dialRoute()
  try {
    const start = performance.now()
    const links = await conn.links.list()
    const seconds = (performance.now() - start) / 1000
    return { messages: links.length, bytes: 0, seconds }
  } finally {
    await conn.close()
  }
}
