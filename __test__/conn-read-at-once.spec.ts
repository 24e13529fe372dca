/**
 * Replies read at once, inside `execute`, share memory with the replies
 * read after them: what was handed out must never be written again.
 */
import type { Message } from '../index'
import { dialIn } from './helpers/conn'
import { ipBatch, kernelTest } from './helpers/netns'
import { RTM_NEWLINK, getLink, getLinkDump, parseLink } from './helpers/rtnl'

/** Sequential round trips: enough to fill that memory many times over. */
const ROUND_TRIPS = 600

kernelTest(
  'replies read at once stay as they arrived while later ones are read',
  async (t, ns) => {
    ipBatch(
      ns,
      Array.from(
        { length: 20 },
        (_, i) => `link add r${i}a type veth peer name r${i}b`,
      ),
    )
    const conn = dialIn(t, ns)
    const indexes = (await conn.execute(getLinkDump()))
      .filter((m) => m.header.type === RTM_NEWLINK)
      .map((m) => parseLink(m).index)
    t.is(indexes.length, 41)

    // Each reply is copied as it arrives and compared once all are in:
    // a reply whose memory was written by a later one would differ.
    const held: { index: number; reply: Message; copy: Buffer }[] = []
    for (let i = 0; i < ROUND_TRIPS; i++) {
      const index = indexes[i % indexes.length]
      const [reply] = await conn.execute(getLink(index))
      held.push({ index, reply, copy: Buffer.from(reply.data) })
    }

    let changed = 0
    for (const { index, reply, copy } of held) {
      if (parseLink(reply).index !== index) changed++
      else if (!reply.data.equals(copy)) changed++
    }
    t.is(changed, 0)
  },
)
