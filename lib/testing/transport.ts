/**
 * A fake transport: the far side of a `Conn` played by a function. Its
 * replies are made into batches by the binding's own parser, so every
 * rule of the real `Conn` (sequence numbers, routing, multipart replies,
 * errors, `receive()`, close, abort) applies unchanged to what it sends.
 */
import { constants } from 'node:os'

import {
  batchOf,
  type BatchJs,
  type NativeStats,
  type OpenOptions,
} from '../../binding'
import { marshalMessage, parseMessages } from '../codec'
import type { BatchHandler, Transport } from '../conn'
import { ConnOption, HeaderType } from '../constants'
import type { Message, MessageInit } from '../message'
import * as check from '../validate'
import { errorPayload, type ExtAckInit } from './ack'
import { ErrorReply, ReplyBatches, type Reply } from './replies'

const ERRNO = constants.errno

/** The port ID of a fake Conn unless told otherwise. */
export const FAKE_PID = 4242

/** The send buffer Linux gives a socket by default, as it reports it. */
const DEFAULT_WRITE_BUFFER = 212992

/** The receive buffer a Conn asks for unless configured. */
const DEFAULT_READ_BUFFER = 4 << 20

/**
 * Answers one request: returns the reply, or a promise of it. It may
 * throw or reject; see `FakeTransport` for what the Conn sees then.
 */
export type Handler = (request: Message) => Reply | Promise<Reply>

/**
 * A `Transport` whose kernel is `handler`. It is opened by a `Conn`
 * (see `dialFake`) and used from the JavaScript thread only.
 *
 * Each message `send` is given is recorded in `requests`, then handed to
 * the handler once `send` has returned. Its reply goes out when the
 * handler's promise settles, in the binding's batch format, each batch
 * in a later turn of the event loop (`setImmediate`) and in the order
 * replies became ready, never inside `send`; each batch holds one
 * datagram. Reply headers get the request's sequence, pid and type
 * where they leave them out, as the kernel fills them.
 *
 * A handler that throws, rejects, or returns a reply that cannot be
 * encoded is answered with an NLMSG_ERROR of `EIO` whose extended
 * acknowledgement says `handler failed: <its message>`: the execute
 * rejects with a `NetlinkError` saying so, and nothing hangs. The Conn
 * builds its errors from what a batch carries, as it does for the
 * kernel, so the thrown value cannot ride along as the `cause`; it is
 * kept in `handlerErrors` instead, in order, for a test to inspect.
 *
 * After `close()` every method but `stats`, `setRef` and `close` throws
 * `EBADF` in the binding's form, and replies still on their way are
 * dropped. The fake never keeps the process alive by itself: a test that
 * awaits a reply which never comes ends instead of hanging.
 */
export class FakeTransport implements Transport {
  /** The bound port ID: `config.pid` when given, else the fake's own. */
  readonly pid: number
  /** Every message sent, in order, as the handler received it. */
  readonly requests: Message[] = []
  /** What handlers threw or rejected with, in order. */
  readonly handlerErrors: unknown[] = []

  #handler: Handler
  #onBatch: BatchHandler
  #raw: boolean
  #groups = new Set<number>()
  #options = new Map<number, boolean>()
  #readBuffer: number
  #writeBuffer = DEFAULT_WRITE_BUFFER
  #outbox: BatchJs[] = []
  #scheduled = false
  #closed = false
  #batches = 0
  #datagrams = 0

  /**
   * A transport opened with `options` (as a Conn computes them) that
   * delivers to `onBatch` and answers requests with `handler`. `pid` is
   * the port ID to report when `options.pid` is 0.
   */
  constructor(
    options: OpenOptions,
    onBatch: BatchHandler,
    handler: Handler,
    pid: number = FAKE_PID,
  ) {
    this.pid = options.pid || pid
    this.#handler = handler
    this.#onBatch = onBatch
    this.#raw = options.raw
    this.#readBuffer = 2 * (options.readBufferSize ?? DEFAULT_READ_BUFFER)

    // The binding turns these on at open; strict checking is asked for.
    this.#options.set(ConnOption.PacketInfo, true)
    this.#options.set(ConnOption.ExtendedAcknowledge, true)
    this.#options.set(ConnOption.GetStrictCheck, options.strict)

    // Bit n of the bind-time mask is group n + 1.
    for (let group = 1; group <= 32; group++) {
      if ((options.groups >>> (group - 1)) & 1) this.#groups.add(group)
    }
  }

