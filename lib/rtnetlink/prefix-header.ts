/**
 * The start `struct rtmsg` and `struct fib_rule_hdr` share: the family,
 * then the lengths of the destination and source prefixes.
 */
import { AF_INET, familyName, type IPFamily } from './ip'
import { MalformedError } from './request'

/** A route's or rule's family and prefix lengths, checked. */
export interface PrefixHeader {
  family: IPFamily
  /** The family's address size in bytes: 4 or 16. */
  size: number
  dstLength: number
  srcLength: number
}

/**
 * Reads the family and prefix lengths at the start of `data`, a message
 * of `what` (`'route'`, `'rule'`) at least 3 bytes long. Throws a
 * MalformedError for a family other than IPv4 or IPv6, or a prefix
 * longer than its addresses.
 */
export function readPrefixHeader(data: Buffer, what: string): PrefixHeader {
  const familyNo = data[0]
  const family = familyName(familyNo)
  if (family === undefined) {
    throw new MalformedError(
      `${what} of family ${familyNo} is not IPv4 or IPv6`,
    )
  }

  const size = familyNo === AF_INET ? 4 : 16
  const dstLength = data[1]
  const srcLength = data[2]
  if (dstLength > size * 8 || srcLength > size * 8) {
    throw new MalformedError(
      `${what} prefix length ${Math.max(dstLength, srcLength)} is over ` +
        `${size * 8}`,
    )
  }
  return { family, size, dstLength, srcLength }
}
