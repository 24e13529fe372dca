/**
 * Requests made while others are in flight: gathered until the turn's
 * microtasks run, sent in the order they were made, their replies read
 * at once; and dumps take their turn.
 */
import { HeaderFlags, type ReceivedMessage } from '../index'
import { dialIn } from './helpers/conn'
import { ipBatchAsync, kernelTest, uniqueName } from './helpers/netns'
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

kernelTest(
  'dumps started together on one Conn each return every link',
  async (t, ns) => {
    const lines = Array.from(
      { length: 200 },
      (_, i) => `link add p${i}a type veth peer name p${i}b`,
    )
    // In the background: this file's tests share one event loop, and
    // the timer test beside this one counts its turns.
    await ipBatchAsync(ns, lines)
    const conn = dialIn(t, ns)

    // One socket runs one dump at a time; the kernel answers a second
    // with EBUSY unless it waits.
    const dumps = await Promise.all(
      Array.from({ length: 4 }, () => conn.execute(getLinkDump())),
    )

    for (const messages of dumps) {
      t.is(new Set(linkNames(messages)).size, 401)
    }
  },
)

kernelTest(
  'a dump whose execute is aborted while it waits is never sent',
  async (t, ns) => {
    const conn = dialIn(t, ns)
    const aborter = new AbortController()

    const first = conn.execute(getLinkDump())
    const second = conn.execute(getLinkDump(), { signal: aborter.signal })
    aborter.abort()
    const third = conn.execute(getLinkDump())

    const reason = await second.then(
      () => undefined,
      (err: unknown) => err,
    )
    t.is((reason as Error | undefined)?.name, 'AbortError')
    t.deepEqual(linkNames(await first), ['lo'])
    t.deepEqual(linkNames(await third), ['lo'])
    t.is(conn.stats().lateReplies, 0)
  },
)

kernelTest(
  'a queued request too large to send fails alone with EMSGSIZE',
  async (t, ns) => {
    const conn = dialIn(t, ns)
    const huge = {
      header: { type: RTM_GETLINK },
      data: Buffer.concat([ifinfomsg({ index: 1 }), Buffer.alloc(512 << 10)]),
    }

    const [before, large, after] = await Promise.allSettled([
      conn.execute(getLink(1)),
      conn.execute(huge),
      conn.execute(getLink(1)),
    ])

    t.is(before.status, 'fulfilled')
    t.is(after.status, 'fulfilled')
    t.is(large.status, 'rejected')
    if (large.status === 'rejected') t.is(large.reason.code, 'EMSGSIZE')
  },
)

kernelTest(
  'a send made while requests are queued reaches the kernel after them',
  async (t, ns) => {
    const conn = dialIn(t, ns)
    const name = uniqueName('nlt')

    // The second execute is queued behind the first; the dump sent
    // after it must see the bridge it creates.
    const lone = conn.execute(getLink(1))
    const created = conn.execute(newLink(name, 'bridge'))
    const sent = await conn.send(getLinkDump())
    await Promise.all([lone, created])

    const names: string[] = []
    for await (const m of conn.receive()) {
      if (m.header.sequence !== sent.header.sequence) continue
      if (m.header.type !== RTM_GETLINK - 2) break
      names.push(parseLink(m as ReceivedMessage).name ?? '')
    }
    t.true(names.includes(name), `dump saw ${names.join(', ')}`)
  },
)

kernelTest('close rejects executes still queued', async (t, ns) => {
  const conn = dialIn(t, ns)

  // The first is sent at once; the others wait in this turn's queue,
  // some sent when microtasks run, the rest still queued at close.
  const early = Array.from({ length: 50 }, () => conn.execute(getLink(1)))
  await Promise.resolve()
  const late = Array.from({ length: 50 }, () => conn.execute(getLink(1)))
  await conn.close()

  const results = await Promise.allSettled([...early, ...late])
  for (const r of results) {
    if (r.status === 'rejected') t.is(r.reason.code, 'EBADF')
  }
  t.true(results.some((r) => r.status === 'rejected'))
})

kernelTest(
  'gathered requests that ask for acknowledgements get reply and ack each',
  async (t, ns) => {
    const conn = dialIn(t, ns)
    const flags = HeaderFlags.Acknowledge

    // The first goes alone; the other sixty-three in two datagrams, each
    // request answered with a reply and an acknowledgement, read at once.
    const replies = await Promise.all(
      Array.from({ length: 64 }, () => conn.execute(getLink(1, flags))),
    )

    const sequences = new Set<number>()
    for (const messages of replies) {
      t.is(messages.length, 1)
      t.is(parseLink(messages[0]).index, 1)
      sequences.add(messages[0].header.sequence)
    }
    t.is(sequences.size, 64)
  },
)

kernelTest(
  'requests queued on many Conns at once each get their own replies',
  async (t, ns) => {
    const conns = Array.from({ length: 8 }, () => dialIn(t, ns))

    const all = await Promise.all(
      conns.map((conn) =>
        Promise.all(
          Array.from({ length: 100 }, () => conn.execute(getLink(1))),
        ),
      ),
    )

    for (const [i, replies] of all.entries()) {
      for (const [m] of replies) {
        t.is(m.header.pid, conns[i].pid)
        t.is(parseLink(m).index, 1)
      }
    }
  },
)

kernelTest(
  'a loop of awaited executes still lets timers run',
  async (t, ns) => {
    const conn = dialIn(t, ns)
    let ticks = 0
    const timer = setInterval(() => ticks++, 1)
    t.teardown(() => clearInterval(timer))

    // Replies read at once settle without a turn of the event loop;
    // the loop must still get one about every millisecond.
    const until = performance.now() + 300
    let requests = 0
    while (performance.now() < until) {
      await conn.execute(getLink(1))
      requests++
    }

    t.true(requests > 50, `${requests} requests`)
    // Without the turns there are none; a loaded machine delays some.
    t.true(ticks >= 3, `${ticks} ticks in 300 ms`)
  },
)

kernelTest(
  'a request is taken as it was when made, not when its turn sends it',
  async (t, ns) => {
    await ipBatchAsync(ns, ['link add q0 type veth peer name q1'])
    const conn = dialIn(t, ns)
    const indexes = (await conn.execute(getLinkDump()))
      .filter((m) => m.header.type === RTM_NEWLINK)
      .map((m) => parseLink(m).index)
    t.is(indexes.length, 3)

    // One buffer, rewritten between requests gathered in one turn.
    const data = ifinfomsg()
    const replies = indexes.map((index) => {
      data.writeInt32LE(index, 4)
      return conn.execute({ header: { type: RTM_GETLINK }, data })
    })

    const got = (await Promise.all(replies)).map((r) => parseLink(r[0]).index)
    t.deepEqual(got, indexes)
  },
)
