import { AttributeDecoder, AttributeEncoder } from '../attribute'
import * as check from '../validate'
import {
  CTRL_ATTR_FAMILY_ID,
  CTRL_ATTR_FAMILY_NAME,
  CTRL_ATTR_HDRSIZE,
  CTRL_ATTR_MAXATTR,
  CTRL_ATTR_MCAST_GROUPS,
  CTRL_ATTR_MCAST_GRP_ID,
  CTRL_ATTR_MCAST_GRP_NAME,
  CTRL_ATTR_OPS,
  CTRL_ATTR_OP_FLAGS,
  CTRL_ATTR_OP_ID,
  CTRL_ATTR_VERSION,
  GENL_ADMIN_PERM,
  GENL_CMD_CAP_DO,
  GENL_CMD_CAP_DUMP,
  GENL_CMD_CAP_HASPOL,
  GENL_UNS_ADMIN_PERM,
} from './constants'
import { GenericError } from './errors'

/** One command a family accepts, from `CTRL_ATTR_OPS`. */
export interface GenericOperation {
  /** The command number (`CTRL_ATTR_OP_ID`). */
  command: number
  /** `GENL_*` bits as the kernel sent them (`CTRL_ATTR_OP_FLAGS`). */
  flags: number
  /** It answers a single request (`GENL_CMD_CAP_DO`). */
  do: boolean
  /** It answers a dump (`GENL_CMD_CAP_DUMP`). */
  dump: boolean
  /** Its attributes are checked against a policy (`GENL_CMD_CAP_HASPOL`). */
  hasPolicy: boolean
  /** Only `CAP_NET_ADMIN` in the initial namespace (`GENL_ADMIN_PERM`). */
  adminOnly: boolean
  /** `CAP_NET_ADMIN` in the socket's namespace (`GENL_UNS_ADMIN_PERM`). */
  namespaceAdminOnly: boolean
}

/** A multicast group of a family, from `CTRL_ATTR_MCAST_GROUPS`. */
export interface GenericGroup {
  name: string
  /** The group number to join (`CTRL_ATTR_MCAST_GRP_ID`). */
  id: number
}

/**
 * A generic netlink family as the controller describes it. Plain data,
 * safe to keep: it copies nothing from the message it came from.
 */
export interface GenericFamily {
  /** The family id: the netlink message type of its requests. */
  id: number
  name: string
  /** The family's protocol version, 0 to 255. */
  version: number
  /** Size of the family's own header after the generic one. */
  headerSize: number
  /** Highest attribute type the family knows. */
  maxAttribute: number
  operations: GenericOperation[]
  groups: GenericGroup[]
}

/**
 * Reads a family from the attributes of a controller message (a
 * GETFAMILY reply, or a NEWFAMILY or DELFAMILY notification). Throws a
 * `GenericError` naming what is wrong: a malformed attribute, a missing
 * id or name, a version over 255, an operation or group without its id,
 * a group without its name. Attributes it does not know are skipped, as
 * newer kernels add some.
 */
export function parseFamily(data: Uint8Array): GenericFamily {
  check.bytes('data', data)
  const d = new AttributeDecoder(data)
  let id: number | undefined
  let name: string | undefined
  let version = 0
  let headerSize = 0
  let maxAttribute = 0
  let operations: GenericOperation[] = []
  let groups: GenericGroup[] = []

  while (d.next()) {
    switch (d.type) {
      case CTRL_ATTR_FAMILY_ID:
        id = d.uint16()
        break
      case CTRL_ATTR_FAMILY_NAME:
        name = d.string()
        break
      case CTRL_ATTR_VERSION:
        version = d.uint32()
        break
      case CTRL_ATTR_HDRSIZE:
        headerSize = d.uint32()
        break
      case CTRL_ATTR_MAXATTR:
        maxAttribute = d.uint32()
        break
      case CTRL_ATTR_OPS:
        d.nested((n) => (operations = parseOperations(n)))
        break
      case CTRL_ATTR_MCAST_GROUPS:
        d.nested((n) => (groups = parseGroups(n)))
        break
    }
  }

  const what = name === undefined ? 'family' : `family ${name}`
  if (d.err !== null) {
    throw new GenericError(`${what}: ${d.err.message}`, { cause: d.err })
  }
  if (name === undefined || name === '') {
    throw new GenericError(
      `family${id === undefined ? '' : ` ${id}`}:` +
        ' the controller sent no name (CTRL_ATTR_FAMILY_NAME)',
    )
  }
  if (id === undefined) {
    throw new GenericError(
      `${what}: the controller sent no id (CTRL_ATTR_FAMILY_ID)`,
    )
  }
  if (version > 255) {
    throw new GenericError(
      `${what}: version ${version} does not fit` +
        ' the 8-bit version of the generic header',
    )
  }
  return { id, name, version, headerSize, maxAttribute, operations, groups }
}

/**
 * Reads a family's id and name only, for the controller's group
 * notifications, which carry nothing else about the family.
 */
export function parseFamilyName(data: Uint8Array): {
  id?: number
  name?: string
} {
  const d = new AttributeDecoder(data)
  const out: { id?: number; name?: string } = {}
  while (d.next()) {
    if (d.type === CTRL_ATTR_FAMILY_ID) out.id = d.uint16()
    if (d.type === CTRL_ATTR_FAMILY_NAME) out.name = d.string()
  }
  return out
}

