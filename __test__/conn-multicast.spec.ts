/**
 * Multicast groups: notifications reach `receive()` with their group, and
 * never disturb requests in flight on the same socket.
 */
import { NetlinkError } from '../index'
import { caught, dialIn, receiveOne, receiveUntil } from './helpers/conn'
import {
  ipBatch,
  ipBatchAsync,
  ipIn,
  kernelTest,
  probeIp,
  uniqueName,
} from './helpers/netns'
import {
  RTM_NEWADDR,
  RTM_NEWLINK,
  RTM_NEWNEXTHOP,
  RTNLGRP_IPV4_IFADDR,
  RTNLGRP_LINK,
  RTNLGRP_NEXTHOP,
  getLink,
  getLinkDump,
  groupMask,
  linkNames,
  parseLink,
} from './helpers/rtnl'

/** Creates a veth pair in `ns` and returns the names of its two ends. */
function addVeth(ns: string): [string, string] {
  const [a, b] = [uniqueName('nlt'), uniqueName('nlt')]

  ipIn(ns, 'link', 'add', a, 'type', 'veth', 'peer', 'name', b)
  return [a, b]
}

kernelTest(
  'a joined group delivers the new link with its group number',
  async (t, ns) => {
    const conn = dialIn(t, ns)
    conn.joinGroup(RTNLGRP_LINK)

    const [name] = addVeth(ns)
    const m = await receiveUntil(
      conn,
      (m) => m.header.type === RTM_NEWLINK && parseLink(m).name === name,
    )

    t.is(m.group, RTNLGRP_LINK)
    t.is(m.port, 0)
    t.is(m.header.sequence, 0)
  },
)

kernelTest('groups given to dial are joined at bind', async (t, ns) => {
  const conn = dialIn(t, ns, { groups: groupMask(RTNLGRP_LINK) })

  const [name] = addVeth(ns)
  const m = await receiveUntil(
    conn,
    (m) => m.header.type === RTM_NEWLINK && parseLink(m).name === name,
  )

  t.is(m.group, RTNLGRP_LINK)
})

kernelTest('a left group delivers nothing more', async (t, ns) => {
  const conn = dialIn(t, ns)
  conn.joinGroup(RTNLGRP_LINK)
  conn.joinGroup(RTNLGRP_IPV4_IFADDR)
  conn.leaveGroup(RTNLGRP_LINK)

  // The kernel announces the link before the address; with the link
  // group left, the address must be the first thing received.
  const [name] = addVeth(ns)
  ipIn(ns, 'address', 'add', '192.0.2.1/24', 'dev', name)
  const first = await receiveOne(conn)

  t.is(first.header.type, RTM_NEWADDR)
  t.is(first.group, RTNLGRP_IPV4_IFADDR)
})

kernelTest(
  'dumps complete while notifications arrive on the same socket',
  async (t, ns) => {
    const links: string[] = []
    for (let i = 0; i < 20; i++) {
      links.push(...addVeth(ns))
    }
    const expected = ['lo', ...links].sort()
    const conn = dialIn(t, ns, {
      groups: groupMask(RTNLGRP_LINK),
      readBufferSize: 4 << 20,
    })

    // Read notifications the whole time, as a real listener would, up to
    // a last link created once the toggling is over. An overrun loses
    // notifications, never dump replies, so the listener reads on.
    const last = uniqueName('nlt')
    let notifications = 0
    let overruns = 0
    const listener = (async () => {
      for (;;) {
        try {
          for await (const m of conn.receive()) {
            if (m.header.type !== RTM_NEWLINK) continue
            notifications++
            if (parseLink(m).name === last) return
          }
          return
        } catch (err) {
          if (!(err instanceof NetlinkError && err.code === 'ENOBUFS')) {
            throw err
          }
          overruns++
        }
      }
    })()

    const toggles: string[] = []
    for (let round = 0; round < 40; round++) {
      for (const name of links) {
        toggles.push(`link set ${name} up`, `link set ${name} down`)
      }
    }
    let toggling = true
    const background = ipBatchAsync(ns, toggles).finally(() => {
      toggling = false
    })

    let dumps = 0
    do {
      const messages = await conn.execute(getLinkDump())
      t.deepEqual(linkNames(messages).sort(), expected, `dump ${dumps}`)
      dumps++
    } while (toggling)
    await background

    ipIn(ns, 'link', 'add', last, 'type', 'bridge')
    await listener

    t.log(
      `${dumps} dumps, ${notifications} notifications,` +
        ` ${overruns} overruns`,
    )
    t.true(notifications > 0)
  },
)

kernelTest.requiring(
  probeIp('nexthop', 'show'),
  'a group above 31 delivers with its group number',
  async (t, ns) => {
    const [a, b] = addVeth(ns)
    ipBatch(ns, [`link set ${a} up`, `link set ${b} up`])
    const conn = dialIn(t, ns)
    conn.joinGroup(RTNLGRP_NEXTHOP)

    ipIn(ns, 'nexthop', 'add', 'id', '7', 'dev', a)
    const m = await receiveUntil(conn, (m) => m.header.type === RTM_NEWNEXTHOP)

    t.is(m.group, RTNLGRP_NEXTHOP)
    t.is(m.port, 0)
  },
)

kernelTest(
  'a full receive queue throws ENOBUFS and reading goes on after it',
  async (t, ns) => {
    const conn = dialIn(t, ns, { maxQueuedBytes: 4096 })
    conn.joinGroup(RTNLGRP_LINK)

    // ip runs while this thread is blocked, so nobody reads: fifty link
    // notifications of over a kilobyte each cannot fit the queue.
    const lines = []
    for (let i = 0; i < 50; i++) {
      lines.push(`link add ${uniqueName('nlt')} type bridge`)
    }
    ipBatch(ns, lines)

    // The kernel queued the reply after the notifications, so once it is
    // in, every notification has been queued or dropped.
    await conn.execute(getLink(1))
    const err = await caught(async () => {
      for await (const m of conn.receive()) void m
    })

    t.true(err instanceof NetlinkError, String(err))
    t.is((err as NetlinkError).code, 'ENOBUFS')
    t.true(conn.stats().queueDrops > 0)

    const name = uniqueName('nlt')
    ipIn(ns, 'link', 'add', name, 'type', 'bridge')
    const m = await receiveUntil(
      conn,
      (m) => m.header.type === RTM_NEWLINK && parseLink(m).name === name,
    )
    t.is(m.group, RTNLGRP_LINK)
  },
)

kernelTest(
  'a notification sent after replies read at once still reaches receive',
  async (t, ns) => {
    const conn = dialIn(t, ns)
    conn.joinGroup(RTNLGRP_LINK)

    // Replies read on the calling thread leave the socket to it until
    // the event loop turns; the notification must not wait for another
    // request to be read.
    for (let i = 0; i < 200; i++) await conn.execute(getLink(1))
    const [name] = addVeth(ns)
    const m = await receiveUntil(
      conn,
      (m) => m.header.type === RTM_NEWLINK && parseLink(m).name === name,
    )

    t.is(m.group, RTNLGRP_LINK)
  },
)
