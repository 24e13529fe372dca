/**
 * netlink-node/genetlink: generic netlink (`NETLINK_GENERIC`), the
 * protocol most new kernel interfaces speak (ethtool, devlink, nl80211,
 * wireguard, taskstats, mptcp, netdev).
 *
 * `dialGeneric(config)` opens a `GenericConn`: requests in terms of the
 * 4-byte generic header, families and multicast groups by name (resolved
 * through the controller, `nlctrl`, and cached), attribute policies, and
 * the controller's notifications of families coming and going.
 *
 * ```ts
 * import { AttributeEncoder } from 'netlink-node'
 * import { dialGeneric } from 'netlink-node/genetlink'
 *
 * const ETHTOOL_MSG_LINKINFO_GET = 2
 * const ETHTOOL_A_LINKINFO_HEADER = 1
 * const ETHTOOL_A_HEADER_DEV_NAME = 2
 *
 * const genl = dialGeneric()
 * const [reply] = await genl.execute('ethtool', {
 *   command: ETHTOOL_MSG_LINKINFO_GET,
 *   version: 1,
 *   data: new AttributeEncoder()
 *     .nested(ETHTOOL_A_LINKINFO_HEADER, (e) =>
 *       e.string(ETHTOOL_A_HEADER_DEV_NAME, 'eth0'))
 *     .encode(),
 * })
 * await genl.close()
 * ```
 *
 * Over a fake Conn from the `testing` entry point, `dialGeneric(conn)`
 * (or `new GenericConn(conn)`), with `fakeController(families, handler)`
 * as the fake's kernel.
 */
export { GenericConn, dialGeneric } from './lib/genetlink/conn'
export type {
  FamilyRef,
  GenericOptions,
  GenericRequest,
  WaitOptions,
} from './lib/genetlink/conn'
export type { GenericReceivedMessage } from './lib/genetlink/stream'
export { decodeGeneric, encodeGeneric } from './lib/genetlink/header'
export type { GenericMessage } from './lib/genetlink/header'
export { encodeFamily, parseFamily } from './lib/genetlink/family'
export type {
  GenericFamily,
  GenericGroup,
  GenericOperation,
} from './lib/genetlink/family'
export {
  ATTRIBUTE_TYPE_NAMES,
  formatPolicy,
  parsePolicy,
} from './lib/genetlink/policy'
export type {
  AttributePolicy,
  GenericPolicy,
  OperationPolicy,
  PolicyTable,
} from './lib/genetlink/policy'
export { decodeControllerEvent } from './lib/genetlink/events'
export type {
  ControllerEvent,
  FamilyAdded,
  FamilyRemoved,
  GroupChanged,
} from './lib/genetlink/events'
export { GenericError } from './lib/genetlink/errors'
export { fakeController } from './lib/genetlink/fake'
export * from './lib/genetlink/constants'
