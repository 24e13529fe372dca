import * as check from './validate'

/** The 16-byte header in front of every netlink message (`nlmsghdr`). */
export interface Header {
  /** Length of the message, header included (`nlmsg_len`). */
  length: number
  /** Message type: a family's own or one of `HeaderType` (`nlmsg_type`). */
  type: number
  /** `HeaderFlags` bits (`nlmsg_flags`). */
  flags: number
  /** Sequence number that pairs replies with requests (`nlmsg_seq`). */
  sequence: number
  /** Port ID the header names (`nlmsg_pid`); not proof of the sender. */
  pid: number
}

/**
 * A netlink message: its header and the payload after it. `data` of a
 * received message is a view into the batch it arrived in; copy it before
 * writing to it.
 */
export interface Message {
  header: Header
  data: Buffer
}

/**
 * What a caller passes to `execute` and `send`: header fields left out are
 * filled in (length, sequence, pid; flags get `Request`).
 */
export interface MessageInit {
  header?: Partial<Header>
  data?: Uint8Array
}

/** The largest length `align` takes: its result must fit 31 bits. */
const MAX_ALIGNED = 0x7ffffffc

/** Size of `nlmsghdr` in bytes. */
export const HEADER_LENGTH = 16

/** Rounds `n` up to the 4-byte boundary netlink aligns messages to. */
export function align(n: number): number {
  check.integer('n', n, 0, MAX_ALIGNED)
  return (n + 3) & ~3
}
