/**
 * Requests and replies against the kernel's rtnetlink: dumps, errors,
 * acknowledgements and many requests in flight on one Conn.
 */
import { Family, HeaderFlags, NetlinkError, dial } from '../index'
import { dialIn, receiveOne } from './helpers/conn'
import { ipBatch, ipIn, kernelTest, uniqueName } from './helpers/netns'
import {
  RTM_GETLINK,
  RTM_NEWLINK,
  getLink,
  getLinkDump,
  ifinfomsg,
  linkNames,
  newLink,
  parseLink,
} from './helpers/rtnl'

/** Creates `pairs` veth pairs in `ns` with one `ip -batch` run. */
function addVeths(ns: string, pairs: number, prefix = 'v'): string[] {
  const names: string[] = []
  const lines: string[] = []

  for (let i = 0; i < pairs; i++) {
    const [a, b] = [`${prefix}${i}a`, `${prefix}${i}b`]
    lines.push(`link add ${a} type veth peer name ${b}`)
    names.push(a, b)
  }
  ipBatch(ns, lines)
  return names
}

kernelTest(
  'a dump returns every link once across many datagrams',
  async (t, ns) => {
    const expected = ['lo', ...addVeths(ns, 300)].sort()
    const conn = dialIn(t, ns)

    const messages = await conn.execute(getLinkDump())

    t.deepEqual(linkNames(messages).sort(), expected)

    // The kernel fills one dump datagram to 32 KiB at most, so a dump
    // of more than 64 KiB took several.
    const bytes = messages.reduce((sum, m) => sum + m.header.length, 0)
    t.true(bytes > 64 * 1024, `the dump was only ${bytes} bytes`)
  },
)

kernelTest('a dump resolves without its DONE message', async (t, ns) => {
  const conn = dialIn(t, ns)

  const messages = await conn.execute(getLinkDump())

  t.true(messages.length > 0)
  for (const m of messages) {
    t.is(m.header.type, RTM_NEWLINK)
  }
})

kernelTest('an error carries the extended-ack message', async (t, ns) => {
  const conn = dialIn(t, ns)

  const err = await t.throwsAsync(
    conn.execute(newLink('nlt-x', 'nosuchkind')),
    { instanceOf: NetlinkError },
  )

  t.is(err?.code, 'EOPNOTSUPP')
  t.is(err?.errno, 95)
  t.is(err?.op, 'execute')
  t.is(err?.extAck?.message, 'Unknown device type')
})

kernelTest(
  'a request for a missing link rejects with ENODEV',
  async (t, ns) => {
    const conn = dialIn(t, ns)

    const err = await t.throwsAsync(conn.execute(getLink(424242)), {
      instanceOf: NetlinkError,
    })

    t.is(err?.code, 'ENODEV')
    t.is(err?.errno, 19)
  },
)

kernelTest('a plain request resolves with its one reply', async (t, ns) => {
  const conn = dialIn(t, ns)

  const [reply, ...rest] = await conn.execute(getLink(1))

  t.deepEqual(rest, [])
  t.is(reply.header.type, RTM_NEWLINK)
  t.is(reply.header.pid, conn.pid)
  t.is(parseLink(reply).name, 'lo')
})

kernelTest('execute fills in the sequence and the port ID', async (t, ns) => {
  const conn = dialIn(t, ns)

  const [a] = await conn.execute(getLink(1))
  const [b] = await conn.execute(getLink(1))

  t.not(a.header.sequence, 0)
  t.not(a.header.sequence, b.header.sequence)
  t.is(a.header.pid, conn.pid)
})

kernelTest(
  'a request with Acknowledge resolves at the ack with the reply before it',
  async (t, ns) => {
    const conn = dialIn(t, ns)

    const messages = await conn.execute(getLink(1, HeaderFlags.Acknowledge))

    t.is(messages.length, 1)
    t.is(messages[0].header.type, RTM_NEWLINK)
    t.is(parseLink(messages[0]).index, 1)
  },
)

kernelTest(
  'the ack after a reply does not reach the next request or receive',
  async (t, ns) => {
    const conn = dialIn(t, ns)
    await conn.execute(getLink(1, HeaderFlags.Acknowledge))

    const [next] = await conn.execute(getLink(1))
    const sent = await conn.send(getLink(1))
    const received = await receiveOne(conn)

    t.is(next.header.type, RTM_NEWLINK)
    t.is(received.header.type, RTM_NEWLINK)
    t.is(received.header.sequence, sent.header.sequence)
  },
)

