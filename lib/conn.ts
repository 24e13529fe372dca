import { Buffer } from 'node:buffer'
import { randomInt } from 'node:crypto'
import { constants } from 'node:os'
import { performance } from 'node:perf_hooks'

import {
  NativeConn,
  sendThenReadInto,
  type BatchJs,
  type ExtAckJs,
  type OpenOptions,
} from '../binding'
import { ReplyArena, ownBatch, wholeBatch, type EarlyBatch } from './arena'
import { BatchMessage, BatchView, Field, Kind, RECORD_LEN } from './batch'
import { ConnOption, Family, HeaderFlags, HeaderType } from './constants'
import { debugEnabled, logReceived, logSent } from './debug'
import { NetlinkError, type ExtendedAck } from './errors'
import { HEADER_LENGTH, type Header, type Message } from './message'
import type { MessageInit } from './message'
import { callNative } from './native'
import { encodeMessage } from './codec'
import { ReceiveQueue } from './receive'
import * as check from './validate'

/** How to open a `Conn`. Every field is optional. */
export interface Config {
  /** Multicast groups 1..32 to join at bind time, as a bitmask. */
  groups?: number
  /** Port ID to bind; 0 or absent lets the kernel pick one. */
  pid?: number
  /**
   * The network namespace to open the socket in: a path
   * (`/var/run/netns/NAME`, `/proc/PID/ns/net`), a bare name made by
   * `ip netns add`, or an open file descriptor (borrowed, not closed).
   */
  netns?: string | number
  /** Turn on strict checking of GET requests (`NETLINK_GET_STRICT_CHK`). */
  strict?: boolean
  /**
   * Receive buffer in bytes (`SO_RCVBUFFORCE` when privileged, else
   * `SO_RCVBUF`, capped by `net.core.rmem_max`). Default 4 MiB.
   */
  readBufferSize?: number
  /**
   * Deliver messages sent by userspace ports too. By default only the
   * kernel's (port 0) are; others are dropped and counted in `stats()`.
   */
  acceptUserspace?: boolean
  /**
   * Deliver each datagram whole instead of splitting it into messages, for
   * families that send no netlink headers. Default: true for
   * `KOBJECT_UEVENT`, false otherwise.
   */
  raw?: boolean
  /**
   * Bytes `receive()` may hold while nobody reads; past it new messages
   * are dropped and an `ENOBUFS` error marks the gap. Default 16 MiB.
   */
  maxQueuedBytes?: number
}

/**
 * A message as `receive()` yields it: where it came from besides what it
 * says.
 */
export interface ReceivedMessage extends Message {
  /** The multicast group it was sent to; 0 for unicast. */
  group: number
  /** The sender's port ID; 0 for the kernel. */
  port: number
  /** The peer namespace id, with `ConnOption.ListenAllNSID`. */
  nsid?: number
  /** For error and DONE messages with an errno: that error. */
  error?: NetlinkError
}

/** One classic BPF instruction (`struct sock_filter`). */
export interface BpfInstruction {
  code: number
  jt: number
  jf: number
  k: number
}

/** Counters of what a `Conn` saw; all grow monotonically. */
export interface ConnStats {
  /** Datagrams dropped because a userspace port sent them. */
  dropped: number
  /** Overruns of the socket's receive buffer the kernel reported. */
  overruns: number
  /** Datagrams too large for the read buffer, dropped. */
  truncated: number
  /** Datagrams or messages that were not valid netlink. */
  malformed: number
  /** Batches the I/O thread handed over. */
  batches: number
  /** Datagrams read. */
  datagrams: number
  /** Times reading paused because JavaScript fell behind. */
  pauses: number
  /** Replies that came after their `execute` was given up. */
  lateReplies: number
  /** Messages dropped because the `receive()` queue was full. */
  queueDrops: number
}

/**
 * What a Conn stands on: the native socket, or a test double speaking the
 * same batch format. `NativeConn` is one.
 */
export type Transport = Omit<
  NativeConn,
  'pid' | 'handle' | 'sendThenRead' | 'watch' | 'enqueue'
> & {
  readonly pid: number
  /**
   * Sends from the I/O thread what a turn gathers past `SEND_SLICE_MS`;
   * without it, this thread sends everything.
   */
  enqueue?(datagram: Buffer): void
  /** Needed by a transport with `sendThenRead` or `sendThenReadInto`. */
  watch?(): void
  sendThenRead?(datagram: Buffer): BatchJs | null
  sendThenReadInto?(
    datagram: Buffer,
    data: Buffer,
    dataAt: number,
    records: Uint32Array,
    recordsAt: number,
  ): number | BatchJs
}

/** Batches as the binding delivers them. */
export type BatchHandler = (
  data: Buffer,
  records: Uint32Array,
  acks: ExtAckJs[],
) => void

/** Opens a transport: `NativeConn.open`, or a test double. */
export type OpenTransport = (
  options: OpenOptions,
  onBatch: BatchHandler,
) => Transport

const openNative: OpenTransport = (options, onBatch) =>
  NativeConn.open(options, onBatch as never)

interface Pending {
  resolve(messages: Message[]): void
  reject(err: unknown): void
  messages: Message[]
  /** Takes each message instead of `messages`. */
  each: ((message: Message) => void) | undefined
  /** Whether a message of the reply has come: the reply is under way. */
  started: boolean
  acknowledge: boolean
  interrupted: boolean
  cleanup?: () => void
}

const CONFIG_KEYS = [
  'groups',
  'pid',
  'netns',
  'strict',
  'readBufferSize',
  'acceptUserspace',
  'raw',
  'maxQueuedBytes',
] as const

/**
 * `Conn[eachReply]`: execute handing each reply message to a callback.
 * @internal
 */
export const eachReply = Symbol('eachReply')

/** What microtasks are chained on (`queueMicrotask` costs more). */
const RESOLVED = Promise.resolve()

