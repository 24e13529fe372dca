/**
 * The benchmark's work done through the npm package `netlink`, the
 * existing Node.js library, as its README shows it: `createNetlink` and
 * `request` for raw messages, `createRtNetlink` for typed links, and
 * `'message'` events for notifications, all with its defaults.
 */
import { createNetlink, createRtNetlink, Protocol } from 'netlink'
import type { NetlinkMessage, NetlinkSocket } from 'netlink'
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

const NLM_F_DUMP = 0x300

/** npm `netlink` as a benchmark tool. */
export const npmNetlink: Tool = {
  async routes() {
    return withSocket(async (socket) => {
      const probe = new Probe()
      const start = performance.now()
      const [messages] = await socket.request(RTM_GETROUTE, rtmsg(), {
        flags: NLM_F_DUMP,
      })
      const seconds = (performance.now() - start) / 1000
      // The probe stops with the dump: counting the bytes after it reads
      // every header, which is the caller's work, not the dump's.
      const probed = probe.stop()
      return { ...figures(messages, seconds), ...probed }
    })
  },

  async links(typed) {
    if (typed) {
      const socket = createRtNetlink()
      try {
        const start = performance.now()
        const links = await socket.getLinks()
        const seconds = (performance.now() - start) / 1000
        return { messages: links.length, bytes: 0, seconds }
      } finally {
        socket.socket.close()
      }
    }
    return withSocket(async (socket) => {
      const start = performance.now()
      const [messages] = await socket.request(RTM_GETLINK, ifinfomsg(0), {
        flags: NLM_F_DUMP,
      })
      return figures(messages, (performance.now() - start) / 1000)
    })
  },

  async execute(count, inFlight) {
    return withSocket(async (socket) => {
      const body = ifinfomsg(1)
      const seconds = await roundTrips(count, inFlight, () =>
        socket.request(RTM_GETLINK, body),
      )
      return { messages: count, seconds }
    })
  },

  async listen(expected, bursts) {
    const socket = createNetlink(Protocol.ROUTE)
    const counter = new EventCounter()
    socket.addMembership(RTNLGRP_IPV4_ROUTE)
    socket.ref()
    socket.on('message', (messages) => {
      let routes = 0
      for (const m of messages) if (m.type === RTM_NEWROUTE) routes++
      counter.add(routes)
    })
    socket.on('error', (err) => {
      if (err.code === 'ENOBUFS') counter.overruns++
      else throw err
    })

    const figures = await listenThrough(expected, bursts, counter)
    socket.close()
    return figures
  },
}

async function withSocket<T>(
  work: (socket: NetlinkSocket) => Promise<T>,
): Promise<T> {
  const socket = createNetlink(Protocol.ROUTE)
  try {
    return await work(socket)
  } finally {
    socket.close()
  }
}

function figures(messages: NetlinkMessage[], seconds: number): DumpFigures {
  let bytes = 0
  for (const m of messages) bytes += 16 + m.data.length
  return { messages: messages.length, bytes, seconds }
}
