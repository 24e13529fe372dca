/**
 * Raw datagrams: NETLINK_KOBJECT_UEVENT carries `ACTION@devpath` strings,
 * not netlink messages, and a Conn delivers them whole. The kernel sends
 * a network device's uevents to the device's own namespace.
 */
import { Family } from '../index'
import { dialIn, receiveUntil } from './helpers/conn'
import { ipIn, kernelTest, uniqueName } from './helpers/netns'

kernelTest(
  'a uevent Conn receives the add event of a new link whole',
  async (t, ns) => {
    const conn = dialIn(t, ns, { groups: 1 }, Family.KOBJECT_UEVENT)
    const name = uniqueName('nlt')
    const devpath = `/devices/virtual/net/${name}`

    ipIn(ns, 'link', 'add', name, 'type', 'bridge')
    const m = await receiveUntil(conn, (m) =>
      m.data.toString('latin1').startsWith(`add@${devpath}\0`),
    )

    const fields = m.data.toString('latin1').split('\0')
    t.true(fields.includes('ACTION=add'), fields.join(' '))
    t.true(fields.includes(`INTERFACE=${name}`), fields.join(' '))
    t.is(m.header.length, m.data.length)
    t.is(m.port, 0)
  },
)
