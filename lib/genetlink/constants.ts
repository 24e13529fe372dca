/**
 * Generic netlink's numbers, named as `<linux/genetlink.h>` and
 * `<linux/netlink.h>` name them, so that a reader can grep the kernel for
 * each. Only the controller (`nlctrl`) and policy dumps use them here;
 * every other family brings its own.
 */

/** Size of `struct genlmsghdr`: command, version, two reserved bytes. */
export const GENL_HDRLEN = 4

/** Longest family name, NUL included (`GENL_NAMSIZ`). */
export const GENL_NAMSIZ = 16

/** Lowest family id the kernel hands out (`GENL_MIN_ID`). */
export const GENL_MIN_ID = 0x10

/** Highest family id the kernel hands out (`GENL_MAX_ID`). */
export const GENL_MAX_ID = 1023

/** The controller's own family id, fixed (`GENL_ID_CTRL`). */
export const GENL_ID_CTRL = 0x10

/** The controller's family name (`"nlctrl"`). */
export const GENL_CTRL_NAME = 'nlctrl'

/** The controller's multicast group for family changes (`"notify"`). */
export const GENL_CTRL_NOTIFY_GROUP = 'notify'

/** The controller speaks version 2 of its protocol. */
export const GENL_CTRL_VERSION = 2

/** Operation flags in `CTRL_ATTR_OP_FLAGS` (`GENL_*`). */
export const GENL_ADMIN_PERM = 0x01
export const GENL_CMD_CAP_DO = 0x02
export const GENL_CMD_CAP_DUMP = 0x04
export const GENL_CMD_CAP_HASPOL = 0x08
export const GENL_UNS_ADMIN_PERM = 0x10

/** The controller's commands (`CTRL_CMD_*`). */
export const CTRL_CMD_UNSPEC = 0
export const CTRL_CMD_NEWFAMILY = 1
export const CTRL_CMD_DELFAMILY = 2
export const CTRL_CMD_GETFAMILY = 3
export const CTRL_CMD_NEWOPS = 4
export const CTRL_CMD_DELOPS = 5
export const CTRL_CMD_GETOPS = 6
export const CTRL_CMD_NEWMCAST_GRP = 7
export const CTRL_CMD_DELMCAST_GRP = 8
export const CTRL_CMD_GETMCAST_GRP = 9
/** Dumps a family's attribute policies (Linux 5.7). */
export const CTRL_CMD_GETPOLICY = 10

/** The controller's top-level attributes (`CTRL_ATTR_*`). */
export const CTRL_ATTR_UNSPEC = 0
export const CTRL_ATTR_FAMILY_ID = 1
export const CTRL_ATTR_FAMILY_NAME = 2
export const CTRL_ATTR_VERSION = 3
export const CTRL_ATTR_HDRSIZE = 4
export const CTRL_ATTR_MAXATTR = 5
export const CTRL_ATTR_OPS = 6
export const CTRL_ATTR_MCAST_GROUPS = 7
/** Policies by index, then attribute (Linux 5.7). */
export const CTRL_ATTR_POLICY = 8
/** Which policy each command uses, by index (Linux 5.10). */
export const CTRL_ATTR_OP_POLICY = 9
/** Limits a policy dump to one command (Linux 5.10). */
export const CTRL_ATTR_OP = 10

/** Attributes of one operation in `CTRL_ATTR_OPS` (`CTRL_ATTR_OP_*`). */
export const CTRL_ATTR_OP_UNSPEC = 0
export const CTRL_ATTR_OP_ID = 1
export const CTRL_ATTR_OP_FLAGS = 2

/** Attributes of one group in `CTRL_ATTR_MCAST_GROUPS`. */
export const CTRL_ATTR_MCAST_GRP_UNSPEC = 0
export const CTRL_ATTR_MCAST_GRP_NAME = 1
export const CTRL_ATTR_MCAST_GRP_ID = 2

/** Attributes of one command in `CTRL_ATTR_OP_POLICY`. */
export const CTRL_ATTR_POLICY_UNSPEC = 0
export const CTRL_ATTR_POLICY_DO = 1
export const CTRL_ATTR_POLICY_DUMP = 2

/** Kinds of attribute value a policy allows (`NL_ATTR_TYPE_*`). */
export const NL_ATTR_TYPE_INVALID = 0
export const NL_ATTR_TYPE_FLAG = 1
export const NL_ATTR_TYPE_U8 = 2
export const NL_ATTR_TYPE_U16 = 3
export const NL_ATTR_TYPE_U32 = 4
export const NL_ATTR_TYPE_U64 = 5
export const NL_ATTR_TYPE_S8 = 6
export const NL_ATTR_TYPE_S16 = 7
export const NL_ATTR_TYPE_S32 = 8
export const NL_ATTR_TYPE_S64 = 9
export const NL_ATTR_TYPE_BINARY = 10
export const NL_ATTR_TYPE_STRING = 11
export const NL_ATTR_TYPE_NUL_STRING = 12
export const NL_ATTR_TYPE_NESTED = 13
export const NL_ATTR_TYPE_NESTED_ARRAY = 14
export const NL_ATTR_TYPE_BITFIELD32 = 15
/** 32- or 64-bit signed integer (Linux 6.8). */
export const NL_ATTR_TYPE_SINT = 16
/** 32- or 64-bit unsigned integer (Linux 6.8). */
export const NL_ATTR_TYPE_UINT = 17

/** Attributes describing one policy entry (`NL_POLICY_TYPE_ATTR_*`). */
export const NL_POLICY_TYPE_ATTR_UNSPEC = 0
export const NL_POLICY_TYPE_ATTR_TYPE = 1
export const NL_POLICY_TYPE_ATTR_MIN_VALUE_S = 2
export const NL_POLICY_TYPE_ATTR_MAX_VALUE_S = 3
export const NL_POLICY_TYPE_ATTR_MIN_VALUE_U = 4
export const NL_POLICY_TYPE_ATTR_MAX_VALUE_U = 5
export const NL_POLICY_TYPE_ATTR_MIN_LENGTH = 6
export const NL_POLICY_TYPE_ATTR_MAX_LENGTH = 7
export const NL_POLICY_TYPE_ATTR_POLICY_IDX = 8
export const NL_POLICY_TYPE_ATTR_POLICY_MAXTYPE = 9
export const NL_POLICY_TYPE_ATTR_BITFIELD32_MASK = 10
export const NL_POLICY_TYPE_ATTR_PAD = 11
export const NL_POLICY_TYPE_ATTR_MASK = 12
