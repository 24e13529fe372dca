/**
 * Hostile peers: another local socket unicasting forged replies to a
 * Conn's port, with the sequence number of a request in flight and the
 * Conn's own port ID in the header. Only the kernel's messages (source
 * port 0) can answer a request; the rest are dropped and counted, or
 * with `acceptUserspace` delivered to `receive()` as what they are.
 */
import { execFileSync } from 'node:child_process'
import type { ExecutionContext } from 'ava'
import type { Conn, ReceivedMessage } from '../index'
import { HeaderType } from '../index'
import { caught, dialIn, receiveUntil } from './helpers/conn'
import { kernelTest } from './helpers/netns'
import { RTM_GETLINK, RTM_NEWLINK } from './helpers/rtnl'

/**
 * Sends, from a NETLINK_ROUTE socket of its own, three forged datagrams
 * to `port`: an acknowledgement, a new-link message and a DONE, each
 * carrying `sequence` and `pid`. Python is the one tool at hand that
 * opens a netlink socket and addresses another port.
 */
const FORGER = `
import socket, struct, sys
port, sequence, pid = map(int, sys.argv[1:4])
s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)
s.bind((0, 0))
def header(length, kind, flags):
    return struct.pack('=IHHII', length, kind, flags, sequence, pid)
ack = header(36, 2, 0) + struct.pack('=i', 0) + header(16, 1, 1)
link = header(32, 16, 0) + bytes(16)
done = header(20, 3, 2) + struct.pack('=i', 0)
for m in (ack, link, done):
    s.sendto(m, (port, 0))
`

const FORGED = 3
const SEQUENCE = 0x5eed

function python(): string | undefined {
  try {
    execFileSync('python3', ['-c', 'import socket; socket.AF_NETLINK'])
    return undefined
  } catch {
    return 'python3 with AF_NETLINK is needed to forge replies'
  }
}

const noPython = python()

function forge(ns: string, conn: Conn): void {
  const args = [String(conn.pid), String(SEQUENCE), String(conn.pid)]
  execFileSync('ip', ['netns', 'exec', ns, 'python3', '-c', FORGER, ...args])
}

/**
 * Starts an execute that only a forgery could answer: `NLMSG_NOOP`,
 * which the kernel never answers, with the forged sequence number.
 */
function bait(conn: Conn, signal: AbortSignal): Promise<unknown> {
  const request = { header: { type: HeaderType.Noop, sequence: SEQUENCE } }
  return caught(() => conn.execute(request, { signal }))
}

/**
 * Sends a real request with `send` and reads `receive()` until its
 * reply: the kernel's reply comes after the forgeries, so every forged
 * datagram has been dealt with when it is back.
 */
async function kernelReply(
  conn: Conn,
  seen: ReceivedMessage[],
): Promise<ReceivedMessage> {
  const lo = Buffer.alloc(16)
  lo.writeInt32LE(1, 4)
  const sent = await conn.send({ header: { type: RTM_GETLINK }, data: lo })
  return receiveUntil(conn, (m) => {
    seen.push(m)
    return m.header.sequence === sent.header.sequence && m.port === 0
  })
}

async function expectUnanswered(
  t: ExecutionContext,
  pending: Promise<unknown>,
  abort: AbortController,
): Promise<void> {
  abort.abort()
  const err = (await pending) as Error
  t.is(err.name, 'AbortError', 'a forgery answered the execute')
}

kernelTest.requiring(
  noPython,
  'forged replies never answer an execute and are counted as dropped',
  async (t, ns) => {
    const conn = dialIn(t, ns)
    const abort = new AbortController()
    const pending = bait(conn, abort.signal)

    forge(ns, conn)
    const seen: ReceivedMessage[] = []
    const reply = await kernelReply(conn, seen)

    t.is(reply.header.type, RTM_NEWLINK)
    t.deepEqual(seen, [reply], 'a forged message reached receive()')
    t.is(conn.stats().dropped, FORGED)
    await expectUnanswered(t, pending, abort)
  },
)

kernelTest.requiring(
  noPython,
  'with acceptUserspace forged replies reach receive() with their port',
  async (t, ns) => {
    const conn = dialIn(t, ns, { acceptUserspace: true })
    const abort = new AbortController()
    const pending = bait(conn, abort.signal)

    forge(ns, conn)
    const seen: ReceivedMessage[] = []
    await kernelReply(conn, seen)

    const forged = seen.slice(0, -1)
    t.deepEqual(
      forged.map((m) => m.header.type),
      [HeaderType.Error, RTM_NEWLINK, HeaderType.Done],
    )
    for (const m of forged) {
      t.not(m.port, 0, 'a forged message passed for the kernel')
      t.is(m.header.sequence, SEQUENCE)
    }
    t.is(conn.stats().dropped, 0)
    await expectUnanswered(t, pending, abort)
  },
)
