/**
 * The testing entry point: a real Conn over a fake kernel. Nothing here
 * needs a kernel, root or a namespace.
 */
import { AssertionError } from 'node:assert'
import { endianness } from 'node:os'
import {
  setImmediate as nextTurn,
  setTimeout as sleep,
} from 'node:timers/promises'

import test, { type ExecutionContext } from 'ava'
import {
  ConnOption,
  Family,
  HeaderFlags,
  HeaderType,
  NetlinkError,
  marshalMessage,
  type Message,
  type MessageInit,
} from '../index'
import type { ExtAckJs } from '../binding'
import { Field, Kind, RECORD_LEN } from '../lib/batch'
import { callNative } from '../lib/native'
import { FakeTransport } from '../lib/testing/transport'
import {
  FAKE_PID,
  ack,
  checkRequest,
  dialFake,
  done,
  errorReply,
  multipart,
  type Fake,
  type FakeOptions,
  type Handler,
  type Reply,
} from '../testing'

const RTM_NEWLINK = 16
const RTM_GETLINK = 18

const getLink: MessageInit = { header: { type: RTM_GETLINK } }
const dumpLinks: MessageInit = {
  header: { type: RTM_GETLINK, flags: HeaderFlags.Dump },
}

/** A fake whose Conn is closed when the test ends. */
function fake(
  t: ExecutionContext,
  handler: Handler,
  options?: FakeOptions,
): Fake {
  const f = dialFake(handler, options)
  t.teardown(() => f.conn.close())
  return f
}

/** An RTM_NEWLINK whose payload is `name`, to tell replies apart. */
function link(name: string): MessageInit {
  return { header: { type: RTM_NEWLINK }, data: Buffer.from(name) }
}

function names(messages: Message[]): string[] {
  return messages.map((m) => m.data.toString())
}

function readI32(buf: Buffer): number {
  return endianness() === 'BE' ? buf.readInt32BE(0) : buf.readInt32LE(0)
}

test('execute resolves with the reply the handler returns', async (t) => {
  const { conn } = fake(t, () => link('lo'))

  const replies = await conn.execute(getLink)

  t.deepEqual(names(replies), ['lo'])
  t.is(replies[0].header.type, RTM_NEWLINK)
})

test('the handler sees the request with sequence, pid and Request filled in', async (t) => {
  const seen: Message[] = []
  const { conn } = fake(t, (request) => {
    seen.push(request)
    return link('lo')
  })

  const [reply] = await conn.execute({ ...getLink, data: Buffer.from([7]) })

  const { header, data } = seen[0]
  t.is(conn.pid, FAKE_PID)
  t.is(header.pid, conn.pid)
  t.true(header.sequence > 0)
  t.is(header.flags & HeaderFlags.Request, HeaderFlags.Request)
  t.deepEqual(data, Buffer.from([7]))
  t.is(reply.header.sequence, header.sequence)
  t.is(reply.header.pid, header.pid)
})

test('a reply without a type takes the request type', async (t) => {
  const { conn } = fake(t, () => ({ data: Buffer.from('x') }))

  const [reply] = await conn.execute(getLink)

  t.is(reply.header.type, RTM_GETLINK)
})

test('the port ID is configurable, and config.pid wins', (t) => {
  t.is(fake(t, () => null, { pid: 77 }).conn.pid, 77)
  t.is(fake(t, () => null, { pid: 77, config: { pid: 88 } }).conn.pid, 88)
})

test('a multipart reply over several batches resolves with every part in order', async (t) => {
  const parts = ['a', 'b', 'c', 'd', 'e']
  const { conn } = fake(t, () => multipart(parts.map(link), { batches: 3 }))

  const replies = await conn.execute(dumpLinks)

  t.deepEqual(names(replies), parts)
  t.false(replies.some((m) => m.header.type === HeaderType.Done))
  t.true(replies.every((m) => (m.header.flags & HeaderFlags.Multi) !== 0))
  t.like(conn.stats(), { batches: 3, datagrams: 3 })
})

