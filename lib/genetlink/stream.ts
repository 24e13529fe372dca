import { plainMessage } from '../batch'
import type { Conn, ReceivedMessage } from '../conn'
import { NetlinkError } from '../errors'
import { ReceiveQueue } from '../receive'
import { GENL_ID_CTRL, GENL_MIN_ID } from './constants'
import { decodeControllerEvent, type ControllerEvent } from './events'
import { decodeGeneric } from './header'

/** Why the reader stops: nobody waits. Made once, not per stop. */
const STOPPED = Object.freeze(new Error('nobody is reading'))

/**
 * A message as a `GenericConn`'s `receive()` yields it: the core
 * `ReceivedMessage` (group, port, error) with the generic header read.
 * NLMSG_ERROR and NLMSG_DONE messages (answers to `send`) carry no
 * generic header: their `command` and `version` are 0 and `data` is
 * their whole payload. A controller notification also carries its
 * decoded `event`.
 */
export interface GenericReceivedMessage extends ReceivedMessage {
  command: number
  version: number
  /** The controller's notification, decoded (`nlctrl`'s `notify`). */
  event?: ControllerEvent
}

/** Who wants to see controller notifications as they are read. */
export interface Watcher {
  onEvent(event: ControllerEvent): void
  /** The Conn closed: no event will come. */
  onClose(err: unknown): void
}

/** How a stream hands what it reads to its `GenericConn`. */
export interface StreamHooks {
  /** Sees every controller event first, before any watcher. */
  onEvent(event: ControllerEvent): void
  /** Whether a message read for a watcher belongs in `receive()` too. */
  keep(message: ReceivedMessage): boolean
}

/**
 * The single reader of a core Conn's `receive()` under a `GenericConn`.
 * It reads only while somebody waits (a `receive()` iterator, or a
 * watcher such as `waitForFamily`) and for one turn of the event loop
 * after, so an idle Conn lets the process exit. What it reads is
 * decoded once, shown to the hooks and watchers, then queued for
 * `receive()` (bounded like the core's queue: past the limit an
 * `ENOBUFS` error marks the gap). JavaScript thread only.
 */
export class GenericStream {
  #conn: Conn
  #hooks: StreamHooks
  #queue: ReceiveQueue
  #watchers = new Set<Watcher>()
  #reading: AbortController | undefined
  #closed = false
  #stopping = false
  #closedError: NetlinkError | undefined

  constructor(conn: Conn, limit: number, hooks: StreamHooks) {
    this.#conn = conn
    this.#hooks = hooks
    this.#queue = new ReceiveQueue(limit, () => this.#update())
  }

  /**
   * The next message or error for a `receive()` iterator; an error is
   * returned, not thrown, so that the iterator can throw it.
   */
  async take(signal?: AbortSignal): Promise<GenericReceivedMessage | Error> {
    return (await this.#queue.take(signal)) as GenericReceivedMessage | Error
  }

  /** Shows `watcher` every controller event read from now on. */
  watch(watcher: Watcher): void {
    if (this.#closed) {
      watcher.onClose(this.#closedError)
      return
    }
    this.#watchers.add(watcher)
    this.#update()
  }

  /** Stops showing events to `watcher`. */
  unwatch(watcher: Watcher): void {
    this.#watchers.delete(watcher)
    this.#update()
  }

  /** Starts reading when somebody waits, stops when nobody does. */
  #update(): void {
    if (this.#closed) return
    if (this.#wanted() && this.#reading === undefined) {
      void this.#read(new AbortController())
    } else if (!this.#wanted() && this.#reading !== undefined) {
      if (this.#stopping) return
      // A loop over `receive()` asks again as soon as it has handled a
      // message: stopping a turn later spares a restart per message.
      this.#stopping = true
      setImmediate(() => {
        this.#stopping = false
        if (!this.#wanted()) this.#reading?.abort(STOPPED)
      })
    }
  }

  #wanted(): boolean {
    return this.#queue.waiting > 0 || this.#watchers.size > 0
  }

  async #read(reading: AbortController): Promise<void> {
    this.#reading = reading
    const iterator = this.#conn.receive({ signal: reading.signal })

    while (!reading.signal.aborted) {
      let message: ReceivedMessage
      try {
        const next = await iterator.next()
        if (next.done) break
        message = next.value
      } catch (err) {
        if (reading.signal.aborted) break
        if (err instanceof NetlinkError && err.code === 'EBADF') {
          this.#close(err)
          return
        }
        this.#push(err as Error)
        continue
      }
      this.#deliver(message)
    }

    // Somebody may have started waiting again while this loop wound down.
    this.#reading = undefined
    this.#update()
  }

  #deliver(message: ReceivedMessage): void {
    const { type } = message.header
    if (type < GENL_MIN_ID) {
      this.#push({ ...plainMessage(message), command: 0, version: 0 })
      return
    }

    let out: GenericReceivedMessage
    try {
      const generic = decodeGeneric(message)
      out = { ...plainMessage(message), ...generic }
      // The controller's unicast replies to `send` are not events.
      const notice = type === GENL_ID_CTRL && message.group !== 0
      const event = notice ? decodeControllerEvent(generic) : undefined
      if (event !== undefined) {
        out.event = event
        this.#hooks.onEvent(event)
        for (const w of [...this.#watchers]) w.onEvent(event)
      }
    } catch (err) {
      if (this.#hooks.keep(message)) this.#push(err as Error)
      return
    }
    if (this.#hooks.keep(message)) this.#push(out)
  }

  #push(item: GenericReceivedMessage | Error): void {
    // The queue tells errors from messages by `instanceof Error` only, so
    // a GenericError travels through it as well as a NetlinkError does.
    this.#queue.push(item as GenericReceivedMessage | NetlinkError)
  }

  #close(err: NetlinkError): void {
    this.#closed = true
    this.#closedError = err
    this.#reading = undefined
    this.#queue.close(err)
    const watchers = [...this.#watchers]
    this.#watchers.clear()
    for (const w of watchers) w.onClose(err)
  }
}