kernelTest(
  'a request with Acknowledge and no reply resolves with no messages',
  async (t, ns) => {
    const conn = dialIn(t, ns)
    const name = uniqueName('nlt')

    const messages = await conn.execute(newLink(name, 'bridge'))

    t.deepEqual(messages, [])
    t.true(ipIn(ns, 'link', 'show', name).includes(name))
  },
)

kernelTest(
  'a thousand executes in flight each resolve with their own reply',
  async (t, ns) => {
    addVeths(ns, 10)
    const conn = dialIn(t, ns)
    const indexes = (await conn.execute(getLinkDump())).map(
      (m) => parseLink(m).index,
    )

    // Every tenth request asks for a link that does not exist, so that
    // errors have to find their way back to the right caller too.
    const missing = 424242
    const asked = Array.from({ length: 1000 }, (_, i) =>
      i % 10 === 9 ? missing : indexes[i % indexes.length],
    )
    const results = await Promise.allSettled(
      asked.map((index) => conn.execute(getLink(index))),
    )

    const sequences = new Set<number>()
    results.forEach((r, i) => {
      if (asked[i] === missing) {
        t.is(r.status, 'rejected', `request ${i}`)
        if (r.status === 'rejected') t.is(r.reason.code, 'ENODEV')
        return
      }
      t.is(r.status, 'fulfilled', `request ${i}`)
      if (r.status === 'fulfilled') {
        t.is(r.value.length, 1)
        t.is(parseLink(r.value[0]).index, asked[i], `request ${i}`)
        sequences.add(r.value[0].header.sequence)
      }
    })
    t.is(sequences.size, 900)
  },
)

kernelTest('send resolves with the message as sent', async (t, ns) => {
  const conn = dialIn(t, ns)
  const data = ifinfomsg({ index: 1 })

  const sent = await conn.send({ header: { type: RTM_GETLINK }, data })

  t.is(sent.header.type, RTM_GETLINK)
  t.is(sent.header.length, 16 + data.length)
  t.is(sent.header.flags & HeaderFlags.Request, HeaderFlags.Request)
  t.not(sent.header.sequence, 0)
  t.is(sent.header.pid, conn.pid)
  t.deepEqual(sent.data, data)
})

kernelTest('the reply to send arrives through receive', async (t, ns) => {
  const conn = dialIn(t, ns)
  const sent = await conn.send(getLink(1))

  const reply = await receiveOne(conn)

  t.is(reply.header.type, RTM_NEWLINK)
  t.is(reply.header.sequence, sent.header.sequence)
  t.is(reply.group, 0)
  t.is(reply.port, 0)
  t.is(parseLink(reply).name, 'lo')
})

kernelTest(
  'sendMessages sends several requests and receive yields each reply',
  async (t, ns) => {
    const conn = dialIn(t, ns)

    const sent = await conn.sendMessages([getLink(1), getLink(1)])
    const first = await receiveOne(conn)
    const second = await receiveOne(conn)

    t.is(sent.length, 2)
    t.not(sent[0].header.sequence, sent[1].header.sequence)
    t.deepEqual(
      [first.header.sequence, second.header.sequence],
      sent.map((m) => m.header.sequence),
    )
  },
)

kernelTest('a Conn binds the port ID it is given', async (t, ns) => {
  const pid = 0x7f000000 + Math.floor(Math.random() * 0xffff)

  const conn = dialIn(t, ns, { pid })

  t.is(conn.pid, pid)
  const [reply] = await conn.execute(getLink(1))
  t.is(reply.header.pid, pid)
})

kernelTest('a port ID in use cannot be bound twice', (t, ns) => {
  const pid = 0x7f000000 + Math.floor(Math.random() * 0xffff)
  dialIn(t, ns, { pid })

  const err = t.throws(() => dial(Family.ROUTE, { netns: ns, pid }), {
    instanceOf: NetlinkError,
  })

  t.is(err?.code, 'EADDRINUSE')
  t.is(err?.op, 'dial')
})

kernelTest('the kernel picks a port ID when none is given', (t, ns) => {
  const a = dialIn(t, ns)
  const b = dialIn(t, ns)

  t.true(Number.isInteger(a.pid) && a.pid !== 0)
  t.not(a.pid, b.pid)
})

kernelTest(
  'stats count no dropped messages when only the kernel talks',
  async (t, ns) => {
    const conn = dialIn(t, ns)

    await conn.execute(getLinkDump())
    await Promise.all([1, 2, 3].map(() => conn.execute(getLink(1))))

    const stats = conn.stats()
    t.is(stats.dropped, 0)
    t.is(stats.overruns, 0)
  },
)
