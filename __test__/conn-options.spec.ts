/**
 * Socket options: strict checking, extended acks, buffer sizes and BPF
 * filters, each seen through what the kernel then does.
 */
import { ConnOption, HeaderFlags, NetlinkError } from '../index'
import { dialIn, receiveOne } from './helpers/conn'
import { ipIn, kernelTest, uniqueName } from './helpers/netns'
import {
  RTM_GETLINK,
  RTM_NEWADDR,
  RTM_NEWLINK,
  RTNLGRP_IPV4_IFADDR,
  RTNLGRP_LINK,
  ifinfomsg,
  newLink,
  parseLink,
} from './helpers/rtnl'

/**
 * A link dump whose `struct ifinfomsg` sets flags: tolerated by default,
 * refused under strict checking.
 */
const sloppyDump = {
  header: { type: RTM_GETLINK, flags: HeaderFlags.Dump },
  data: ifinfomsg({ flags: 1 }),
}

kernelTest('a loose dump request passes without strict', async (t, ns) => {
  const conn = dialIn(t, ns)

  const messages = await conn.execute(sloppyDump)

  t.true(messages.length > 0)
})

kernelTest('strict: true makes the kernel check dumps', async (t, ns) => {
  const conn = dialIn(t, ns, { strict: true })

  const err = await t.throwsAsync(conn.execute(sloppyDump), {
    instanceOf: NetlinkError,
  })

  t.is(err?.code, 'EINVAL')
  t.regex(err?.extAck?.message ?? '', /Invalid values in header/)
})

kernelTest('GetStrictCheck turns strict checking on', async (t, ns) => {
  const conn = dialIn(t, ns)

  conn.setOption(ConnOption.GetStrictCheck, true)
  const err = await t.throwsAsync(conn.execute(sloppyDump), {
    instanceOf: NetlinkError,
  })

  t.is(err?.code, 'EINVAL')
})

kernelTest(
  'without ExtendedAcknowledge an error has no extended-ack message',
  async (t, ns) => {
    const conn = dialIn(t, ns)

    conn.setOption(ConnOption.ExtendedAcknowledge, false)
    const err = await t.throwsAsync(
      conn.execute(newLink('nlt-x', 'nosuchkind')),
      { instanceOf: NetlinkError },
    )

    t.is(err?.code, 'EOPNOTSUPP')
    t.is(err?.extAck?.message, undefined)
  },
)

kernelTest('readBufferSize sets the receive buffer', (t, ns) => {
  const conn = dialIn(t, ns, { readBufferSize: 1 << 20 })

  // The kernel doubles what it is given, for its own bookkeeping.
  t.true(conn.readBuffer() >= 1 << 20, String(conn.readBuffer()))
})

kernelTest('setReadBuffer and setWriteBuffer resize the buffers', (t, ns) => {
  const conn = dialIn(t, ns)

  conn.setReadBuffer(3 << 20)
  conn.setWriteBuffer(3 << 20)

  t.true(conn.readBuffer() >= 3 << 20, String(conn.readBuffer()))
  t.true(conn.writeBuffer() >= 3 << 20, String(conn.writeBuffer()))
})

/**
 * A classic BPF program that keeps RTM_NEWADDR messages and drops the
 * rest. The load reads the header's type big-endian, so the
 * little-endian 20 is seen as 0x1400.
 */
const onlyNewAddr = [
  { code: 0x28, jt: 0, jf: 0, k: 4 }, // ldh [4]
  { code: 0x15, jt: 0, jf: 1, k: RTM_NEWADDR << 8 }, // jeq #0x1400
  { code: 0x06, jt: 0, jf: 0, k: 0xffffffff }, // ret #-1
  { code: 0x06, jt: 0, jf: 0, k: 0 }, // ret #0
]

kernelTest('a BPF filter drops what it does not keep', async (t, ns) => {
  const conn = dialIn(t, ns)
  conn.joinGroup(RTNLGRP_LINK)
  conn.joinGroup(RTNLGRP_IPV4_IFADDR)

  conn.setBPF(onlyNewAddr)
  const name = uniqueName('nlt')
  ipIn(ns, 'link', 'add', name, 'type', 'bridge')
  ipIn(ns, 'address', 'add', '192.0.2.1/24', 'dev', name)
  const first = await receiveOne(conn)

  t.is(first.header.type, RTM_NEWADDR)
})

kernelTest('removeBPF lets every message through again', async (t, ns) => {
  const conn = dialIn(t, ns)
  conn.joinGroup(RTNLGRP_LINK)
  conn.setBPF(onlyNewAddr)

  conn.removeBPF()
  const name = uniqueName('nlt')
  ipIn(ns, 'link', 'add', name, 'type', 'bridge')
  const first = await receiveOne(conn)

  t.is(first.header.type, RTM_NEWLINK)
  t.is(parseLink(first).name, name)
})
