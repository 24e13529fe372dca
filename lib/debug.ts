import { debuglog } from 'node:util'

import { Family } from './constants'
import { formatAttributes, formatHex, formatMessage } from './format'
import type { Message } from './message'

const log = debuglog('netlink')

/**
 * Whether `NODE_DEBUG=netlink` turned on the traffic dump; read once when
 * this module loads. Callers check it before paying for `logSent` and
 * `logReceived`.
 */
export const debugEnabled: boolean = log.enabled

/**
 * The size of the fixed header a family puts before its attributes, for
 * the families and message types this layer knows; `undefined` otherwise.
 * rtnetlink's types come in fours (NEW, DEL, GET, SET) per object.
 */
export function familyHeaderSize(
  family: number,
  type: number,
): number | undefined {
  if (type < 16) return undefined
  if (family === Family.GENERIC || family === Family.NETFILTER) return 4
  if (family !== Family.ROUTE) return undefined

  // ifinfomsg, ifaddrmsg, rtmsg, ndmsg, fib_rule_hdr
  const sizes = [16, 8, 12, 12, 12]
  return sizes[Math.floor((type - 16) / 4)]
}

/**
 * Prints one message: its header, then its attributes indented by nest
 * where the family's header size is known, else the payload as hex.
 */
function logMessage(direction: string, family: number, m: Message): void {
  const line = `${direction} ${formatMessage(m)}`
  if (m.data.length === 0) {
    log('%s', line)
    return
  }

  const size = familyHeaderSize(family, m.header.type)
  if (size === undefined || size > m.data.length) {
    log('%s\n  payload:\n%s', line, formatHex(m.data, 4))
    return
  }
  log(
    '%s\n  family header:\n%s\n  attributes:\n%s',
    line,
    formatHex(m.data.subarray(0, size), 4),
    formatAttributes(m.data.subarray(size), 4),
  )
}

/**
 * Prints the messages of family `family` about to be sent, one entry each,
 * when
 * `NODE_DEBUG=netlink` is set; does nothing otherwise. Slow: meant for
 * debugging only.
 */
export function logSent(family: number, messages: readonly Message[]): void {
  if (!debugEnabled) return
  for (const m of messages) logMessage('send', family, m)
}

/**
 * Prints a received message of family `family` when `NODE_DEBUG=netlink`
 * is set; does nothing
 * otherwise. Slow: meant for debugging only.
 */
export function logReceived(family: number, message: Message): void {
  if (!debugEnabled) return
  logMessage('recv', family, message)
}
