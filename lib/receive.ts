import { constants } from 'node:os'

import { payloadLength } from './batch'
import type { ReceivedMessage } from './conn'
import { NetlinkError } from './errors'

type Item = ReceivedMessage | NetlinkError

interface Waiter {
  resolve(item: Item): void
  reject(err: unknown): void
}

/** Memory a queued message is charged beyond its payload. */
const MESSAGE_OVERHEAD = 96

/**
 * The messages waiting for `receive()`: everything that is not a reply to
 * an `execute`. Bounded by bytes: past the limit new messages are dropped
 * and the consumer meets one `ENOBUFS` error where the gap is, as it would
 * for a kernel overrun. Used from the JavaScript thread only.
 */
export class ReceiveQueue {
  #items: Item[] = []
  #head = 0
  #bytes = 0
  #waiters: Waiter[] = []
  #limit: number
  #closed: NetlinkError | undefined
  #onWaiting: () => void

  /** Messages dropped because the queue was full. */
  dropped = 0

  /**
   * A queue holding at most `limit` bytes; `onWaiting` is called whenever
   * the number of waiting consumers changes.
   */
  constructor(limit: number, onWaiting: () => void) {
    this.#limit = limit
    this.#onWaiting = onWaiting
  }

  /** Consumers waiting for an item. */
  get waiting(): number {
    return this.#waiters.length
  }

  /** Queues a message or an error, or hands it to a waiting consumer. */
  push(item: Item): void {
    if (this.#closed !== undefined) return
    const waiter = this.#waiters.shift()
    if (waiter !== undefined) {
      waiter.resolve(item)
      this.#onWaiting()
      return
    }

    const size = item instanceof Error ? 0 : cost(item)
    if (this.#bytes + size > this.#limit) {
      this.#overflow()
      return
    }
    this.#items.push(item)
    this.#bytes += size
  }

  /** The next queued item, or undefined when none is queued. */
  poll(): Item | undefined {
    return this.#head < this.#items.length ? this.#shift() : undefined
  }

  /** The next item, waiting for one if none is queued. */
  take(signal?: AbortSignal): Promise<Item> {
    if (this.#head < this.#items.length) {
      return Promise.resolve(this.#shift())
    }
    if (this.#closed !== undefined) return Promise.reject(this.#closed)
    if (signal?.aborted) return Promise.reject(signal.reason)

    return new Promise<Item>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject }
      const onAbort = () => {
        this.#forget(waiter)
        reject(signal?.reason)
      }
      if (signal !== undefined) {
        signal.addEventListener('abort', onAbort, { once: true })
        waiter.resolve = (item) => {
          signal.removeEventListener('abort', onAbort)
          resolve(item)
        }
      }
      this.#waiters.push(waiter)
      this.#onWaiting()
    })
  }

  /** Drops queued messages `drop` says yes to. */
  discard(drop: (m: ReceivedMessage) => boolean): void {
    const kept = this.#items
      .slice(this.#head)
      .filter((item) => item instanceof Error || !drop(item))
    this.#items = kept
    this.#head = 0
    this.#bytes = kept.reduce(
      (sum, item) => sum + (item instanceof Error ? 0 : cost(item)),
      0,
    )
  }

  /** Fails waiting and future takes with `err`, and empties the queue. */
  close(err: NetlinkError): void {
    this.#closed = err
    this.#items = []
    this.#head = 0
    this.#bytes = 0
    const waiters = this.#waiters
    this.#waiters = []
    for (const waiter of waiters) waiter.reject(err)
    this.#onWaiting()
  }

  #shift(): Item {
    const item = this.#items[this.#head]
    this.#items[this.#head] = undefined as unknown as Item
    this.#head++
    if (!(item instanceof Error)) this.#bytes -= cost(item)

    // Compact once the consumed prefix dominates.
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head)
      this.#head = 0
    }
    return item
  }

  #overflow(): void {
    this.dropped++
    const last = this.#items[this.#items.length - 1]
    if (last instanceof NetlinkError && last.code === 'ENOBUFS') return

    this.#items.push(
      new NetlinkError('receive', errnoENOBUFS, {
        detail:
          `receive queue over its ${this.#limit}-byte limit: ` +
          'messages were dropped',
      }),
    )
  }

  #forget(waiter: Waiter): void {
    const index = this.#waiters.indexOf(waiter)
    if (index >= 0) this.#waiters.splice(index, 1)
    this.#onWaiting()
  }
}

const errnoENOBUFS = constants.errno.ENOBUFS

function cost(message: ReceivedMessage): number {
  return payloadLength(message) + MESSAGE_OVERHEAD
}
