/**
 * netlink-node/testing: a real `Conn` over a fake kernel, for testing
 * code that speaks netlink without a kernel, root, or a namespace.
 *
 * `dialFake(handler)` returns a `Conn` whose requests go to `handler`,
 * a function that answers each one with messages, an error, a multipart
 * reply or nothing. Only the socket is fake: sequence numbers, routing,
 * multipart replies, errors and acknowledgements go through the same
 * `Conn` code as against the kernel, from replies in the same bytes.
 *
 * ```ts
 * import { HeaderFlags } from 'netlink-node'
 * import { checkRequest, dialFake, multipart } from 'netlink-node/testing'
 *
 * const RTM_NEWLINK = 16
 * const RTM_GETLINK = 18
 * const ifinfomsg = Buffer.alloc(16)
 *
 * const { conn } = dialFake((request) => {
 *   checkRequest(request, RTM_GETLINK, HeaderFlags.Dump)
 *   return multipart([{ header: { type: RTM_NEWLINK }, data: ifinfomsg }])
 * })
 * const links = await conn.execute({
 *   header: { type: RTM_GETLINK, flags: HeaderFlags.Dump },
 * })
 * await conn.close()
 * ```
 */
import { Conn, type Config } from './lib/conn'
import { Family } from './lib/constants'
import type { Message, MessageInit } from './lib/message'
import { FAKE_PID, FakeTransport, type Handler } from './lib/testing/transport'
import * as check from './lib/validate'

export { checkRequest } from './lib/testing/check'
export {
  ErrorReply,
  ReplyBatches,
  ack,
  done,
  errorReply,
  multipart,
} from './lib/testing/replies'
export type {
  ErrorReplyOptions,
  MultipartOptions,
  Reply,
  ReplyMessage,
} from './lib/testing/replies'
export type { ExtAckInit } from './lib/testing/ack'
export { FAKE_PID }
export type { Handler }

/** How `dialFake` opens its Conn. Every field is optional. */
export interface FakeOptions {
  /** The Conn's port ID, unless `config.pid` gives one. Default 4242. */
  pid?: number
  /** The protocol, as for `dial`. Default `Family.ROUTE`. */
  family?: number
  /** The Conn's configuration, as for `dial`; `netns` is not opened. */
  config?: Config
}

/** A fake Conn and the kernel side of it. */
export interface Fake {
  /**
   * A real `Conn` over the fake transport. Close it when done; closing
   * drops replies not yet delivered.
   */
  conn: Conn
  /**
   * Sends `message` to multicast group `group`; the Conn receives it
   * from `receive()` in a later turn of the event loop, only if it is a
   * member of the group (`joinGroup` or `config.groups`) as the kernel
   * would deliver it. Header fields left out are 0.
   */
  notify(group: number, message: MessageInit): void
  /**
   * Every message the Conn sent, in order, as the handler saw it: from
   * `execute`, `send` and `sendMessages` alike. Filled as they are sent.
   */
  requests: Message[]
  /**
   * What the handler threw or rejected with, in order. Each also failed
   * its request with an `EIO` NetlinkError whose message quotes it.
   */
  handlerErrors: unknown[]
}

/**
 * Opens a `Conn` whose kernel is `handler`: it is called once for each
 * message the Conn sends, after the send, and its reply is delivered in
 * a later turn of the event loop, never inside the send. Reply headers
 * get the request's sequence and pid, and its type unless they give
 * one. A reply may be a message, an array of them (one datagram), an
 * `errorReply` or `ack`, a `multipart` reply, or `null` for none.
 *
 * A handler that throws, rejects or returns a reply that cannot be
 * encoded fails its request: the execute rejects with a `NetlinkError`
 * of code `EIO` and message `handler failed: <the error's message>`,
 * and the error itself goes to `handlerErrors`. A handler must not
 * expect its thrown error as the rejection's `cause`: the Conn builds
 * its errors from what it receives, as it does from the kernel.
 *
 * Synchronous; throws a TypeError or RangeError for bad arguments.
 */
export function dialFake(handler: Handler, options: FakeOptions = {}): Fake {
  if (typeof handler !== 'function') {
    throw check.typeError(
      `handler must be a function, got ${check.describe(handler)}`,
    )
  }
  const given = check.optionalObject('options', options)
  check.knownKeys('options', given, ['pid', 'family', 'config'])
  const pid = check.optionalInteger(
    'options.pid',
    given.pid,
    1,
    0xffffffff,
    FAKE_PID,
  )
  const family = check.optionalInteger(
    'options.family',
    given.family,
    0,
    31,
    Family.ROUTE,
  )

  const opened: FakeTransport[] = []
  const conn = new Conn(family, given.config as Config, (open, onBatch) => {
    const transport = new FakeTransport(open, onBatch, handler, pid)
    opened.push(transport)
    return transport
  })

  const [transport] = opened
  return {
    conn,
    notify: (group, message) => transport.notify(group, message),
    requests: transport.requests,
    handlerErrors: transport.handlerErrors,
  }
}
