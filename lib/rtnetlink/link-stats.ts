/**
 * A link's counters: `struct rtnl_link_stats64` (or the 32-bit
 * `struct rtnl_link_stats`). The kernel appends fields over the years, so
 * the struct is read by its length: a field the kernel did not send is
 * left out, and fields it sends beyond these are ignored.
 */
import { readU32, readU64 } from '../host-order'

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

/** The counters of the struct being decoded, before they go in an object. */
const read: bigint[] = FIELDS.map(() => 0n)

/**
 * Decodes as many counters as the bytes of `b` from `at` to `end` hold,
 * each `width` bytes (8 for `IFLA_STATS64`, 4 for `IFLA_STATS`), in host
 * byte order.
 */
export function decodeStats(
  b: Buffer,
  at: number,
  end: number,
  width: 4 | 8,
): LinkStats {
  // One loop reads them all: written out 25 times, the reader would be a
  // call each time, V8 inlining only so much into one function.
  const count = Math.min(FIELDS.length, Math.floor((end - at) / width))
  for (let i = 0; i < count; i++) {
    if (width === 8) {
      read[i] = readU64(b, at + i * 8)
    } else {
      const n = readU32(b, at + i * 4)
      read[i] = n === 0 ? 0n : BigInt(n)
    }
  }
  if (count === FIELDS.length) return allOf(read)

  const stats: LinkStats = {}
  for (let i = 0; i < count; i++) stats[FIELDS[i]] = read[i]
  return stats
}

/**
 * Every counter, written out as one literal: an object given its fields
 * one by one under computed names goes slow in V8 past a few dozen, and
 * a dump makes one per link.
 */
function allOf(n: readonly bigint[]): LinkStats {
  return {
    rxPackets: n[0],
    txPackets: n[1],
    rxBytes: n[2],
    txBytes: n[3],
    rxErrors: n[4],
    txErrors: n[5],
    rxDropped: n[6],
    txDropped: n[7],
    multicast: n[8],
    collisions: n[9],
    rxLengthErrors: n[10],
    rxOverErrors: n[11],
    rxCrcErrors: n[12],
    rxFrameErrors: n[13],
    rxFifoErrors: n[14],
    rxMissedErrors: n[15],
    txAbortedErrors: n[16],
    txCarrierErrors: n[17],
    txFifoErrors: n[18],
    txHeartbeatErrors: n[19],
    txWindowErrors: n[20],
    rxCompressed: n[21],
    txCompressed: n[22],
    rxNohandler: n[23],
    rxOtherhostDropped: n[24],
  }
}
