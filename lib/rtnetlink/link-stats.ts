/**
 * A link's counters: `struct rtnl_link_stats64` (or the 32-bit
 * `struct rtnl_link_stats`). The kernel appends fields over the years, so
 * the struct is read by its length: a field the kernel did not send is
 * left out, and fields it sends beyond these are ignored.
 */
import { readU32, readU64 } from './host-order'

/** Link counters, all bigint. Fields the kernel did not send are absent. */
export interface LinkStats {
  rxPackets?: bigint
  txPackets?: bigint
  rxBytes?: bigint
  txBytes?: bigint
  rxErrors?: bigint
  txErrors?: bigint
  rxDropped?: bigint
  txDropped?: bigint
  multicast?: bigint
  collisions?: bigint
  rxLengthErrors?: bigint
  rxOverErrors?: bigint
  rxCrcErrors?: bigint
  rxFrameErrors?: bigint
  rxFifoErrors?: bigint
  rxMissedErrors?: bigint
  txAbortedErrors?: bigint
  txCarrierErrors?: bigint
  txFifoErrors?: bigint
  txHeartbeatErrors?: bigint
  txWindowErrors?: bigint
  rxCompressed?: bigint
  txCompressed?: bigint
  rxNohandler?: bigint
  rxOtherhostDropped?: bigint
}

/** The counters in the order the struct holds them. */
const FIELDS: readonly (keyof LinkStats)[] = [
  'rxPackets',
  'txPackets',
  'rxBytes',
  'txBytes',
  'rxErrors',
  'txErrors',
  'rxDropped',
  'txDropped',
  'multicast',
  'collisions',
  'rxLengthErrors',
  'rxOverErrors',
  'rxCrcErrors',
  'rxFrameErrors',
  'rxFifoErrors',
  'rxMissedErrors',
  'txAbortedErrors',
  'txCarrierErrors',
  'txFifoErrors',
  'txHeartbeatErrors',
  'txWindowErrors',
  'rxCompressed',
  'txCompressed',
  'rxNohandler',
  'rxOtherhostDropped',
]

/**
 * Decodes as many counters as `b` holds, each `width` bytes (8 for
 * `IFLA_STATS64`, 4 for `IFLA_STATS`), in host byte order.
 */
export function decodeStats(b: Buffer, width: 4 | 8): LinkStats {
  const stats: LinkStats = {}
  const count = Math.min(FIELDS.length, Math.floor(b.length / width))

  for (let i = 0; i < count; i++) {
    const at = i * width
    stats[FIELDS[i]] = width === 8 ? readU64(b, at) : BigInt(readU32(b, at))
  }
  return stats
}
