import { AttributeDecoder } from '../attribute'
import * as check from '../validate'
import {
  CTRL_ATTR_MCAST_GROUPS,
  CTRL_CMD_DELFAMILY,
  CTRL_CMD_DELMCAST_GRP,
  CTRL_CMD_NEWFAMILY,
  CTRL_CMD_NEWMCAST_GRP,
  GENL_ID_CTRL,
} from './constants'
import { GenericError } from './errors'
import {
  parseFamily,
  parseFamilyName,
  parseGroups,
  type GenericFamily,
  type GenericGroup,
} from './family'
import type { GenericMessage } from './header'

/** A family was registered (`CTRL_CMD_NEWFAMILY`): a module loaded. */
export interface FamilyAdded {
  kind: 'newFamily'
  family: GenericFamily
}

/** A family went away (`CTRL_CMD_DELFAMILY`): a module unloaded. */
export interface FamilyRemoved {
  kind: 'deleteFamily'
  family: GenericFamily
}

/**
 * A family gained (`CTRL_CMD_NEWMCAST_GRP`) or lost
 * (`CTRL_CMD_DELMCAST_GRP`) a multicast group.
 */
export interface GroupChanged {
  kind: 'newGroup' | 'deleteGroup'
  family: { id: number; name: string }
  group: GenericGroup
}

/** What the controller's `notify` group reports. */
export type ControllerEvent = FamilyAdded | FamilyRemoved | GroupChanged

/**
 * Decodes a notification of the controller's `notify` group into an
 * event. Returns `undefined` for a message that is not one: another
 * family's, or a controller command that is not a notification. Throws a
 * `GenericError` when a notification lacks what it must carry.
 */
export function decodeControllerEvent(
  message: GenericMessage,
): ControllerEvent | undefined {
  const m = check.optionalObject('message', message)
  const header = check.optionalObject('message.header', m.header)
  if (message === undefined || m.header === undefined) {
    throw check.typeError('message must be a GenericMessage')
  }
  check.integer('message.command', m.command, 0, 255)
  check.bytes('message.data', m.data)
  if (header.type !== GENL_ID_CTRL) return undefined

  switch (message.command) {
    case CTRL_CMD_NEWFAMILY:
      return { kind: 'newFamily', family: parseFamily(message.data) }
    case CTRL_CMD_DELFAMILY:
      return { kind: 'deleteFamily', family: parseFamily(message.data) }
    case CTRL_CMD_NEWMCAST_GRP:
      return groupEvent('newGroup', message.data)
    case CTRL_CMD_DELMCAST_GRP:
      return groupEvent('deleteGroup', message.data)
    default:
      return undefined
  }
}

function groupEvent(kind: GroupChanged['kind'], data: Buffer): GroupChanged {
  const { id, name } = parseFamilyName(data)
  if (id === undefined || name === undefined) {
    throw new GenericError(`${kind} notification names no family`)
  }

  let groups: GenericGroup[] = []
  const d = new AttributeDecoder(data)
  while (d.next()) {
    if (d.type === CTRL_ATTR_MCAST_GROUPS) {
      d.nested((n) => (groups = parseGroups(n)))
    }
  }
  if (d.err !== null) {
    throw new GenericError(
      `${kind} notification of family ${name}:` + ` ${d.err.message}`,
      { cause: d.err },
    )
  }
  const [group] = groups
  if (group === undefined) {
    throw new GenericError(
      `${kind} notification of family ${name} names no group`,
    )
  }
  return { kind, family: { id, name }, group }
}