const U32 = 0xffffffff
const U16 = 0xffff
const MAX_MESSAGE = 64 << 20
const MAX_DISCARDING = 4096
/** Milliseconds of routing batches before the event loop gets a turn. */
const SLICE_MS = 1
/** A pause between batches that shows the event loop turned. */
const SLICE_GAP_MS = 0.25
/**
 * Records routed between two looks at the clock: a batch can hold
 * thousands of messages, and a slice must end within one.
 */
const SLICE_RECORDS = 64 * RECORD_LEN
const ERRNO = constants.errno

/**
 * When the event loop last ran a callback of a Conn (a batch or an
 * immediate): proof that timers and I/O had a turn since.
 */
let lastTurn = -Infinity

/** How long replies read at once may be routed without a loop turn. */
const TURN_MS = 1

/** The payload of a request that gives none; empty, so never written. */
const NO_DATA = Buffer.alloc(0)

/**
 * A request header's field `key`, `value`, as an integer in `0..max`;
 * 0 when absent. The argument's name is spelled out only to throw.
 */
function headerField(
  name: string,
  key: string,
  value: unknown,
  max: number,
): number {
  if (value === undefined) return 0
  if (check.isIntegerIn(value, 0, max)) return value
  return check.integer(`${name}.header.${key}`, value, 0, max)
}

/**
 * Bytes of queued requests gathered into one datagram at most: sixteen
 * requests of 32 bytes. Gathering fewer than a turn's requests into each
 * datagram was measured faster than gathering them all (64 in flight:
 * 10-15 % less time than at 1 KiB on an Intel machine whose kernel
 * answers in 1.8 us, 2 % on an AMD machine taking 8 us); 256 bytes was
 * no better than 512 on the first and worse on the second.
 */
const QUEUE_DATAGRAM = 512

/**
 * How long a turn's queued requests may be sent on this thread, where
 * the kernel does its work of answering them; the rest go to the I/O
 * thread, where that work runs beside this thread's routing. Work that
 * takes less (a datagram of a few dozen quick requests, on a fast
 * machine) costs less than the wake-ups of handing it over; work that
 * takes longer is worth them.
 */
const SEND_SLICE_MS = 0.1

/** A request waiting for the end of the turn to be sent. */
interface Queued {
  datagram: Buffer
  sequence: number
}

/** How `#transmit` sends. */
const enum Mode {
  /** Send only; replies come through the I/O thread. */
  Send,
  /** Send, then read what already arrived on this thread. */
  Read,
  /**
   * Gather with the other requests of this turn; they go out together
   * when microtasks run, read as `Read` reads for `SEND_SLICE_MS`, then
   * handed to the I/O thread.
   */
  Queue,
}

/**
 * Conns with a request pending or a `receive()` waiting. The batch
 * callback holds its Conn weakly, so that a dropped idle Conn can be
 * collected; a busy one is held here, or an `await conn.execute(...)`
 * whose Conn nothing else names would lose it mid-request.
 */
const busyConns = new Set<Conn>()

/**
 * Opens a netlink socket of protocol `family` (`Family.ROUTE`, ...),
 * bound and served by the I/O thread. Synchronous; throws a
 * `NetlinkError` (op `'dial'`) when the kernel refuses, and a `TypeError`
 * or `RangeError` for bad arguments.
 */
export function dial(family: number, config: Config = {}): Conn {
  return new Conn(family, config)
}

/**
 * A netlink socket. All methods are for the thread that dialled it. Many
 * `execute` calls may be in flight at once; replies are routed by sequence
 * number, and anything else goes to `receive()`.
 *
 * An idle Conn does not keep the process alive; one with a pending
 * `execute` or a waiting `receive()` does, unless `unref()`ed. `close()`
 * ends it; a Conn that is garbage-collected unclosed is closed then.
 */
export class Conn {
  /** The bound port ID. */
  readonly pid: number

  #native: Transport
  #readInto: ReadInto | undefined
  #family: number
  #sequence: number
  #pending = new Map<number, Pending>()
  /** Sequences whose remaining replies are dropped; true: count them. */
  #discarding = new Map<number, boolean>()
  #queue: ReceiveQueue
  #receiveDumps = new Set<number>()
  #refed = true
  #keepingAlive = false
  /** Whether `busyConns` holds this Conn; a let-go is scheduled. */
  #held = false
  #lettingGo = false
  #closed = false
  #early: EarlyBatch[] = []
  // Microtask callbacks made once (queueMicrotask would make an async
  // resource and a bound function each call).
  #routeEarlyJob = () => this.#routeEarly()
  #sendQueuedJob = () => this.#sendQueued()
  /** Batches from the I/O thread held back until the event loop turns. */
  #inbox: BatchJs[] = []
  /** A hand-back of the socket to the I/O thread is scheduled. */
  #watchPending = false
  /** Requests to send, gathered until microtasks run. */
  #queued: Queued[] = []
  /** The sequence of the dump an execute has under way, or 0. */
  #dumping = 0
  /** Dump requests of pending executes, waiting for `#dumping` to end. */
  #waitingDumps: Message[] = []
  /** When the current stretch of routing began, and when it last ended. */
  #sliceStart = 0
  #routedAt = -Infinity
  #lateReplies = 0
  #malformed = 0

