import { AttributeDecoder } from '../attribute'
import { HeaderFlags } from '../constants'
import type { Message } from '../message'
import { errorReply, multipart, type Reply } from '../testing/replies'
import type { Handler } from '../testing/transport'
import * as check from '../validate'
import {
  CTRL_ATTR_FAMILY_ID,
  CTRL_ATTR_FAMILY_NAME,
  CTRL_CMD_GETFAMILY,
  CTRL_CMD_NEWFAMILY,
  GENL_CTRL_VERSION,
  GENL_ID_CTRL,
} from './constants'
import { encodeFamily, type GenericFamily } from './family'
import { decodeGeneric, encodeGeneric } from './header'

/**
 * A handler for `dialFake` that plays the generic netlink controller
 * over `families`: it answers `CTRL_CMD_GETFAMILY` by name or id, and
 * as a dump, as the kernel does, and `ENOENT` for a family it does not
 * have. Requests to any other family go to `next` when given; without
 * it, they are answered `EOPNOTSUPP`, as the kernel answers a command a
 * family lacks. Other controller commands are answered `EOPNOTSUPP`.
 * `families` is read at each request, so a test may change it.
 */
export function fakeController(
  families: GenericFamily[],
  next?: Handler,
): Handler {
  if (!Array.isArray(families)) {
    const got = check.describe(families)
    throw check.typeError(`families must be an array, got ${got}`)
  }
  if (next !== undefined && typeof next !== 'function') {
    const got = check.describe(next)
    throw check.typeError(`next must be a function, got ${got}`)
  }
  return (request: Message) => {
    if (request.header.type !== GENL_ID_CTRL) {
      if (next !== undefined) return next(request)
      const known = families.some((f) => f.id === request.header.type)
      return errorReply(known ? 'EOPNOTSUPP' : 'ENOENT')
    }

    const { command, data } = decodeGeneric(request)
    if (command !== CTRL_CMD_GETFAMILY) return errorReply('EOPNOTSUPP')
    if (request.header.flags & HeaderFlags.Dump) {
      return multipart(families.map(familyMessage), { batches: 1 })
    }
    return getFamily(families, data)
  }
}

function getFamily(families: GenericFamily[], data: Buffer): Reply {
  let name: string | undefined
  let id: number | undefined
  const d = new AttributeDecoder(data)
  while (d.next()) {
    if (d.type === CTRL_ATTR_FAMILY_NAME) name = d.string()
    if (d.type === CTRL_ATTR_FAMILY_ID) id = d.uint16()
  }
  if (d.err !== null) throw d.err

  const found = families.find(
    (f) =>
      (name === undefined || f.name === name) &&
      (id === undefined || f.id === id),
  )
  if (found === undefined || (name === undefined && id === undefined)) {
    return errorReply('ENOENT')
  }
  return familyMessage(found)
}

function familyMessage(family: GenericFamily) {
  return {
    header: { type: GENL_ID_CTRL },
    data: encodeGeneric(
      CTRL_CMD_NEWFAMILY,
      GENL_CTRL_VERSION,
      encodeFamily(family),
    ),
  }
}