const splits = [
  { parts: 0, batches: undefined, want: [['DONE']] },
  { parts: 1, batches: undefined, want: [['0', 'DONE']] },
  { parts: 2, batches: undefined, want: [['0'], ['1', 'DONE']] },
  {
    parts: 5,
    batches: undefined,
    want: [
      ['0', '1', '2'],
      ['3', '4', 'DONE'],
    ],
  },
  { parts: 4, batches: 3, want: [['0'], ['1', '2'], ['3', 'DONE']] },
  { parts: 3, batches: 4, want: [['0'], ['1'], ['2'], ['DONE']] },
  { parts: 3, batches: 1, want: [['0', '1', '2', 'DONE']] },
]

function count(n: number, noun: string): string {
  const plural = noun.endsWith('h') ? `${noun}es` : `${noun}s`
  return `${n} ${n === 1 ? noun : plural}`
}

/** A message of a multipart reply as its payload, or `DONE`. */
function label(m: MessageInit): string {
  if (m.header?.type === HeaderType.Done) return 'DONE'
  return Buffer.from(m.data ?? []).toString()
}

for (const { parts, batches, want } of splits) {
  const how = batches === undefined ? ' by default' : ''
  const title =
    `multipart spreads ${count(parts, 'part')} and the DONE` +
    ` over ${count(want.length, 'batch')}${how}`

  test(title, (t) => {
    const messages = Array.from({ length: parts }, (_, i) => link(String(i)))

    const reply = multipart(messages, { batches })

    const got = reply.batches.map((b) => b.map((m) => label(m as MessageInit)))
    t.deepEqual(got, want)
  })
}

test('multipart refuses more batches than its messages and DONE', (t) => {
  t.throws(() => multipart([link('a')], { batches: 3 }), {
    instanceOf: RangeError,
    message: /options\.batches/,
  })
})

test('an error reply rejects with its errno and extended acknowledgement', async (t) => {
  const { conn } = fake(t, () =>
    errorReply('ENODEV', {
      message: 'no such link',
      offset: 20,
      missingType: 3,
    }),
  )

  const err = await t.throwsAsync(conn.execute(getLink), {
    instanceOf: NetlinkError,
  })

  t.is(err?.code, 'ENODEV')
  t.is(err?.errno, 19)
  t.is(err?.op, 'execute')
  t.regex(err?.message ?? '', /no such link/)
  t.deepEqual(err?.extAck, {
    message: 'no such link',
    offset: 20,
    missingType: 3,
  })
})

test('an error without extended acknowledgement fields carries none', async (t) => {
  const { conn } = fake(t, () => errorReply(1))

  const err = await t.throwsAsync(conn.execute(getLink), {
    instanceOf: NetlinkError,
  })

  t.is(err?.code, 'EPERM')
  t.is(err?.extAck, undefined)
})

test('with ExtendedAcknowledge off an error loses its extended acknowledgement', async (t) => {
  const { conn } = fake(t, () => errorReply('ENODEV', { message: 'gone' }))
  conn.setOption(ConnOption.ExtendedAcknowledge, false)

  const err = await t.throwsAsync(conn.execute(getLink), {
    instanceOf: NetlinkError,
  })

  t.is(err?.code, 'ENODEV')
  t.is(err?.extAck, undefined)
})

const badErrnos = [
  { errno: 'ENOPE', error: RangeError },
  { errno: 0, error: RangeError },
  { errno: -19, error: RangeError },
  { errno: 5000, error: RangeError },
  { errno: 1.5, error: TypeError },
]

for (const { errno, error } of badErrnos) {
  test(`errorReply refuses ${JSON.stringify(errno)} as an errno`, (t) => {
    t.throws(() => errorReply(errno), {
      instanceOf: error,
      message: /errno/,
    })
  })
}

const echoes = [
  {
    name: 'an error echoes the whole request',
    reply: errorReply('EINVAL', { message: 'bad' }),
    cap: false,
    errno: -22,
    capped: false,
  },
  {
    name: 'with CapAcknowledge an error echoes only the request header',
    reply: errorReply('EINVAL', { message: 'bad' }),
    cap: true,
    errno: -22,
    capped: true,
  },
  {
    name: 'an acknowledgement echoes only the request header',
    reply: ack(),
    cap: false,
    errno: 0,
    capped: true,
  },
]

