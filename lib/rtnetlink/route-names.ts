/**
 * A route's numbers: the sizes of its structs, its attribute types, and
 * the words iproute2 uses for its values: protocols (its `rt_protos`
 * file), scopes, types and flags, and the metrics of `RTA_METRICS`.
 * Rules share the protocol and table names.
 */
import type { BitTable, NameTable } from './enum'

/** Size of `struct rtmsg`. */
export const RTMSG = 12
/** Size of `struct rtnexthop`. */
export const RTNEXTHOP = 8

/** `RTA_DST`: destination prefix. */
export const RTA_DST = 1
/** `RTA_SRC`: source prefix. */
export const RTA_SRC = 2
/** `RTA_IIF`: input link index. */
export const RTA_IIF = 3
/** `RTA_OIF`: output link index. */
export const RTA_OIF = 4
/** `RTA_GATEWAY`: gateway of the route's family. */
export const RTA_GATEWAY = 5
/** `RTA_PRIORITY`: metric. */
export const RTA_PRIORITY = 6
/** `RTA_PREFSRC`: preferred source address. */
export const RTA_PREFSRC = 7
/** `RTA_METRICS`: nested `RTAX_*` metrics. */
export const RTA_METRICS = 8
/** `RTA_MULTIPATH`: `struct rtnexthop`s. */
export const RTA_MULTIPATH = 9
/** `RTA_CACHEINFO`: `struct rta_cacheinfo`. */
export const RTA_CACHEINFO = 12
/** `RTA_TABLE`: table, u32. */
export const RTA_TABLE = 15
/** `RTA_MARK`: firewall mark of a lookup. */
export const RTA_MARK = 16
/** `RTA_VIA`: gateway of another family (`struct rtvia`). */
export const RTA_VIA = 18
/** `RTA_PREF`: IPv6 router preference. */
export const RTA_PREF = 20
/** `RTA_NH_ID`: the id of a next-hop object (`ip nexthop`). */
export const RTA_NH_ID = 30

/** `RTPROT_*`, named as in iproute2's `rt_protos`. */
export const PROTOCOLS: NameTable = {
  0: 'unspec',
  1: 'redirect',
  2: 'kernel',
  3: 'boot',
  4: 'static',
  8: 'gated',
  9: 'ra',
  10: 'mrt',
  11: 'zebra',
  12: 'bird',
  13: 'dnrouted',
  14: 'xorp',
  15: 'ntk',
  16: 'dhcp',
  17: 'mrouted',
  18: 'keepalived',
  42: 'babel',
  99: 'openr',
  186: 'bgp',
  187: 'isis',
  188: 'ospf',
  189: 'rip',
  192: 'eigrp',
}

/** `RT_SCOPE_*`, named as `ip` prints them (0 is `'global'`). */
export const SCOPES: NameTable = {
  0: 'global',
  200: 'site',
  253: 'link',
  254: 'host',
  255: 'nowhere',
}

/** `RTN_*`: route types. */
export const TYPES: NameTable = {
  0: 'unspec',
  1: 'unicast',
  2: 'local',
  3: 'broadcast',
  4: 'anycast',
  5: 'multicast',
  6: 'blackhole',
  7: 'unreachable',
  8: 'prohibit',
  9: 'throw',
  10: 'nat',
  11: 'xresolve',
}

/** `ICMPV6_ROUTER_PREF_*`: an IPv6 route's preference (`RTA_PREF`). */
export const PREFERENCES: NameTable = {
  0: 'medium',
  1: 'high',
  2: 'invalid',
  3: 'low',
}

/** `RT_TABLE_*`: the tables with names; others go by number. */
export const TABLES: NameTable = {
  253: 'default',
  254: 'main',
  255: 'local',
}

/** `RT_TABLE_MAIN`: the main table, where routes go by default. */
export const RT_TABLE_MAIN = 254
/** `RTPROT_BOOT`: the protocol of routes added by hand. */
export const RTPROT_BOOT = 3
/** `RT_SCOPE_UNIVERSE`: global scope. */
export const RT_SCOPE_UNIVERSE = 0
/** `RT_SCOPE_LINK`: destinations on an attached link. */
export const RT_SCOPE_LINK = 253
/** `RT_SCOPE_HOST`: this host's own addresses. */
export const RT_SCOPE_HOST = 254
/** `RT_SCOPE_NOWHERE`: no destination; a delete matches any. */
export const RT_SCOPE_NOWHERE = 255
/** `RTN_UNICAST`: a route to a gateway or a direct one. */
export const RTN_UNICAST = 1

/** `RTNH_F_*`: flags of a next hop, also the low byte of `rtm_flags`. */
export const NEXTHOP_FLAGS: BitTable = [
  [0x1, 'dead'],
  [0x2, 'pervasive'],
  [0x4, 'onlink'],
  [0x8, 'offload'],
  [0x10, 'linkdown'],
  [0x20, 'unresolved'],
  [0x40, 'trap'],
]

/** `RTM_F_*` and `RTNH_F_*`: the flags of `rtm_flags`. */
export const ROUTE_FLAGS: BitTable = [
  ...NEXTHOP_FLAGS,
  [0x100, 'notify'],
  [0x200, 'cloned'],
  [0x400, 'equalize'],
  [0x800, 'prefix'],
  [0x1000, 'lookup_table'],
  [0x2000, 'fib_match'],
  [0x4000, 'rt_offload'],
  [0x8000, 'rt_trap'],
  [0x20000000, 'rt_offload_failed'],
]

/** `RTM_F_FIB_MATCH`: answer a get with the route that matched. */
export const RTM_F_FIB_MATCH = 0x2000

/** `RTAX_CC_ALGO`: the one metric that is a string. */
export const RTAX_CC_ALGO = 16

/** `RTAX_*` by number: the key each metric has in `RouteMetrics`. */
export const METRICS: NameTable = {
  1: 'lock',
  2: 'mtu',
  3: 'window',
  4: 'rtt',
  5: 'rttvar',
  6: 'ssthresh',
  7: 'cwnd',
  8: 'advmss',
  9: 'reordering',
  10: 'hoplimit',
  11: 'initcwnd',
  12: 'features',
  13: 'rtoMin',
  14: 'initrwnd',
  15: 'quickack',
  16: 'congctl',
  17: 'fastopenNoCookie',
}