  /**
   * Use `dial`. `open` is for test doubles (see the `testing` entry
   * point); it defaults to the native socket.
   */
  constructor(
    family: number,
    config: Config = {},
    open: OpenTransport = openNative,
  ) {
    check.integer('family', family, 0, 31)
    const given = check.optionalObject('config', config)
    check.knownKeys('config', given, CONFIG_KEYS)

    const netns = given.netns
    if (
      netns !== undefined &&
      typeof netns !== 'string' &&
      typeof netns !== 'number'
    ) {
      throw check.typeError('config.netns must be a string or an fd number')
    }
    if (typeof netns === 'number') {
      check.integer('config.netns', netns, 0, 0x7fffffff)
    }

    const options: OpenOptions = {
      family,
      pid: check.optionalInteger('config.pid', given.pid, 0, U32, 0),
      groups: check.optionalInteger('config.groups', given.groups, 0, U32, 0),
      netnsPath: typeof netns === 'string' ? netns : undefined,
      netnsFd: typeof netns === 'number' ? netns : undefined,
      strict: check.optionalBoolean('config.strict', given.strict, false),
      readBufferSize: check.optionalInteger(
        'config.readBufferSize',
        given.readBufferSize,
        1,
        0x7fffffff,
        4 << 20,
      ),
      acceptUserspace: check.optionalBoolean(
        'config.acceptUserspace',
        given.acceptUserspace,
        false,
      ),
      raw: check.optionalBoolean(
        'config.raw',
        given.raw,
        family === Family.KOBJECT_UEVENT,
      ),
    }
    const limit = check.optionalInteger(
      'config.maxQueuedBytes',
      given.maxQueuedBytes,
      0,
      Number.MAX_SAFE_INTEGER,
      16 << 20,
    )

    // The callback holds the Conn weakly: an unreferenced Conn can be
    // collected, and its native half closes the socket then.
    const onBatch = Conn.#batchHandler(new WeakRef<Conn>(this))
    this.#native = callNative('dial', () => open(options, onBatch))
    this.#readInto = readerOf(this.#native)
    this.pid = this.#native.pid
    this.#family = family
    this.#sequence = randomInt(1, 0x7fffffff)
    this.#queue = new ReceiveQueue(limit, () => this.#updateRef())
  }

  /**
   * Sends a request and resolves with its reply: a dump's messages at its
   * DONE (not included), however many datagrams it spans; with
   * `HeaderFlags.Acknowledge`, what came before the acknowledgement (not
   * included); otherwise the single reply. Fills in length, sequence and
   * pid and sets `Request`. Rejects with a `NetlinkError` carrying the
   * kernel's errno and extended acknowledgement; with code `EINTR` and the
   * messages as `messages` when the kernel flags the dump inconsistent
   * (`NLM_F_DUMP_INTR`); with `EBADF` when the Conn closes first.
   */
  execute(m: MessageInit, opts?: { signal?: AbortSignal }): Promise<Message[]> {
    const signal = opts === undefined ? undefined : optionalSignal(opts)
    return this.#execute(m, signal, undefined)
  }

  /**
   * `execute` that hands each message of the reply to `each` as it is
   * routed, instead of gathering them: what `each` does then runs while
   * the rest of a dump is still being read. Resolves with no messages
   * when the reply ends. If `each` throws, rejects with what it threw and
   * drops the rest of the reply. Internal to this package (the rtnetlink
   * collections decode dumps with it): `index` does not export the
   * symbol, and it may change without notice.
   * @internal
   */
  [eachReply](m: MessageInit, each: (message: Message) => void): Promise<void> {
    if (typeof each !== 'function') {
      throw check.typeError('each must be a function')
    }
    return this.#execute(m, undefined, each).then(() => undefined)
  }

