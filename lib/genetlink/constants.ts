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

// Operation flags in `CTRL_ATTR_OP_FLAGS` (`GENL_*`).
/** Only `CAP_NET_ADMIN` in the initial namespace may run the command. */
export const GENL_ADMIN_PERM = 0x01
/** The command answers a single request. */
export const GENL_CMD_CAP_DO = 0x02
/** The command answers a dump. */
export const GENL_CMD_CAP_DUMP = 0x04
/** The command checks its attributes against a policy. */
export const GENL_CMD_CAP_HASPOL = 0x08
/** Only `CAP_NET_ADMIN` in the socket's namespace may run it. */
export const GENL_UNS_ADMIN_PERM = 0x10

// The controller's commands (`CTRL_CMD_*`).
/** Not a command. */
export const CTRL_CMD_UNSPEC = 0
/** A family: the reply to GETFAMILY, or a new one announced. */
export const CTRL_CMD_NEWFAMILY = 1
/** A family went away (announced on `notify`). */
export const CTRL_CMD_DELFAMILY = 2
/** Asks for one family by name or id, or dumps them all. */
export const CTRL_CMD_GETFAMILY = 3
/** Reserved by the kernel; never sent. */
export const CTRL_CMD_NEWOPS = 4
/** Reserved by the kernel; never sent. */
export const CTRL_CMD_DELOPS = 5
/** Reserved by the kernel; never sent. */
export const CTRL_CMD_GETOPS = 6
/** A family gained a multicast group (announced on `notify`). */
export const CTRL_CMD_NEWMCAST_GRP = 7
/** A family lost a multicast group (announced on `notify`). */
export const CTRL_CMD_DELMCAST_GRP = 8
/** Reserved by the kernel; unused. */
export const CTRL_CMD_GETMCAST_GRP = 9
/** Dumps a family's attribute policies (Linux 5.7). */
export const CTRL_CMD_GETPOLICY = 10

// The controller's top-level attributes (`CTRL_ATTR_*`).
/** Not an attribute. */
export const CTRL_ATTR_UNSPEC = 0
/** The family id (u16). */
export const CTRL_ATTR_FAMILY_ID = 1
/** The family name (NUL-terminated string). */
export const CTRL_ATTR_FAMILY_NAME = 2
/** The family's protocol version (u32). */
export const CTRL_ATTR_VERSION = 3
/** Size of the family's own header (u32). */
export const CTRL_ATTR_HDRSIZE = 4
/** Highest attribute type the family knows (u32). */
export const CTRL_ATTR_MAXATTR = 5
/** The family's commands: a nest of `CTRL_ATTR_OP_*` nests. */
export const CTRL_ATTR_OPS = 6
/** The family's groups: a nest of `CTRL_ATTR_MCAST_GRP_*` nests. */
export const CTRL_ATTR_MCAST_GROUPS = 7
/** Policies by index, then attribute (Linux 5.7). */
export const CTRL_ATTR_POLICY = 8
/** Which policy each command uses, by index (Linux 5.10). */
export const CTRL_ATTR_OP_POLICY = 9
/** Limits a policy dump to one command (Linux 5.10). */
export const CTRL_ATTR_OP = 10

// Attributes of one operation in `CTRL_ATTR_OPS` (`CTRL_ATTR_OP_*`).
/** Not an attribute. */
export const CTRL_ATTR_OP_UNSPEC = 0
/** The command number (u32). */
export const CTRL_ATTR_OP_ID = 1
/** `GENL_*` flags of the command (u32). */
export const CTRL_ATTR_OP_FLAGS = 2

// Attributes of one group in `CTRL_ATTR_MCAST_GROUPS`.
/** Not an attribute. */
export const CTRL_ATTR_MCAST_GRP_UNSPEC = 0
/** The group name (NUL-terminated string). */
export const CTRL_ATTR_MCAST_GRP_NAME = 1
/** The group number to join (u32). */
export const CTRL_ATTR_MCAST_GRP_ID = 2