  /** Records the datagram's messages and hands each to the handler. */
  send(datagram: Buffer): void {
    this.#checkOpen()
    const messages = parseMessages(Buffer.from(datagram))
    this.requests.push(...messages)
    for (const request of messages) void this.#serve(request)
  }

  /**
   * Delivers `message` as a multicast notification to `group` if the
   * Conn is a member of it, by `joinGroup` or `config.groups`, as the
   * kernel delivers; otherwise, or once closed, it is dropped. Header
   * fields left out are 0. In raw mode only `message.data` is sent, as
   * the kernel sends uevents: a datagram without a netlink header.
   * Throws a TypeError or RangeError for a bad group or message.
   */
  notify(group: number, message: MessageInit): void {
    check.integer('group', group, 1, 0xffffffff)
    const init = check.optionalObject('message', message)
    check.knownKeys('message', init, ['header', 'data'])
    const header = check.optionalObject('message.header', init.header)
    const data =
      init.data === undefined
        ? Buffer.alloc(0)
        : Buffer.from(check.bytes('message.data', init.data))

    const bytes = this.#raw
      ? data
      : marshalMessage({
          header: {
            type: (header.type ?? 0) as number,
            flags: (header.flags ?? 0) as number,
            sequence: (header.sequence ?? 0) as number,
            pid: (header.pid ?? 0) as number,
          },
          data,
        })
    if (this.#closed || !this.#groups.has(group)) return
    this.#post(bytes, group)
  }

  /** Joins `group`: notifications to it are delivered from now on. */
  joinGroup(group: number): void {
    this.#checkOpen()
    this.#groups.add(group)
  }

  /** Leaves `group`, whether joined here or at bind time. */
  leaveGroup(group: number): void {
    this.#checkOpen()
    this.#groups.delete(group)
  }

  /**
   * Records a `NETLINK_*` option. `CapAcknowledge` and
   * `ExtendedAcknowledge` change the errors the fake sends; the others
   * are only kept.
   */
  setOption(option: number, enabled: boolean): void {
    this.#checkOpen()
    this.#options.set(option, enabled)
  }

  /** Accepts a packed BPF program, which the fake keeps but never runs. */
  setBpf(program: Buffer): void {
    this.#checkOpen()
    if (program.length % 8 !== 0) {
      throw new Error(`${ERRNO.EINVAL}:a bpf program is 8 bytes an instruction`)
    }
  }

  /** Accepts the removal of the BPF program. */
  removeBpf(): void {
    this.#checkOpen()
  }

  /** Sets the receive buffer; `readBuffer()` reports it doubled. */
  setReadBuffer(bytes: number): boolean {
    this.#checkOpen()
    this.#readBuffer = 2 * bytes
    return true
  }

  /** Sets the send buffer; `writeBuffer()` reports it doubled. */
  setWriteBuffer(bytes: number): boolean {
    this.#checkOpen()
    this.#writeBuffer = 2 * bytes
    return true
  }

  /** The receive buffer as the kernel would report it. */
  readBuffer(): number {
    this.#checkOpen()
    return this.#readBuffer
  }

  /** The send buffer as the kernel would report it. */
  writeBuffer(): number {
    this.#checkOpen()
    return this.#writeBuffer
  }

  /** Accepted and ignored: the fake never holds the event loop open. */
  setRef(_on: boolean): void {}

  /** Counts of batches and datagrams delivered; the rest stay 0. */
  stats(): NativeStats {
    return {
      dropped: 0,
      overruns: 0,
      truncated: 0,
      batches: this.#batches,
      datagrams: this.#datagrams,
      pauses: 0,
    }
  }

  /** Closes the fake: replies not yet delivered are dropped. */
  close(): void {
    this.#closed = true
    this.#outbox = []
  }

  async #serve(request: Message): Promise<void> {
    let batches: Buffer[][]
    try {
      // A handler that calls back into the Conn must not find it in the
      // middle of sending.
      await undefined
      const reply = await this.#handler(request)
      batches = this.#encode(request, reply)
    } catch (err) {
      this.handlerErrors.push(err)
      const text = err instanceof Error ? err.message : String(err)
      const failure = { message: `handler failed: ${text}` }
      batches = [[this.#error(request, ERRNO.EIO, failure, true)]]
    }

    if (this.#closed) return
    for (const batch of batches) this.#post(Buffer.concat(batch), 0)
  }

  /** The batches of a reply, each the messages of one datagram. */
  #encode(request: Message, reply: Reply): Buffer[][] {
    if (reply === null) return []
    if (reply instanceof ReplyBatches) {
      return reply.batches.map((batch, i) =>
        batch.map((m, j) => this.#message(request, m, `batches[${i}][${j}]`)),
      )
    }
    if (Array.isArray(reply)) {
      if (reply.length === 0) {
        throw check.typeError('reply is an empty array; return null for none')
      }
      return [reply.map((m, i) => this.#message(request, m, `reply[${i}]`))]
    }
    return [[this.#message(request, reply, 'reply')]]
  }

  #message(request: Message, m: unknown, name: string): Buffer {
    if (m instanceof ErrorReply) {
      const tlvs = this.#options.get(ConnOption.ExtendedAcknowledge) === true
      return this.#error(request, m.errno, m.extAck, tlvs)
    }
    if (m === undefined) {
      throw check.typeError(`${name} is undefined; return null for none`)
    }

    const init = check.optionalObject(name, m)
    check.knownKeys(name, init, ['header', 'data'])
    const header = check.optionalObject(`${name}.header`, init.header)
    const data =
      init.data === undefined
        ? undefined
        : check.bytes(`${name}.data`, init.data)
    const given = request.header
    return marshalMessage({
      header: {
        type: (header.type ?? given.type) as number,
        flags: (header.flags ?? 0) as number,
        sequence: (header.sequence ?? given.sequence) as number,
        pid: (header.pid ?? given.pid) as number,
      },
      data,
    })
  }

  /** An NLMSG_ERROR answering `request`, as the kernel writes one. */
  #error(
    request: Message,
    errno: number,
    extAck: ExtAckInit,
    tlvs: boolean,
  ): Buffer {
    const capAck = this.#options.get(ConnOption.CapAcknowledge) === true
    const capped = errno === 0 || capAck
    const { flags, data } = errorPayload(request, errno, extAck, {
      capped,
      tlvs,
    })
    const { sequence, pid } = request.header
    return marshalMessage({
      header: { type: HeaderType.Error, flags, sequence, pid },
      data,
    })
  }

  /** Queues a batch of one datagram, sent to `group` (0 for unicast). */
  #post(bytes: Buffer, group: number): void {
    this.#outbox.push(batchOf(bytes, group, this.#raw))
    this.#pump()
  }

  /** Delivers the queued batches one per turn of the event loop. */
  #pump(): void {
    if (this.#scheduled || this.#outbox.length === 0) return
    this.#scheduled = true

    setImmediate(() => {
      this.#scheduled = false
      const batch = this.#outbox.shift()
      if (batch === undefined || this.#closed) return

      this.#batches++
      this.#datagrams++
      this.#onBatch(batch.data, batch.records, batch.extAcks)
      this.#pump()
    })
  }

  #checkOpen(): void {
    if (this.#closed) throw new Error(`${ERRNO.EBADF}:connection closed`)
  }
}
