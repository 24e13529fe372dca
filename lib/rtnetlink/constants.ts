/**
 * rtnetlink's message types and multicast groups, named as in
 * `<linux/rtnetlink.h>`.
 */

/** Message types (`RTM_*`). */
export const RTM_NEWLINK = 16
export const RTM_DELLINK = 17
export const RTM_GETLINK = 18
export const RTM_SETLINK = 19
export const RTM_NEWADDR = 20
export const RTM_DELADDR = 21
export const RTM_GETADDR = 22
export const RTM_NEWROUTE = 24
export const RTM_DELROUTE = 25
export const RTM_GETROUTE = 26
export const RTM_NEWNEIGH = 28
export const RTM_DELNEIGH = 29
export const RTM_GETNEIGH = 30
export const RTM_NEWRULE = 32
export const RTM_DELRULE = 33
export const RTM_GETRULE = 34

/** Multicast groups (`RTNLGRP_*`), numbers for `Conn.joinGroup`. */
export const RTNLGRP_LINK = 1
export const RTNLGRP_NEIGH = 3
export const RTNLGRP_IPV4_IFADDR = 5
export const RTNLGRP_IPV4_ROUTE = 7
export const RTNLGRP_IPV4_RULE = 8
export const RTNLGRP_IPV6_IFADDR = 9
export const RTNLGRP_IPV6_ROUTE = 11
export const RTNLGRP_IPV6_RULE = 19