for (const { name, reply, cap, errno, capped } of echoes) {
  test(name, async (t) => {
    const { conn } = fake(t, () => reply)
    if (cap) conn.setOption(ConnOption.CapAcknowledge, true)
    const sent = await conn.send({ ...getLink, data: Buffer.alloc(8, 1) })

    const { value } = await conn.receive().next()

    const request = marshalMessage(sent)
    const echo = capped ? request.subarray(0, 16) : request
    t.is(value.header.type, HeaderType.Error)
    t.is(value.header.sequence, sent.header.sequence)
    t.is((value.header.flags & HeaderFlags.Capped) !== 0, capped)
    t.is(readI32(value.data), errno)
    t.deepEqual(value.data.subarray(4, 4 + echo.length), echo)
  })
}

test('an error that goes to receive() carries its NetlinkError', async (t) => {
  const { conn } = fake(t, () => errorReply('EEXIST', { message: 'taken' }))
  await conn.send(link('x'))

  const { value } = await conn.receive().next()

  t.is(value.error?.code, 'EEXIST')
  t.is(value.error?.extAck?.message, 'taken')
  const tlvs = HeaderFlags.AcknowledgeTLVs
  t.is(value.header.flags & tlvs, tlvs)
})

test('messages then an acknowledgement resolve with the messages', async (t) => {
  const { conn } = fake(t, () => [link('a'), link('b'), ack()])

  const replies = await conn.execute({
    header: { type: RTM_GETLINK, flags: HeaderFlags.Acknowledge },
  })

  t.deepEqual(names(replies), ['a', 'b'])
})

test('a DONE with an errno rejects the dump with it', async (t) => {
  const part = {
    ...link('a'),
    header: { type: RTM_NEWLINK, flags: HeaderFlags.Multi },
  }
  const { conn } = fake(t, () => [part, done('EINTR')])

  const err = await t.throwsAsync(conn.execute(dumpLinks), {
    instanceOf: NetlinkError,
  })

  t.is(err?.code, 'EINTR')
})

test('an ERROR too short for its echo fails the execute as malformed', async (t) => {
  const { conn } = fake(t, () => ({
    header: { type: HeaderType.Error },
    data: Buffer.alloc(4),
  }))

  const err = await t.throwsAsync(conn.execute(getLink), {
    instanceOf: NetlinkError,
  })

  t.is(err?.code, 'EBADMSG')
  t.is(conn.stats().malformed, 1)
})

test('a request with no reply rejects with AbortError when its signal aborts', async (t) => {
  const { conn, requests } = fake(t, () => null)
  const controller = new AbortController()

  const pending = conn.execute(getLink, { signal: controller.signal })
  await nextTurn()
  controller.abort()

  // The reason is a DOMException, which ava does not take for an Error.
  const reason = await pending.then(
    () => undefined,
    (err: unknown) => err,
  )
  t.is((reason as Error | undefined)?.name, 'AbortError')
  t.is(requests.length, 1)
})

test('notify reaches receive() only once the Conn joined the group', async (t) => {
  const { conn, notify } = fake(t, () => null)

  notify(5, link('before'))
  conn.joinGroup(5)
  notify(5, link('after'))

  const { value } = await conn.receive().next()
  t.is(value.data.toString(), 'after')
  t.is(value.group, 5)
  t.is(value.port, 0)
})

test('notify reaches groups of config.groups until they are left', async (t) => {
  const { conn, notify } = fake(t, () => null, { config: { groups: 1 << 2 } })
  const messages = conn.receive()

  notify(3, link('joined at dial'))
  const first = await messages.next()
  conn.leaveGroup(3)
  conn.joinGroup(4)
  notify(3, link('left'))
  notify(4, link('other'))
  const second = await messages.next()

  t.is(first.value.data.toString(), 'joined at dial')
  t.is(first.value.group, 3)
  t.is(second.value.data.toString(), 'other')
})

test('in raw mode notify delivers the data alone, as a uevent', async (t) => {
  const uevent = Buffer.from('add@/devices/x\0ACTION=add\0')
  const { conn, notify } = fake(t, () => null, {
    family: Family.KOBJECT_UEVENT,
    config: { groups: 1 },
  })

  notify(1, { data: uevent })

  const { value } = await conn.receive().next()
  t.deepEqual(value.data, uevent)
  t.is(value.group, 1)
})

