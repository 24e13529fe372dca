import { constants } from 'node:os'

import { errnoMessage } from '../binding'
import * as check from './validate'

/**
 * The policy of the attribute the kernel rejected, from an extended
 * acknowledgement (`NLMSGERR_ATTR_POLICY`, `NL_POLICY_TYPE_ATTR_*`).
 */
export interface ExtendedAckPolicy {
  /** `NL_ATTR_TYPE_*`: the kind of value the kernel expects. */
  type?: number
  minValue?: bigint
  maxValue?: bigint
  minLength?: number
  maxLength?: number
  policyIndex?: number
  policyMaxType?: number
  bitfield32Mask?: number
  mask?: bigint
}

/** What the kernel said about a request beyond its errno. */
export interface ExtendedAck {
  /** A sentence of the kernel's (`NLMSGERR_ATTR_MSG`). */
  message?: string
  /** Byte offset of the fault in the request, header included. */
  offset?: number
  /** An opaque cookie some families return (`NLMSGERR_ATTR_COOKIE`). */
  cookie?: Buffer
  /** The policy of the attribute at fault. */
  policy?: ExtendedAckPolicy
  /** The type of a required attribute that was missing. */
  missingType?: number
  /** Offset of the nest the missing attribute belongs in. */
  missingNest?: number
}

/** Options of a `NetlinkError` beyond its operation and errno. */
export interface NetlinkErrorOptions {
  /** Sequence number of the request the error answers. */
  sequence?: number
  /** The kernel's extended acknowledgement. */
  extAck?: ExtendedAck
  /** A message to use instead of the errno's description. */
  detail?: string
  cause?: unknown
}

const names = errnoNames()

/**
 * A failed netlink operation, in Node's system-error form: `code` is the
 * errno's name (`'ENODEV'`), `errno` its number, `op` the method that
 * failed. Where the kernel sent an extended acknowledgement, `extAck` holds
 * it and the message quotes the kernel's sentence.
 */
export class NetlinkError extends Error {
  /** The errno's name, as in `os.constants.errno`. */
  readonly code: string
  /** The positive errno. */
  readonly errno: number
  /** The operation: `'dial'`, `'execute'`, `'send'`, `'receive'`, ... */
  readonly op: string
  /** Sequence number of the request the error answers, where known. */
  readonly sequence?: number
  /** The kernel's extended acknowledgement, where it sent one. */
  readonly extAck?: ExtendedAck

  constructor(op: string, errno: number, options: NetlinkErrorOptions = {}) {
    if (typeof op !== 'string') {
      throw check.typeError(`op must be a string, got ${check.describe(op)}`)
    }
    check.integer('errno', errno, 0, 0x7fffffff)
    check.optionalObject('options', options)
    const code = errnoName(errno)
    const detail =
      options.detail ?? options.extAck?.message ?? errnoMessage(errno)
    super(`${op} ${code}: ${detail}`, { cause: options.cause })

    this.name = 'NetlinkError'
    this.code = code
    this.errno = errno
    this.op = op
    if (options.sequence !== undefined) this.sequence = options.sequence
    if (options.extAck !== undefined) this.extAck = options.extAck
  }
}

/** The name of a positive errno (`'EPERM'`), or `'E<n>'` when unknown. */
export function errnoName(errno: number): string {
  return names.get(errno) ?? `E${errno}`
}

/** The name of a positive errno, or `undefined` when it has none. */
export function knownErrnoName(errno: number): string | undefined {
  return names.get(errno)
}

function errnoNames(): Map<number, string> {
  const map = new Map<number, string>()
  for (const [name, value] of Object.entries(constants.errno)) {
    if (!map.has(value)) map.set(value, name)
  }

  // Linux gives these pairs one number; the kernel's sources use the first.
  const preferred = ['EOPNOTSUPP', 'EAGAIN', 'EDEADLK'] as const
  for (const name of preferred) {
    const value = (constants.errno as Record<string, number>)[name]
    if (value !== undefined) map.set(value, name)
  }
  return map
}