// Attributes of one command in `CTRL_ATTR_OP_POLICY`.
/** Not an attribute. */
export const CTRL_ATTR_POLICY_UNSPEC = 0
/** Index of the policy for a single request (u32). */
export const CTRL_ATTR_POLICY_DO = 1
/** Index of the policy for a dump request (u32). */
export const CTRL_ATTR_POLICY_DUMP = 2

// Kinds of attribute value a policy allows (`NL_ATTR_TYPE_*`).
/** No attribute: the type is unused. */
export const NL_ATTR_TYPE_INVALID = 0
/** Present or absent, without a value. */
export const NL_ATTR_TYPE_FLAG = 1
/** 8-bit unsigned integer. */
export const NL_ATTR_TYPE_U8 = 2
/** 16-bit unsigned integer. */
export const NL_ATTR_TYPE_U16 = 3
/** 32-bit unsigned integer. */
export const NL_ATTR_TYPE_U32 = 4
/** 64-bit unsigned integer. */
export const NL_ATTR_TYPE_U64 = 5
/** 8-bit signed integer. */
export const NL_ATTR_TYPE_S8 = 6
/** 16-bit signed integer. */
export const NL_ATTR_TYPE_S16 = 7
/** 32-bit signed integer. */
export const NL_ATTR_TYPE_S32 = 8
/** 64-bit signed integer. */
export const NL_ATTR_TYPE_S64 = 9
/** Bytes, with optional length limits. */
export const NL_ATTR_TYPE_BINARY = 10
/** A string, with optional length limits. */
export const NL_ATTR_TYPE_STRING = 11
/** A NUL-terminated string, with an optional maximum length. */
export const NL_ATTR_TYPE_NUL_STRING = 12
/** Attributes nested under a policy of their own. */
export const NL_ATTR_TYPE_NESTED = 13
/** An array of nests, each under a policy of its own. */
export const NL_ATTR_TYPE_NESTED_ARRAY = 14
/** A `struct nla_bitfield32`: value and selector. */
export const NL_ATTR_TYPE_BITFIELD32 = 15
/** 32- or 64-bit signed integer (Linux 6.8). */
export const NL_ATTR_TYPE_SINT = 16
/** 32- or 64-bit unsigned integer (Linux 6.8). */
export const NL_ATTR_TYPE_UINT = 17

// Attributes describing one policy entry (`NL_POLICY_TYPE_ATTR_*`).
/** Not an attribute. */
export const NL_POLICY_TYPE_ATTR_UNSPEC = 0
/** The kind of value, an `NL_ATTR_TYPE_*` (u32). */
export const NL_POLICY_TYPE_ATTR_TYPE = 1
/** Smallest value of a signed integer (s64). */
export const NL_POLICY_TYPE_ATTR_MIN_VALUE_S = 2
/** Largest value of a signed integer (s64). */
export const NL_POLICY_TYPE_ATTR_MAX_VALUE_S = 3
/** Smallest value of an unsigned integer (u64). */
export const NL_POLICY_TYPE_ATTR_MIN_VALUE_U = 4
/** Largest value of an unsigned integer (u64). */
export const NL_POLICY_TYPE_ATTR_MAX_VALUE_U = 5
/** Shortest value of binary data or a string (u32). */
export const NL_POLICY_TYPE_ATTR_MIN_LENGTH = 6
/** Longest value of binary data or a string (u32). */
export const NL_POLICY_TYPE_ATTR_MAX_LENGTH = 7
/** Index of the policy of a nest's contents (u32). */
export const NL_POLICY_TYPE_ATTR_POLICY_IDX = 8
/** Highest attribute type that policy knows (u32). */
export const NL_POLICY_TYPE_ATTR_POLICY_MAXTYPE = 9
/** The bits a bitfield32 may select (u32). */
export const NL_POLICY_TYPE_ATTR_BITFIELD32_MASK = 10
/** Padding for 64-bit alignment; carries nothing. */
export const NL_POLICY_TYPE_ATTR_PAD = 11
/** The bits an unsigned integer may have set (u64, Linux 5.15). */
export const NL_POLICY_TYPE_ATTR_MASK = 12