test('concurrent executes are routed by sequence when answered out of order', async (t) => {
  const delays: Record<string, number> = { a: 30, b: 5, c: 15 }
  const answered: string[] = []
  const { conn } = fake(t, async (request) => {
    const name = request.data.toString()
    await sleep(delays[name])
    answered.push(name)
    return link(name)
  })

  const replies = await Promise.all(
    ['a', 'b', 'c'].map((n) =>
      conn.execute({ ...getLink, data: Buffer.from(n) }),
    ),
  )

  t.deepEqual(replies.map(names), [['a'], ['b'], ['c']])
  t.deepEqual(answered, ['b', 'c', 'a'])
})

/** What a Conn opens a transport with, as for a plain ROUTE dial. */
const openOptions = {
  family: Family.ROUTE,
  pid: 0,
  groups: 0,
  strict: false,
  acceptUserspace: false,
  raw: false,
}

/** A batch as the fake transport hands it over. */
interface Delivered {
  data: Buffer
  records: Uint32Array
  acks: ExtAckJs[]
}

/** What a bare transport delivered for one datagram, and when. */
interface Deliveries {
  /** Batches delivered before `send` returned. */
  inSend: number
  /** Batches delivered before the microtasks after `send` ran out. */
  inMicrotasks: number
  batches: Delivered[]
}

/** Sends `datagram` on a bare transport; resolves with what it delivers. */
async function deliveredFor(
  handler: Handler,
  datagram: Buffer,
): Promise<Deliveries> {
  const batches: Delivered[] = []
  const onBatch = (data: Buffer, records: Uint32Array, acks: ExtAckJs[]) => {
    batches.push({ data, records, acks })
  }
  const transport = new FakeTransport(openOptions, onBatch, handler)

  transport.send(datagram)
  const inSend = batches.length
  for (let i = 0; i < 100; i++) await null
  const inMicrotasks = batches.length
  await sleep(10)
  return { inSend, inMicrotasks, batches }
}

test('the fake delivers replies in a later event-loop turn', async (t) => {
  const header = { type: RTM_GETLINK, flags: 1, sequence: 3, pid: 9 }

  const got = await deliveredFor(() => link('lo'), marshalMessage({ header }))

  t.is(got.inSend, 0)
  t.is(got.inMicrotasks, 0)
  t.is(got.batches.length, 1)
})

test('an error reply is recorded as the binding records it', async (t) => {
  const header = { type: RTM_GETLINK, flags: 1, sequence: 3, pid: 9 }
  const reply = errorReply('ENODEV', { message: 'gone' })

  const got = await deliveredFor(() => reply, marshalMessage({ header }))

  const { data, records, acks } = got.batches[0]
  t.is(records.length, RECORD_LEN)
  t.is(records[Field.Kind], Kind.Message)
  t.is(records[Field.Offset], 0)
  t.is(records[Field.Length], data.length)
  t.is(records[Field.TypeFlags] & 0xffff, HeaderType.Error)
  t.is(records[Field.Sequence], 3)
  t.is(records[Field.Pid], 9)
  t.is(records[Field.Group], 0)
  t.is(records[Field.Errno], 19)
  t.is(records[Field.ExtAck], 1)
  t.deepEqual(acks, [{ message: 'gone' }])
})

const request: Message = {
  header: {
    length: 16,
    type: RTM_GETLINK,
    flags: HeaderFlags.Request | HeaderFlags.Dump,
    sequence: 7,
    pid: 1,
  },
  data: Buffer.alloc(0),
}

const passing = [
  { name: 'its type', types: RTM_GETLINK, flags: undefined },
  {
    name: 'one of its types',
    types: [RTM_NEWLINK, RTM_GETLINK],
    flags: undefined,
  },
  { name: 'its type and flags', types: RTM_GETLINK, flags: HeaderFlags.Dump },
  {
    name: 'a subset of its flags',
    types: RTM_GETLINK,
    flags: HeaderFlags.Root,
  },
]

for (const { name, types, flags } of passing) {
  test(`checkRequest passes a request with ${name}`, (t) => {
    t.notThrows(() => checkRequest(request, types, flags))
  })
}

const failing = [
  {
    name: 'another type',
    types: RTM_NEWLINK,
    flags: undefined,
    message: 'request seq=7 has type 18, want 16',
  },
  {
    name: 'none of the types',
    types: [16, 17],
    flags: undefined,
    message: 'request seq=7 has type 18, want one of 16, 17',
  },
  {
    name: 'a flag missing',
    types: RTM_GETLINK,
    flags: HeaderFlags.Acknowledge | HeaderFlags.Dump,
    message:
      'request seq=7 has flags request|dump, want ack|dump' + ' (missing ack)',
  },
  {
    name: 'both wrong',
    types: RTM_NEWLINK,
    flags: HeaderFlags.Echo,
    message:
      'request seq=7 has type 18, want 16 and flags request|dump,' +
      ' want echo (missing echo)',
  },
]

