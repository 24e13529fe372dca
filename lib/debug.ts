import { debuglog } from 'node:util'

import { formatHex, formatMessage } from './format'
import type { Message } from './message'

const log = debuglog('netlink')

/**
 * Whether `NODE_DEBUG=netlink` turned on the traffic dump; read once when
 * this module loads. Callers check it before paying for `logSent` and
 * `logReceived`.
 */
export const debugEnabled: boolean = log.enabled

/**
 * Prints one message and its payload. A family may put a fixed header of
 * its own before the attributes, and its size is unknown at this layer, so
 * the payload is shown as plain hex rather than split into attributes.
 */
function logMessage(direction: string, m: Message): void {
  const line = `${direction} ${formatMessage(m)}`
  if (m.data.length === 0) {
    log('%s', line)
    return
  }

  log('%s\n  payload as hex (family header and attributes not split):\n%s',
    line, formatHex(m.data, 4))
}

/**
 * Prints the messages of a batch about to be sent, one entry each, when
 * `NODE_DEBUG=netlink` is set; does nothing otherwise. Slow: meant for
 * debugging only.
 */
export function logSent(messages: readonly Message[]): void {
  if (!debugEnabled) return
  for (const m of messages) logMessage('send', m)
}

/**
 * Prints a received message when `NODE_DEBUG=netlink` is set; does nothing
 * otherwise. Slow: meant for debugging only.
 */
export function logReceived(message: Message): void {
  if (!debugEnabled) return
  logMessage('recv', message)
}
