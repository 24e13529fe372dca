/**
 * Received messages read themselves from their batch: what they show
 * must be what the kernel sent, and their plain copies must carry it all.
 */
import { inspect } from 'node:util'

import test from 'ava'

import { HeaderFlags, plainMessage } from '../index'
import type { ReceivedMessage } from '../index'
import { dialFake, multipart } from '../testing'
import { dialIn } from './helpers/conn'
import { kernelTest } from './helpers/netns'
import { RTM_GETLINK, getLinkDump } from './helpers/rtnl'

/** The `nlmsghdr` in the 16 bytes before a received message's data. */
function headerBytes(m: ReceivedMessage) {
  const at = m.data.byteOffset - 16
  const bytes = Buffer.from(m.data.buffer, at, 16)
  return {
    length: bytes.readUInt32LE(0),
    type: bytes.readUInt16LE(4),
    flags: bytes.readUInt16LE(6),
    sequence: bytes.readUInt32LE(8),
    pid: bytes.readUInt32LE(12),
  }
}

kernelTest(
  'each message of a dump shows the header and payload the kernel sent',
  async (t, ns) => {
    const conn = dialIn(t, ns)
    const messages = await conn.execute(getLinkDump())

    t.true(messages.length > 0)
    for (const m of messages) {
      t.deepEqual({ ...m.header }, headerBytes(m as ReceivedMessage))
      t.is(m.data.length, m.header.length - 16)
      t.is(m.header.type, RTM_GETLINK - 2)
    }
  },
)

kernelTest(
  'a message read twice gives the same header and data objects',
  async (t, ns) => {
    const conn = dialIn(t, ns)
    const [m] = await conn.execute(getLinkDump())

    t.is(m.header, m.header)
    t.is(m.data, m.data)
  },
)

kernelTest(
  'plainMessage carries every field through structuredClone',
  async (t, ns) => {
    const conn = dialIn(t, ns)
    const [m] = (await conn.execute(getLinkDump())) as ReceivedMessage[]

    const copy = structuredClone(plainMessage(m))
    t.deepEqual(copy.header, { ...m.header })
    t.deepEqual(Buffer.from(copy.data), Buffer.from(m.data))
    t.is(copy.group, 0)
    t.is(copy.port, 0)
    t.false('nsid' in copy)
  },
)

kernelTest('JSON.stringify of a message shows its fields', async (t, ns) => {
  const conn = dialIn(t, ns)
  const [m] = await conn.execute(getLinkDump())

  const json = JSON.parse(JSON.stringify(m))
  t.deepEqual(json.header, { ...m.header })
  t.deepEqual(json.data, { type: 'Buffer', data: [...m.data] })
  t.is(json.group, 0)
  t.is(json.port, 0)
})

kernelTest('inspect shows a message header and data', async (t, ns) => {
  const conn = dialIn(t, ns)
  const [m] = await conn.execute(getLinkDump())

  const shown = inspect(m)
  t.regex(shown, /^ReceivedMessage \{/)
  t.regex(shown, new RegExp(`type: ${m.header.type}\\b`))
  t.regex(shown, /data: <Buffer /)
})

kernelTest('a header or data set on a message replaces it', async (t, ns) => {
  const conn = dialIn(t, ns)
  const [m] = await conn.execute(getLinkDump())

  const header = { ...m.header, type: 99 }
  m.header = header
  m.data = Buffer.from('x')
  t.is(m.header, header)
  t.deepEqual(m.data, Buffer.from('x'))
  t.is(plainMessage(m as ReceivedMessage).header.type, 99)
})

test('plainMessage keeps the error and nsid a message carries', (t) => {
  const error = new Error('refused')
  const m = {
    header: { length: 16, type: 2, flags: 0, sequence: 1, pid: 0 },
    data: Buffer.alloc(0),
    group: 3,
    port: 0,
    nsid: 7,
    error,
  } as unknown as ReceivedMessage

  const plain = plainMessage(m)
  t.not(plain, m)
  t.deepEqual(plain, m)
})

test('messages from a fake Conn read like the kernel ones', async (t) => {
  const { conn } = dialFake(() =>
    multipart([{ header: { type: 16 }, data: Buffer.from([1, 2, 3, 4]) }]),
  )
  t.teardown(() => conn.close())

  const [m] = await conn.execute(getLinkDump())
  t.is(m.header.type, 16)
  t.is(m.header.flags & HeaderFlags.Multi, HeaderFlags.Multi)
  t.deepEqual([...m.data], [1, 2, 3, 4])
  t.deepEqual({ ...m.header }, headerBytes(m as ReceivedMessage))
})
