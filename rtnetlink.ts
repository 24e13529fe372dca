/**
 * netlink-node/rtnetlink: typed access to `NETLINK_ROUTE`, the family
 * behind `ip link`, `ip addr`, `ip route`, `ip neigh` and `ip rule`.
 *
 * `dialRoute(config)` opens a `RouteConn` whose collections list, get,
 * create, change and delete objects in the shapes people read (addresses
 * as strings, flags by name, counters as bigint), and whose `monitor()`
 * follows their changes. Attributes the decoders do not model are kept
 * as bytes in each object's `attributes`.
 *
 * ```ts
 * import { dialRoute } from 'netlink-node/rtnetlink'
 *
 * const rt = dialRoute()
 * for (const link of await rt.links.list()) {
 *   console.log(link.index, link.name, link.up ? 'up' : 'down')
 * }
 * await rt.close()
 * ```
 */
export { RouteConn, dialRoute } from './lib/rtnetlink/conn'
export { Links } from './lib/rtnetlink/links'
export type { LinkFilter, LinkInit, LinkRef } from './lib/rtnetlink/links'
export { decodeLink } from './lib/rtnetlink/link'
export type { Link } from './lib/rtnetlink/link'
export type { LinkStats } from './lib/rtnetlink/link-stats'
export type {
  BondInfo,
  BridgeInfo,
  MacvlanInfo,
  VlanInfo,
  VxlanInfo,
} from './lib/rtnetlink/link-info'
export { Addresses, decodeAddress } from './lib/rtnetlink/address'
export type {
  Address,
  AddressFilter,
  AddressInit,
} from './lib/rtnetlink/address'
export { Routes, decodeRoute, routeKey } from './lib/rtnetlink/route'
export type {
  Nexthop,
  NexthopInit,
  Route,
  RouteFilter,
  RouteGetOptions,
  RouteInit,
  RouteCacheInfo,
  RouteMetrics,
} from './lib/rtnetlink/route'
export {
  Neighbours,
  decodeNeighbour,
  neighbourKey,
} from './lib/rtnetlink/neighbour'
export type {
  Neighbour,
  NeighbourCacheInfo,
  NeighbourFamily,
  NeighbourFilter,
  NeighbourInit,
} from './lib/rtnetlink/neighbour'
export { Rules, decodeRule, ruleKey } from './lib/rtnetlink/rule'
export type { Rule, RuleFilter, RuleInit } from './lib/rtnetlink/rule'
export type {
  Action,
  ChangeEvent,
  MonitorKind,
  MonitorOptions,
  RouteEvent,
} from './lib/rtnetlink/monitor'
export type { IPFamily } from './lib/rtnetlink/ip'
export { MalformedError } from './lib/rtnetlink/request'
export type { RawAttribute } from './lib/rtnetlink/request'
export * from './lib/rtnetlink/constants'
