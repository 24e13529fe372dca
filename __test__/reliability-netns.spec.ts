/**
 * The namespace a Conn was opened in is deleted while the Conn is open.
 * `ip netns delete` only removes the name: the socket holds the namespace,
 * which lives on until the Conn closes.
 */
import { NetlinkError } from '../index'
import { caught, dialIn } from './helpers/conn'
import { deleteNetns, kernelTest } from './helpers/netns'
import { RTNLGRP_LINK, getLinkDump, linkNames } from './helpers/rtnl'

kernelTest(
  'a Conn outlives the deletion of its namespace and closes cleanly',
  async (t, ns) => {
    const conn = dialIn(t, ns)
    conn.joinGroup(RTNLGRP_LINK)

    deleteNetns(ns)

    const links = linkNames(await conn.execute(getLinkDump()))
    t.deepEqual(links, ['lo'])
    await conn.close()
    const err = await caught(() => dialIn(t, ns))
    t.true(err instanceof NetlinkError, String(err))
    t.is((err as NetlinkError).code, 'ENOENT')
  },
)