  #execute(
    m: MessageInit,
    signal: AbortSignal | undefined,
    each: ((message: Message) => void) | undefined,
  ): Promise<Message[]> {
    const message = this.#prepare('message', m)
    const sequence = message.header.sequence
    if (this.#pending.has(sequence)) {
      throw check.rangeError(`sequence ${sequence} is already pending`)
    }
    if (this.#closed) return Promise.reject(closedError('execute'))
    if (signal?.aborted) return Promise.reject(signal.reason)

    const promise = new Promise<Message[]>((resolve, reject) => {
      const pending: Pending = {
        resolve,
        reject,
        messages: [],
        each,
        started: false,
        acknowledge: (message.header.flags & HeaderFlags.Acknowledge) !== 0,
        interrupted: false,
      }
      if (signal !== undefined) {
        const onAbort = () => {
          this.#abandon(sequence)
          reject(signal.reason)
        }
        signal.addEventListener('abort', onAbort, { once: true })
        pending.cleanup = () => signal.removeEventListener('abort', onAbort)
      }
      this.#pending.set(sequence, pending)
    })

    // The kernel runs one dump at a time per socket and refuses another
    // with EBUSY: a dump waits for the one before it to end.
    if (message.header.flags & HeaderFlags.Dump) {
      if (this.#dumping !== 0) {
        this.#waitingDumps.push(message)
        this.#updateRef()
        return promise
      }
      this.#dumping = sequence
    }
    this.#start(message)
    return promise
  }

  /** Sends the request of a pending execute. */
  #start(message: Message): void {
    // A lone request is sent and, most often, answered right here; with
    // others in flight, it goes out with the rest of this turn's, which
    // the kernel answers in one sendmsg, and those replies are read here
    // too: handing cheap requests to the I/O thread costs more in
    // wake-ups than it gains in parallel work.
    const mode = this.#pending.size > 1 ? Mode.Queue : Mode.Read
    let readAtOnce = false
    try {
      readAtOnce = this.#transmit('execute', [message], mode)
    } catch (err) {
      this.#settle(message.header.sequence)?.reject(err)
    }
    // A reply read at once is routed from an immediate, which keeps the
    // loop alive until routing updates the ref: no need to flip it twice.
    if (!readAtOnce) this.#updateRef()
  }

  /** Starts the next waiting dump whose execute is still pending. */
  #nextDump(): void {
    this.#dumping = 0
    while (this.#waitingDumps.length > 0 && !this.#closed) {
      const message = this.#waitingDumps.shift() as Message
      const sequence = message.header.sequence
      if (!this.#pending.has(sequence)) continue
      this.#dumping = sequence
      this.#start(message)
      return
    }
  }

  /**
   * Sends one message and resolves with it as sent (length, sequence and
   * pid filled in). Its replies, if any, go to `receive()`.
   */
  send(m: MessageInit): Promise<Message> {
    const message = this.#prepare('message', m)
    return this.#sendAll('send', [message]).then((sent) => sent[0])
  }

  /** Sends several messages in one datagram (one `sendmsg`). */
  sendMessages(ms: MessageInit[]): Promise<Message[]> {
    if (!Array.isArray(ms)) {
      const got = check.describe(ms)
      throw check.typeError(`messages must be an array, got ${got}`)
    }
    if (ms.length === 0) {
      throw check.rangeError('messages must hold at least one message')
    }
    const messages = ms.map((m, i) => this.#prepare(`messages[${i}]`, m))
    return this.#sendAll('sendMessages', messages)
  }

  /**
   * Yields every message that is not a reply to an `execute`: multicast
   * notifications, replies to `send`, and with `acceptUserspace` messages
   * of userspace peers. An overrun throws a `NetlinkError` with code
   * `ENOBUFS` from `next()`; reading can go on afterwards. Leaving a loop
   * while a dump sent with `send` is under way drops the rest of that
   * dump. Several iterators share one stream: each message goes to one of
   * them. Throws `EBADF` once the Conn is closed.
   */
  receive(opts?: {
    signal?: AbortSignal
  }): AsyncIterableIterator<ReceivedMessage> {
    const signal = optionalSignal(opts)
    let done = false

    const iterator: AsyncIterableIterator<ReceivedMessage> = {
      next: () => {
        if (done) return Promise.resolve({ done: true, value: undefined })
        if (this.#closed) return Promise.reject(closedError('receive'))

        // A queued message settles at once: one promise, not three.
        const queued = this.#queue.poll()
        if (queued !== undefined) return settled(queued)
        return this.#queue.take(signal).then(settled)
      },
      return: async () => {
        done = true
        this.#dropReceiveDumps()
        return { done: true, value: undefined }
      },
      [Symbol.asyncIterator]() {
        return iterator
      },
    }
    return iterator
  }

  /** Joins multicast group `group` (1 and up; groups above 31 too). */
  joinGroup(group: number): void {
    check.integer('group', group, 1, U32)
    this.#call('joinGroup', () => this.#native.joinGroup(group))
  }

  /** Leaves multicast group `group`. */
  leaveGroup(group: number): void {
    check.integer('group', group, 1, U32)
    this.#call('leaveGroup', () => this.#native.leaveGroup(group))
  }

  /**
   * Turns a socket option on or off; see `ConnOption`. `PacketInfo` is on
   * from the start and stays on: telling multicast from replies depends on
   * it, so turning it off is a `RangeError`.
   */
  setOption(option: ConnOption, enabled: boolean): void {
    check.integer('option', option, 1, 255)
    if (typeof enabled !== 'boolean') {
      const got = check.describe(enabled)
      throw check.typeError(`enabled must be a boolean, got ${got}`)
    }
    if (!KNOWN_OPTIONS.has(option)) {
      throw check.rangeError(`option ${option} is not a ConnOption`)
    }
    if (option === ConnOption.PacketInfo && !enabled) {
      throw check.rangeError('ConnOption.PacketInfo cannot be turned off')
    }
    this.#call('setOption', () => this.#native.setOption(option, enabled))
  }

  /**
   * Attaches a classic BPF program that filters datagrams before they are
   * queued (`SO_ATTACH_FILTER`), replacing any other.
   */
  setBPF(program: BpfInstruction[]): void {
    if (!Array.isArray(program)) {
      throw check.typeError('program must be an array of BPF instructions')
    }
    check.integer('program.length', program.length, 1, 4096)

    const packed = Buffer.alloc(program.length * 8)
    program.forEach((ins, i) => {
      const at = `program[${i}]`
      const o = check.optionalObject(at, ins)
      packed.writeUInt16LE(check.integer(`${at}.code`, o.code, 0, U16), i * 8)
      packed.writeUInt8(check.integer(`${at}.jt`, o.jt, 0, 255), i * 8 + 2)
      packed.writeUInt8(check.integer(`${at}.jf`, o.jf, 0, 255), i * 8 + 3)
      packed.writeUInt32LE(check.integer(`${at}.k`, o.k, 0, U32), i * 8 + 4)
    })
    this.#call('setBPF', () => this.#native.setBpf(packed))
  }

  /** Removes the BPF program, if any. */
  removeBPF(): void {
    this.#call('removeBPF', () => this.#native.removeBpf())
  }

  /** Sets the receive buffer (`SO_RCVBUFFORCE`, else `SO_RCVBUF`). */
  setReadBuffer(bytes: number): void {
    check.integer('bytes', bytes, 1, 0x7fffffff)
    this.#call('setReadBuffer', () => this.#native.setReadBuffer(bytes))
  }

  /** Sets the send buffer (`SO_SNDBUFFORCE`, else `SO_SNDBUF`). */
  setWriteBuffer(bytes: number): void {
    check.integer('bytes', bytes, 1, 0x7fffffff)
    this.#call('setWriteBuffer', () => this.#native.setWriteBuffer(bytes))
  }

  /** The receive buffer's size as the kernel reports it (doubled). */
  readBuffer(): number {
    return this.#call('readBuffer', () => this.#native.readBuffer())
  }

  /** The send buffer's size as the kernel reports it (doubled). */
  writeBuffer(): number {
    return this.#call('writeBuffer', () => this.#native.writeBuffer())
  }

  /** Lets pending work keep the process alive again (the default). */
  ref(): this {
    this.#refed = true
    this.#updateRef()
    return this
  }

  /** Lets the process exit even while work is pending on this Conn. */
  unref(): this {
    this.#refed = false
    this.#updateRef()
    return this
  }

  /** Counters of what this Conn saw. */
  stats(): ConnStats {
    const native = this.#native.stats()
    return {
      ...native,
      malformed: this.#malformed,
      lateReplies: this.#lateReplies,
      queueDrops: this.#queue.dropped,
    }
  }

  /**
   * Closes the socket: pending executes reject and open iterators throw,
   * with code `EBADF`; the descriptor is closed when the promise resolves.
   * Calling it again does nothing.
   */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve()
    this.#closed = true
    busyConns.delete(this)
    this.#native.close()

    const pending = [...this.#pending.values()]
    this.#pending.clear()
    this.#waitingDumps = []
    this.#queued = []
    for (const p of pending) {
      p.cleanup?.()
      p.reject(closedError('execute'))
    }
    this.#queue.close(closedError('receive'))
    return Promise.resolve()
  }

  /** Closes the Conn; for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close()
  }

  #prepare(name: string, m: MessageInit): Message {
    // Names for error messages are built only when a check fails: this
    // runs for every request.
    if (m === undefined) {
      throw check.typeError(`${name} must be an object, got undefined`)
    }
    const init = check.isPlainObject(m) ? m : check.optionalObject(name, m)
    check.knownKeys(name, init, ['header', 'data'])
    const given = init.header
    const header = check.isPlainObject(given)
      ? given
      : check.optionalObject(`${name}.header`, given)
    const data =
      init.data === undefined
        ? NO_DATA
        : init.data instanceof Uint8Array
          ? init.data
          : check.bytes(`${name}.data`, init.data)
    if (data.length > MAX_MESSAGE) {
      throw check.rangeError(
        `${name}.data of ${data.length} bytes is over ${MAX_MESSAGE}`,
      )
    }

    const type = headerField(name, 'type', header.type, U16)
    const flags = headerField(name, 'flags', header.flags, U16)
    const sequence =
      headerField(name, 'sequence', header.sequence, U32) ||
      this.#nextSequence()
    const pid = headerField(name, 'pid', header.pid, U32) || this.pid
    const length = HEADER_LENGTH + data.length
    headerField(name, 'length', header.length, U32)

    const view = Buffer.isBuffer(data)
      ? data
      : Buffer.from(data.buffer, data.byteOffset, data.length)
    return {
      header: {
        length,
        type,
        flags: flags | HeaderFlags.Request,
        sequence,
        pid,
      },
      data: view,
    }
  }

  #nextSequence(): number {
    do {
      this.#sequence = (this.#sequence + 1) >>> 0 || 1
    } while (this.#pending.has(this.#sequence))
    return this.#sequence
  }

  #sendAll(op: string, messages: Message[]): Promise<Message[]> {
    if (this.#closed) return Promise.reject(closedError(op))
    try {
      this.#transmit(op, messages)
    } catch (err) {
      return Promise.reject(err)
    }
    return Promise.resolve(messages)
  }

  /** Sends; true when a reply was read at once and awaits routing. */
  #transmit(op: string, messages: Message[], mode = Mode.Send): boolean {
    const datagram =
      messages.length === 1
        ? encode(messages[0])
        : Buffer.concat(messages.map(encode))
    if (debugEnabled) logSent(this.#family, messages)

    const native = this.#native
    const gathers =
      native.sendThenRead !== undefined || native.enqueue !== undefined
    if (mode === Mode.Queue && gathers) {
      if (this.#closed) throw closedError(op)
      this.#queued.push({ datagram, sequence: messages[0].header.sequence })
      if (this.#queued.length === 1) void RESOLVED.then(this.#sendQueuedJob)
      return false
    }
    // What goes out now must follow what was queued before.
    if (this.#queued.length > 0) this.#sendQueued()
    return this.#sendNow(op, datagram, mode)
  }

  /**
   * Sends `datagram`, reading what the kernel answered at once unless
   * `mode` is `Send`; true when a reply was read and awaits routing.
   */
  #sendNow(op: string, datagram: Buffer, mode: Mode): boolean {
    const native = this.#native
    if (mode === Mode.Send || native.sendThenRead === undefined) {
      this.#call(op, () => native.send(datagram))
      return false
    }

    // Most requests are answered inside sendmsg; reading the reply here
    // spares it the trip through the I/O thread.
    const into = this.#readInto
    const batch = this.#call(op, () => readAtOnce(native, into, datagram))
    if (batch === null) return false
    this.#watchLater()
    if (this.#inbox.length > 0) {
      // Read after every batch held back: it goes after them.
      this.#inbox.push(ownBatch(batch))
      return true
    }
    this.#early.push(batch)
    if (this.#early.length === 1) this.#scheduleEarly()
    return true
  }

  /**
   * Sends the requests queued in this turn, gathered into datagrams of up
   * to `QUEUE_DATAGRAM` bytes, and reads what each datagram was answered
   * with: the kernel answers each request of a datagram in turn, in one
   * `sendmsg`. Once sending has taken `SEND_SLICE_MS`, the datagrams
   * after go to the I/O thread, so that slow requests (link creation,
   * say) do not hold the event loop for all of their length; what is
   * sent later goes out behind them. A request whose datagram cannot be
   * sent or handed over fails with the error.
   */
  #sendQueued(): void {
    const queued = this.#queued
    this.#queued = []
    const native = this.#native
    if (this.#closed) return

    const started = performance.now()
    let handOver = false
    let start = 0
    while (start < queued.length) {
      // A large request goes alone: a datagram over the socket's send
      // buffer fails whole, and must not take its neighbours with it.
      let end = start
      let bytes = 0
      while (end < queued.length) {
        const size = queued[end].datagram.length
        if (end > start && bytes + size > QUEUE_DATAGRAM) break
        bytes += size
        end++
      }
      const part = queued.slice(start, end)
      const datagram =
        part.length === 1
          ? part[0].datagram
          : Buffer.concat(
              part.map((q) => q.datagram),
              bytes,
            )
      // The first datagram always goes from here: a turn sends something.
      handOver ||=
        start > 0 &&
        native.enqueue !== undefined &&
        performance.now() - started >= SEND_SLICE_MS
      try {
        if (handOver) this.#call('execute', () => native.enqueue?.(datagram))
        else this.#sendNow('execute', datagram, Mode.Read)
      } catch (err) {
        for (const q of part) this.#settle(q.sequence)?.reject(err)
      }
      start = end
    }
    this.#updateRef()
  }

  /**
   * Hands the socket back to the I/O thread when the event loop turns: a
   * reply read at once leaves it unwatched, so that a run of requests
   * stops and resumes the watch once, not once each.
   */
  #watchLater(): void {
    if (this.#watchPending) return
    this.#watchPending = true
    setImmediate(() => {
      this.#watchPending = false
      if (!this.#closed) this.#native.watch?.()
    })
  }

  /**
   * Routes the replies read at once after the calling code: in a
   * microtask while the event loop had a turn less than `TURN_MS` ago,
   * else from an immediate, so a loop of awaited executes still lets
   * timers and I/O run every millisecond or so.
   */
  #scheduleEarly(): void {
    if (performance.now() - lastTurn < TURN_MS) {
      void RESOLVED.then(this.#routeEarlyJob)
      return
    }
    setImmediate(() => {
      lastTurn = performance.now()
      this.#routeEarly()
    })
  }

  /** Routes batches read by `#transmit`, which precede any later one. */
  #routeEarly(): void {
    const early = this.#early
    this.#early = []
    if (this.#inbox.length > 0) this.#inbox.push(...early.map(ownBatch))
    else for (const b of early) this.#onEarly(b)
  }

  #call<T>(op: string, work: () => T): T {
    if (this.#closed) throw closedError(op)
    return callNative(op, work)
  }

  /**
   * Takes a batch from the I/O thread. Batches queued while JavaScript was
   * busy arrive back to back in one callback, and one batch may hold what
   * arrived over a while; after `SLICE_MS` of routing the rest waits for
   * the next turn of the event loop, so that timers and I/O are not held
   * up for a whole dump or burst.
   */
  #receiveBatch(data: Buffer, records: Uint32Array, acks: ExtAckJs[]): void {
    if (this.#closed) return
    const now = performance.now()
    lastTurn = now
    let rest = records
    if (this.#inbox.length === 0) {
      // A gap since the last batch means the loop turned in between.
      if (now - this.#routedAt > SLICE_GAP_MS) this.#sliceStart = now
      rest = this.#routeSlice(data, records, acks)
      if (rest.length === 0 || this.#closed) return
    }
    // Batches read at once came before this one.
    const early = this.#early
    this.#early = []
    const own = early.map(ownBatch)
    this.#inbox.push(...own, { data, records: rest, extAcks: acks })
    if (this.#inbox.length === 1 + early.length) {
      setImmediate(() => this.#drainInbox())
    }
  }

  /** Routes held-back batches for one slice, then yields again. */
  #drainInbox(): void {
    this.#sliceStart = performance.now()
    lastTurn = this.#sliceStart
    let next = 0
    while (next < this.#inbox.length && !this.#closed) {
      const b = this.#inbox[next]
      const rest = this.#routeSlice(b.data, b.records, b.extAcks)
      if (rest.length > 0) {
        this.#inbox[next] = { ...b, records: rest }
        break
      }
      next++
    }
    this.#inbox.splice(0, next)
    if (this.#closed) this.#inbox = []
    if (this.#inbox.length > 0) setImmediate(() => this.#drainInbox())
  }

  /**
   * Routes the records of a batch, `SLICE_RECORDS` at a time, while the
   * slice has time left; returns those left unrouted (none: all were).
   */
  #routeSlice(
    data: Buffer,
    records: Uint32Array,
    acks: ExtAckJs[],
  ): Uint32Array {
    let at = 0
    while (at < records.length && !this.#closed) {
      if (performance.now() - this.#sliceStart >= SLICE_MS) break
      const end = Math.min(records.length, at + SLICE_RECORDS)
      const part =
        at === 0 && end === records.length ? records : records.subarray(at, end)
      this.#onBatch(data, part, acks)
      this.#routedAt = performance.now()
      at = end
    }
    return at === 0 ? records : records.subarray(at)
  }

  #onEarly(batch: EarlyBatch): void {
    this.#onBatch(
      batch.data,
      batch.records,
      batch.extAcks,
      batch.from,
      batch.to,
    )
  }

  /** Routes records `from` to `to` of a batch (all of it by default). */
  #onBatch(
    data: Buffer,
    records: Uint32Array,
    acks: ExtAckJs[],
    from = 0,
    to = records.length,
  ): void {
    if (this.#closed) return
    if (this.#early.length > 0) this.#routeEarly()

    // The reply the last message was gathered into: the parts of it that
    // follow one another are added to it directly, without the lookup
    // and checks of routing each (three times the cost of a message).
    // Any other record ends the run.
    let gathering: Message[] | undefined
    let gatheringSequence = 0
    const view = new BatchView(data, records)
    for (let at = from; at < to; at += RECORD_LEN) {
      const kind = records[at + Field.Kind]
      if (
        gathering !== undefined &&
        kind === Kind.Message &&
        records[at + Field.Sequence] === gatheringSequence &&
        isPlainPart(records[at + Field.TypeFlags]) &&
        isReply(records[at + Field.Group], records[at + Field.Port])
      ) {
        gathering.push(new BatchMessage(view, at))
        continue
      }
      gathering = undefined
      switch (kind & 0xff) {
        case Kind.Message:
          gathering = this.#onMessage(view, at, acks)
          gatheringSequence = records[at + Field.Sequence]
          break
        case Kind.Datagram:
          this.#queue.push(new BatchMessage(view, at))
          break
        case Kind.Overrun:
          this.#onOverrun()
          break
        default:
          this.#onFault(records, at)
      }
    }
    this.#updateRef()
  }

  /**
   * Routes the message of record `at`, reading what routing needs from the
   * record so that the message's own header and data are made only when
   * somebody reads them. Returns the messages of the reply it was gathered
   * into while that reply goes on: where the next part may go directly,
   * unless NODE_DEBUG logs each message.
   */
  #onMessage(
    view: BatchView,
    at: number,
    acks: ExtAckJs[],
  ): Message[] | undefined {
    const records = view.records
    const message = new BatchMessage(view, at)
    if (debugEnabled) logReceived(this.#family, message)
    const typeFlags = records[at + Field.TypeFlags]
    const type = typeFlags & 0xffff
    if (type === HeaderType.Noop) return undefined
    const flags = typeFlags >>> 16
    const sequence = records[at + Field.Sequence]

    const errno = records[at + Field.Errno]
    const ack = records[at + Field.ExtAck]
    const extAck = ack === 0 ? undefined : (acks[ack - 1] as ExtendedAck)
    const terminal = isTerminal(type, flags)

    const reply = isReply(records[at + Field.Group], records[at + Field.Port])
    const pending = reply ? this.#pending.get(sequence) : undefined
    if (pending !== undefined) {
      this.#feed(pending, message, typeFlags, sequence, errno, extAck)
      const open = this.#pending.get(sequence) === pending
      const direct = open && pending.each === undefined && !debugEnabled
      return direct ? pending.messages : undefined
    }
    const counted = reply ? this.#discarding.get(sequence) : undefined
    if (counted !== undefined) {
      if (counted) this.#lateReplies++
      if (terminal) this.#discarding.delete(sequence)
      return undefined
    }

    if (reply) this.#trackReceiveDump(terminal, sequence)
    if (errno !== 0 && isOutcome(type)) {
      message.error = new NetlinkError('receive', errno, { sequence, extAck })
    }
    this.#queue.push(message)
    return undefined
  }

  #feed(
    pending: Pending,
    message: Message,
    typeFlags: number,
    sequence: number,
    errno: number,
    extAck: ExtendedAck | undefined,
  ): void {
    const type = typeFlags & 0xffff
    const flags = typeFlags >>> 16
    if (flags & HeaderFlags.DumpInterrupted) pending.interrupted = true
    pending.started = true

    if (isOutcome(type)) {
      this.#settle(sequence)
      if (errno !== 0) {
        const detail = errno === ERRNO.EPERM ? this.#refusal(extAck) : undefined
        const err = new NetlinkError('execute', errno, {
          sequence,
          extAck,
          detail,
        })
        pending.reject(err)
      } else if (pending.interrupted) {
        pending.reject(interruptedError(sequence, pending.messages))
      } else {
        pending.resolve(pending.messages)
      }
      return
    }

    if (pending.each === undefined) pending.messages.push(message)
    else if (!this.#hand(pending, sequence, message)) return
    if (isTerminal(type, flags) && !pending.acknowledge) {
      this.#settle(sequence)
      pending.resolve(pending.messages)
    }
  }

  /**
   * Hands a message to an `eachReply` caller; false when that threw, and
   * the execute is then rejected with what it threw.
   */
  #hand(pending: Pending, sequence: number, message: Message): boolean {
    try {
      ;(pending.each as (message: Message) => void)(message)
      return true
    } catch (err) {
      this.#abandon(sequence)
      pending.reject(err)
      return false
    }
  }

  /**
   * Says which capability a request refused with `EPERM` lacked, unless
   * the kernel explained itself in an extended acknowledgement.
   */
  #refusal(extAck: ExtendedAck | undefined): string | undefined {
    if (extAck?.message !== undefined) return undefined
    return this.#family === Family.AUDIT
      ? 'operation not permitted: needs CAP_AUDIT_CONTROL'
      : 'operation not permitted: changing state needs CAP_NET_ADMIN'
  }

  #settle(sequence: number): Pending | undefined {
    const pending = this.#pending.get(sequence)
    if (pending === undefined) return undefined
    this.#pending.delete(sequence)
    if (sequence === this.#dumping) this.#nextDump()
    pending.cleanup?.()
    return pending
  }

  #abandon(sequence: number): void {
    // A dump still waiting for its turn was never sent: nothing to drop.
    const waiting = this.#waitingDumps.findIndex(
      (m) => m.header.sequence === sequence,
    )
    if (waiting >= 0) this.#waitingDumps.splice(waiting, 1)

    if (this.#settle(sequence) === undefined) return
    if (waiting < 0) this.#discard(sequence, true)
    this.#updateRef()
  }

  /** Drops what is still to come for `sequence`; `count`s late replies. */
  #discard(sequence: number, count: boolean): void {
    this.#discarding.set(sequence, count)
    if (this.#discarding.size > MAX_DISCARDING) {
      const oldest = this.#discarding.keys().next().value as number
      this.#discarding.delete(oldest)
    }
  }

  #onOverrun(): void {
    // A reply not yet started may have been among what the kernel dropped;
    // waiting for it could be forever. Dumps under way lose nothing (the
    // kernel makes each part once there is room), nor do dumps not sent.
    const waiting = new Set(this.#waitingDumps.map((m) => m.header.sequence))
    for (const [sequence, pending] of [...this.#pending]) {
      if (pending.started || waiting.has(sequence)) continue
      this.#abandon(sequence)
      pending.reject(
        new NetlinkError('execute', ERRNO.ENOBUFS, {
          sequence,
          detail: 'receive buffer overrun: the reply may have been lost',
        }),
      )
    }
    this.#queue.push(new NetlinkError('receive', ERRNO.ENOBUFS))
  }

  #onFault(records: Uint32Array, at: number): void {
    this.#malformed++
    const sequence = records[at + Field.Sequence]
    const errno = records[at + Field.Errno]
    const kind = records[at + Field.Kind] & 0xff
    const detail =
      kind === Kind.Truncated
        ? `a datagram of ${records[at + Field.Length]} bytes was truncated`
        : 'a malformed message was dropped'

    const reply = isReply(records[at + Field.Group], records[at + Field.Port])
    const pending = reply ? this.#settle(sequence) : undefined
    const op = pending === undefined ? 'receive' : 'execute'
    const err = new NetlinkError(op, errno, { sequence, detail })
    if (pending !== undefined) pending.reject(err)
    else this.#queue.push(err)
  }

  #trackReceiveDump(terminal: boolean, sequence: number): void {
    if (terminal) this.#receiveDumps.delete(sequence)
    else this.#receiveDumps.add(sequence)
  }

  #dropReceiveDumps(): void {
    if (this.#receiveDumps.size === 0 || this.#queue.waiting > 0) return
    const dumps = this.#receiveDumps
    this.#receiveDumps = new Set()
    for (const sequence of dumps) this.#discard(sequence, false)

    this.#queue.discard(
      (m) => isReply(m.group, m.port) && dumps.has(m.header.sequence),
    )
  }

  /**
   * The binding's batch callback for the Conn `self` refers to. Made
   * here, not in the constructor, so that its closure holds nothing but
   * `self`: a closure made there would share the constructor's context,
   * and with it a strong reference to the Conn.
   */
  static #batchHandler(self: WeakRef<Conn>): BatchHandler {
    return (data, records, acks) => {
      const conn = self.deref()
      if (conn !== undefined) conn.#receiveBatch(data, records, acks)
    }
  }

  #updateRef(): void {
    if (this.#closed) return
    if (this.#busy()) {
      if (!this.#held) busyConns.add(this)
      this.#held = true
      this.#applyRef(this.#refed)
      return
    }

    // A Conn goes idle between two requests, or between two reads of a
    // receive() loop, all the time: it lets go only if it is still idle
    // after this turn of the loop, not once or twice per message.
    if ((!this.#held && !this.#keepingAlive) || this.#lettingGo) return
    this.#lettingGo = true
    setImmediate(() => {
      this.#lettingGo = false
      if (this.#closed || this.#busy()) return
      busyConns.delete(this)
      this.#held = false
      this.#applyRef(false)
    })
  }

  #busy(): boolean {
    return this.#pending.size > 0 || this.#queue.waiting > 0
  }

  #applyRef(keep: boolean): void {
    if (keep === this.#keepingAlive) return
    this.#keepingAlive = keep
    this.#native.setRef(keep)
  }
}

const KNOWN_OPTIONS = new Set<number>(Object.values(ConnOption))

/** A `receive()` iterator's result for a queued message or error. */
function settled(
  item: ReceivedMessage | NetlinkError,
): Promise<IteratorResult<ReceivedMessage>> {
  if (item instanceof Error) return Promise.reject(item)
  return Promise.resolve({ done: false, value: item })
}

/** The signal of an `options` argument that may hold one. */
function optionalSignal(opts: unknown): AbortSignal | undefined {
  const options = check.optionalObject('options', opts)
  return check.optionalSignal('options.signal', options.signal)
}

/** Encodes a message `#prepare` made, whose fields are checked. */
function encode(message: Message): Buffer {
  return encodeMessage(message.header, message.data)
}

/** `sendThenReadInto` of one transport. */
type ReadInto = (
  datagram: Buffer,
  data: Buffer,
  dataAt: number,
  records: Uint32Array,
  recordsAt: number,
) => number | BatchJs

/**
 * How `transport` reads a reply at once into the arena, if it can. The
 * binding's is a plain function taking the socket's handle (a method
 * call costs napi-rs about 200 ns more), bound here once per Conn.
 */
function readerOf(transport: Transport): ReadInto | undefined {
  if (transport instanceof NativeConn) {
    const handle = transport.handle
    return (datagram, data, dataAt, records, recordsAt) =>
      sendThenReadInto(handle, datagram, data, dataAt, records, recordsAt)
  }
  return transport.sendThenReadInto?.bind(transport)
}

/** Where replies read at once go, for the Conns of this thread. */
const arena = new ReplyArena()

/**
 * Sends `datagram` and returns what the kernel already answered, or null.
 * A reply is written into the arena and handed out from there.
 */
function readAtOnce(
  native: Transport,
  into: ReadInto | undefined,
  datagram: Buffer,
): EarlyBatch | null {
  if (into === undefined) {
    const batch = native.sendThenRead?.(datagram) ?? null
    return batch === null ? null : wholeBatch(batch)
  }

  arena.prepare()
  const { data, dataAt, records, recordsAt } = arena
  const got = into(datagram, data, dataAt, records, recordsAt)
  if (typeof got !== 'number') return wholeBatch(got)
  return got === 0 ? null : arena.claim(got)
}

/**
 * Whether a message can answer a request: only the kernel's unicast can,
 * not multicast and not a userspace peer, whatever sequence they carry.
 */
function isReply(group: number, port: number): boolean {
  return group === 0 && port === 0
}

/** Whether a message type reports how a request ended (ERROR, DONE). */
function isOutcome(type: number): boolean {
  return type === HeaderType.Error || type === HeaderType.Done
}

/**
 * Whether a message of these type and flags (`Field.TypeFlags`) is a
 * part of a multipart reply that only needs adding to it: not its end,
 * not an interrupted dump's, not a NOOP.
 */
function isPlainPart(typeFlags: number): boolean {
  const type = typeFlags & 0xffff
  const flags = typeFlags >>> 16
  return (
    (flags & (HeaderFlags.Multi | HeaderFlags.DumpInterrupted)) ===
      HeaderFlags.Multi &&
    type !== HeaderType.Noop &&
    !isOutcome(type)
  )
}

/** Whether a message ends its reply: not part of a multipart one. */
function isTerminal(type: number, flags: number): boolean {
  return isOutcome(type) || (flags & HeaderFlags.Multi) === 0
}

function closedError(op: string): NetlinkError {
  return new NetlinkError(op, ERRNO.EBADF, { detail: 'connection closed' })
}

function interruptedError(sequence: number, messages: Message[]): NetlinkError {
  const err = new NetlinkError('execute', ERRNO.EINTR, {
    sequence,
    detail: 'dump interrupted: the data changed while it was read; retry',
  })
  return Object.assign(err, { messages })
}

export type { Header }