/** Reads `CTRL_ATTR_OPS`: one nest per operation, numbered from 1. */
function parseOperations(d: AttributeDecoder): GenericOperation[] {
  const out: GenericOperation[] = []
  while (d.next()) {
    const at = out.length + 1
    let command: number | undefined
    let flags = 0
    d.nested((n) => {
      while (n.next()) {
        if (n.type === CTRL_ATTR_OP_ID) command = n.uint32()
        if (n.type === CTRL_ATTR_OP_FLAGS) flags = n.uint32()
      }
    })
    if (d.err !== null) break
    if (command === undefined) {
      throw new Error(`operation #${at} has no id (CTRL_ATTR_OP_ID)`)
    }
    out.push(operation(command, flags))
  }
  return out
}

/** Describes an operation's flag bits. */
export function operation(command: number, flags: number): GenericOperation {
  return {
    command,
    flags,
    do: (flags & GENL_CMD_CAP_DO) !== 0,
    dump: (flags & GENL_CMD_CAP_DUMP) !== 0,
    hasPolicy: (flags & GENL_CMD_CAP_HASPOL) !== 0,
    adminOnly: (flags & GENL_ADMIN_PERM) !== 0,
    namespaceAdminOnly: (flags & GENL_UNS_ADMIN_PERM) !== 0,
  }
}

/** Reads `CTRL_ATTR_MCAST_GROUPS`: one nest per group. */
export function parseGroups(d: AttributeDecoder): GenericGroup[] {
  const out: GenericGroup[] = []
  while (d.next()) {
    const at = out.length + 1
    let name: string | undefined
    let id: number | undefined
    d.nested((n) => {
      while (n.next()) {
        if (n.type === CTRL_ATTR_MCAST_GRP_NAME) name = n.string()
        if (n.type === CTRL_ATTR_MCAST_GRP_ID) id = n.uint32()
      }
    })
    if (d.err !== null) break
    if (name === undefined || name === '') {
      const which = id === undefined ? `#${at}` : `#${at} (id ${id})`
      throw new Error(`group ${which} has no name (CTRL_ATTR_MCAST_GRP_NAME)`)
    }
    if (id === undefined) {
      throw new Error(`group ${name} has no id (CTRL_ATTR_MCAST_GRP_ID)`)
    }
    if (id === 0) throw new Error(`group ${name} has id 0, which is none`)
    out.push({ name, id })
  }
  return out
}

/**
 * Encodes `family` as the controller does in a GETFAMILY reply: for
 * fakes, and for tests of code that reads controller messages.
 * Operations and groups are numbered from 1, as the kernel numbers them.
 */
export function encodeFamily(family: GenericFamily): Buffer {
  checkFamily(family)
  const e = new AttributeEncoder()
    .string(CTRL_ATTR_FAMILY_NAME, family.name)
    .uint16(CTRL_ATTR_FAMILY_ID, family.id)
    .uint32(CTRL_ATTR_VERSION, family.version)
    .uint32(CTRL_ATTR_HDRSIZE, family.headerSize)
    .uint32(CTRL_ATTR_MAXATTR, family.maxAttribute)

  // The kernel leaves out the nests of a family without any.
  const { operations, groups } = family
  if (operations.length > 0) {
    e.nested(CTRL_ATTR_OPS, (ops) => {
      operations.forEach((op, i) =>
        ops.nested(i + 1, (n) =>
          n
            .uint32(CTRL_ATTR_OP_ID, op.command)
            .uint32(CTRL_ATTR_OP_FLAGS, op.flags),
        ),
      )
    })
  }
  if (groups.length > 0) {
    e.nested(CTRL_ATTR_MCAST_GROUPS, (n) => encodeGroups(n, groups))
  }
  return e.encode()
}

/** Encodes groups as the nests of `CTRL_ATTR_MCAST_GROUPS`. */
export function encodeGroups(
  e: AttributeEncoder,
  groups: readonly GenericGroup[],
): void {
  groups.forEach((g, i) =>
    e.nested(i + 1, (n) =>
      n
        .string(CTRL_ATTR_MCAST_GRP_NAME, g.name)
        .uint32(CTRL_ATTR_MCAST_GRP_ID, g.id),
    ),
  )
}

/** Checks a family given to `encodeFamily`, field by field. */
function checkFamily(family: GenericFamily): void {
  const f = check.optionalObject('family', family)
  if (family === undefined) {
    throw check.typeError('family must be an object, got undefined')
  }
  if (typeof f.name !== 'string') {
    const got = check.describe(f.name)
    throw check.typeError(`family.name must be a string, got ${got}`)
  }
  check.integer('family.id', f.id, 0, 0xffff)
  check.integer('family.version', f.version, 0, 255)
  check.integer('family.headerSize', f.headerSize, 0, 0xffffffff)
  check.integer('family.maxAttribute', f.maxAttribute, 0, 0xffffffff)

  const list = (key: 'operations' | 'groups') => {
    const value = f[key]
    if (!Array.isArray(value)) {
      const got = check.describe(value)
      throw check.typeError(`family.${key} must be an array, got ${got}`)
    }
    return value as unknown[]
  }
  list('operations').forEach((op, i) => {
    const o = check.optionalObject(`family.operations[${i}]`, op)
    check.integer(`family.operations[${i}].command`, o.command, 0, 0xffffffff)
    check.integer(`family.operations[${i}].flags`, o.flags, 0, 0xffffffff)
  })
  list('groups').forEach((group, i) => {
    const g = check.optionalObject(`family.groups[${i}]`, group)
    if (typeof g.name !== 'string') {
      const got = check.describe(g.name)
      throw check.typeError(
        `family.groups[${i}].name must be a string,` + ` got ${got}`,
      )
    }
    check.integer(`family.groups[${i}].id`, g.id, 0, 0xffffffff)
  })
}
