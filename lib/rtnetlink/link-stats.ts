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
  const count = Math.min(FIELDS.length, Math.floor(b.length / width))
  const at = (i: number) =>
    width === 8 ? readU64(b, i * 8) : BigInt(readU32(b, i * 4))
  if (count === FIELDS.length) return allOf(at)

  const stats: LinkStats = {}
  for (let i = 0; i < count; i++) stats[FIELDS[i]] = at(i)
  return stats
}

/**
 * Every counter, written out as one literal: an object given its fields
 * one by one under computed names goes slow in V8 past a few dozen, and
 * a dump makes one per link.
 */
function allOf(at: (i: number) => bigint): LinkStats {
  return {
    rxPackets: at(0),
    txPackets: at(1),
    rxBytes: at(2),
    txBytes: at(3),
    rxErrors: at(4),
    txErrors: at(5),
    rxDropped: at(6),
    txDropped: at(7),
    multicast: at(8),
    collisions: at(9),
    rxLengthErrors: at(10),
    rxOverErrors: at(11),
    rxCrcErrors: at(12),
    rxFrameErrors: at(13),
    rxFifoErrors: at(14),
    rxMissedErrors: at(15),
    txAbortedErrors: at(16),
    txCarrierErrors: at(17),
    txFifoErrors: at(18),
    txHeartbeatErrors: at(19),
    txWindowErrors: at(20),
    rxCompressed: at(21),
    txCompressed: at(22),
    rxNohandler: at(23),
    rxOtherhostDropped: at(24),
  }
}