for (const { name, types, flags, message } of failing) {
  test(`checkRequest fails a request with ${name}, saying so`, (t) => {
    t.throws(() => checkRequest(request, types, flags), {
      instanceOf: AssertionError,
      code: 'ERR_ASSERTION',
      message,
    })
  })
}

test('a checkRequest failing in the handler rejects the execute', async (t) => {
  const { conn, handlerErrors } = fake(t, (r) => {
    checkRequest(r, RTM_NEWLINK)
    return link('never')
  })

  const err = await t.throwsAsync(conn.execute(getLink), {
    instanceOf: NetlinkError,
  })

  t.is(err?.code, 'EIO')
  t.regex(err?.message ?? '', /handler failed: request seq=\d+ has type 18/)
  t.true(handlerErrors[0] instanceof AssertionError)
})

const failures: Array<{ name: string; handler: Handler; message: RegExp }> = [
  {
    name: 'throws',
    handler: () => {
      throw new Error('boom')
    },
    message: /handler failed: boom$/,
  },
  {
    name: 'rejects',
    handler: async () => {
      await nextTurn()
      throw new Error('late boom')
    },
    message: /handler failed: late boom$/,
  },
  {
    name: 'returns a message with an unknown key',
    handler: () => ({ type: RTM_NEWLINK }) as unknown as Reply,
    message: /handler failed: reply has an unknown option type/,
  },
  {
    name: 'returns undefined',
    handler: () => undefined as unknown as Reply,
    message: /handler failed: reply is undefined/,
  },
  {
    name: 'returns an empty array',
    handler: () => [],
    message: /handler failed: reply is an empty array/,
  },
  {
    name: 'returns a header field out of range',
    handler: () => ({ header: { type: 0x10000 } }),
    message: /handler failed: header\.type out of range/,
  },
]

for (const { name, handler, message } of failures) {
  test(`a handler that ${name} fails the execute with EIO`, async (t) => {
    const { conn, handlerErrors } = fake(t, handler)

    const err = await t.throwsAsync(conn.execute(getLink), {
      instanceOf: NetlinkError,
    })

    t.is(err?.code, 'EIO')
    t.regex(err?.message ?? '', message)
    t.is(handlerErrors.length, 1)
  })
}

test('close rejects pending executes with EBADF', async (t) => {
  const { conn } = dialFake(() => null)
  const pending = conn.execute(getLink)

  await conn.close()

  const err = await t.throwsAsync(pending, { instanceOf: NetlinkError })
  t.is(err?.code, 'EBADF')
})

test('a closed fake transport refuses to send as the binding does', (t) => {
  const transport = new FakeTransport(
    openOptions,
    () => {},
    () => null,
  )
  transport.close()

  const err = t.throws(
    () => callNative('send', () => transport.send(Buffer.alloc(16))),
    { instanceOf: NetlinkError },
  )

  t.is(err?.code, 'EBADF')
  t.is(err?.op, 'send')
})

test('requests records every message sent, sendMessages included', async (t) => {
  const { conn, requests } = fake(t, (r) =>
    r.header.type === RTM_GETLINK ? link('reply') : null,
  )

  const executed = conn.execute({ ...getLink, data: Buffer.from('get') })
  t.is(requests.length, 1)
  await conn.send(link('one'))
  await conn.sendMessages([link('two'), link('three')])
  await executed

  t.deepEqual(names(requests), ['get', 'one', 'two', 'three'])
  t.is(requests[3].header.sequence, requests[2].header.sequence + 1)
})

test('buffer sizes read back doubled, as the kernel reports them', (t) => {
  const { conn } = fake(t, () => null, { config: { readBufferSize: 1000 } })

  const before = conn.readBuffer()
  conn.setReadBuffer(3000)
  conn.setWriteBuffer(500)

  t.is(before, 2000)
  t.is(conn.readBuffer(), 6000)
  t.is(conn.writeBuffer(), 1000)
})
