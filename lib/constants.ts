/**
 * Netlink protocol numbers, the `family` argument of `dial` (`NETLINK_*` in
 * `<linux/netlink.h>`).
 */
export const Family = Object.freeze({
  ROUTE: 0,
  UNUSED: 1,
  USERSOCK: 2,
  FIREWALL: 3,
  SOCK_DIAG: 4,
  NFLOG: 5,
  XFRM: 6,
  SELINUX: 7,
  ISCSI: 8,
  AUDIT: 9,
  FIB_LOOKUP: 10,
  CONNECTOR: 11,
  NETFILTER: 12,
  IP6_FW: 13,
  DNRTMSG: 14,
  KOBJECT_UEVENT: 15,
  GENERIC: 16,
  SCSITRANSPORT: 18,
  ECRYPTFS: 19,
  RDMA: 20,
  CRYPTO: 21,
  SMC: 22,
} as const)

/**
 * Flags of a message header (`NLM_F_*`). Several share a value and mean
 * different things by message kind: `Root`/`Replace`/`Capped` are one bit,
 * read as a GET, NEW or ACK flag respectively.
 */
export const HeaderFlags = Object.freeze({
  /** `NLM_F_REQUEST`: the message is a request. */
  Request: 0x1,
  /** `NLM_F_MULTI`: part of a multipart reply, ended by `Done`. */
  Multi: 0x2,
  /** `NLM_F_ACK`: ask for an acknowledgement. */
  Acknowledge: 0x4,
  /** `NLM_F_ECHO`: echo this request to its sender. */
  Echo: 0x8,
  /** `NLM_F_DUMP_INTR`: the dump was inconsistent (data changed). */
  DumpInterrupted: 0x10,
  /** `NLM_F_DUMP_FILTERED`: the dump was filtered as requested. */
  DumpFiltered: 0x20,
  /** `NLM_F_ROOT` (GET): return the whole table. */
  Root: 0x100,
  /** `NLM_F_MATCH` (GET): return all matching entries. */
  Match: 0x200,
  /** `NLM_F_ATOMIC` (GET): an atomic snapshot of the table. */
  Atomic: 0x400,
  /** `NLM_F_DUMP` (GET): `Root | Match`. */
  Dump: 0x300,
  /** `NLM_F_REPLACE` (NEW): replace an existing object. */
  Replace: 0x100,
  /** `NLM_F_EXCL` (NEW): fail if the object exists. */
  Excl: 0x200,
  /** `NLM_F_CREATE` (NEW): create the object if it does not exist. */
  Create: 0x400,
  /** `NLM_F_APPEND` (NEW): add to the end of the object list. */
  Append: 0x800,
  /** `NLM_F_NONREC` (DELETE): do not delete recursively. */
  NonRecursive: 0x100,
  /** `NLM_F_BULK` (DELETE): delete several objects. */
  Bulk: 0x200,
  /** `NLM_F_CAPPED` (ACK): the echoed request was cut to its header. */
  Capped: 0x100,
  /** `NLM_F_ACK_TLVS` (ACK): extended-ack attributes follow. */
  AcknowledgeTLVs: 0x200,
} as const)

/** The message types every family shares (`NLMSG_*`). */
export const HeaderType = Object.freeze({
  /** `NLMSG_NOOP`: to be ignored. */
  Noop: 0x1,
  /** `NLMSG_ERROR`: an error or, with errno 0, an acknowledgement. */
  Error: 0x2,
  /** `NLMSG_DONE`: the end of a multipart reply. */
  Done: 0x3,
  /** `NLMSG_OVERRUN`: data was lost (unused by the kernel). */
  Overrun: 0x4,
} as const)

/**
 * Socket options a `Conn` can turn on or off with `setOption`; each maps to
 * the `NETLINK_*` option of `setsockopt(SOL_NETLINK)` named beside it.
 */
export const ConnOption = Object.freeze({
  /** `NETLINK_PKTINFO` (2.6.14): report each message's multicast group. */
  PacketInfo: 3,
  /** `NETLINK_BROADCAST_ERROR` (2.6.30): report multicast delivery errors. */
  BroadcastError: 4,
  /** `NETLINK_NO_ENOBUFS` (2.6.30): never report overruns (data is lost). */
  NoENOBUFS: 5,
  /** `NETLINK_LISTEN_ALL_NSID` (4.2): multicast from every netns with an id. */
  ListenAllNSID: 8,
  /** `NETLINK_CAP_ACK` (4.3): do not echo the request in acknowledgements. */
  CapAcknowledge: 10,
  /** `NETLINK_EXT_ACK` (4.12): extended acknowledgements. */
  ExtendedAcknowledge: 11,
  /** `NETLINK_GET_STRICT_CHK` (4.20): strict checking of GET requests. */
  GetStrictCheck: 12,
} as const)

/** One of the values of `ConnOption`. */
export type ConnOption = (typeof ConnOption)[keyof typeof ConnOption]
