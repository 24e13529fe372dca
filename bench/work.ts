/**
 * What each benchmark tool is asked to do and what it reports. A tool
 * runs in a child process of its own, inside the benchmark's network
 * namespace, and does one piece of work per process.
 */
import { Probe } from './probe'

/** The request numbers the work uses, from `<linux/rtnetlink.h>`. */
export const RTM_NEWLINK = 16
export const RTM_GETLINK = 18
export const RTM_NEWROUTE = 24
export const RTM_GETROUTE = 26
export const RTNLGRP_IPV4_ROUTE = 7
export const AF_INET = 2

/** What a dump reports. */
export interface DumpFigures {
  /** Messages the caller holds at the end, DONE not counted. */
  messages: number
  /** Bytes of those messages, headers included. */
  bytes: number
  seconds: number
  /** Largest delay of a 1 ms interval timer during the dump, in ms. */
  lagMs?: number
  /** How far peak RSS rose over the dump, in bytes. */
  rssGrowth?: number
}

/** What a run of `execute` round trips reports. */
export interface ExecuteFigures {
  messages: number
  seconds: number
}

/** What a listener reports after a burst of route additions. */
export interface ListenFigures {
  /** RTM_NEWROUTE notifications received. */
  events: number
  /** Overruns (`ENOBUFS`) reported. */
  overruns: number
  /** CPU seconds from the first notification to the end. */
  cpuSeconds: number
  /** Largest delay of a 1 ms interval timer while listening, in ms. */
  lagMs?: number
  /**
   * The same figures for the listener's first burst, where the figures
   * above are a later one's.
   */
  first?: ListenFigures
}

/**
 * What the idle process reports: the event-loop lag of a Node.js process
 * doing nothing, over the stretch another tool's work took.
 */
export interface IdleFigures {
  /** Largest delay of a 1 ms interval timer, in ms. */
  lagMs: number
}

/**
 * A Node.js netlink library driven by the benchmark. Every method opens
 * its own socket, does its work and closes the socket.
 */
export interface Tool {
  /** Dumps IPv4 routes and holds every message. */
  routes(): Promise<DumpFigures>
  /** Dumps links as raw messages, or as typed objects when `typed`. */
  links(typed: boolean): Promise<DumpFigures | undefined>
  /** `count` RTM_GETLINK requests for index 1, `inFlight` at a time. */
  execute(count: number, inFlight: number): Promise<ExecuteFigures>
  /**
   * Listens on the IPv4 route group with the library's defaults, on one
   * socket through every burst of `bursts` (see `listenThrough`).
   */
  listen(expected: number, bursts: Bursts): Promise<ListenFigures>
}

/**
 * Bursts a listener hears, one after the other on one socket, each into
 * a routing table of its own (bench/native/baseline.c hears as many).
 * The first is reported apart; the second is the listener's usual.
 */
export const LISTEN_BURSTS = 2

/**
 * What the runner tells a listener about its bursts: for each, in turn,
 * `ready`, then `sent`.
 */
export interface Bursts {
  /** Says the listener is ready for the next burst. */
  ready(): void
  /** Resolves once the burst `ready` asked for was sent. */
  sent(): Promise<void>
}

/** An `ifinfomsg` asking for link `index` (0: every link). */
export function ifinfomsg(index: number): Buffer {
  const body = Buffer.alloc(16)
  body.writeInt32LE(index, 4)
  return body
}

/** An `rtmsg` for IPv4 routes. */
export function rtmsg(): Buffer {
  const body = Buffer.alloc(12)
  body[0] = AF_INET
  return body
}

/**
 * Runs `count` calls of `once`, `inFlight` of them at a time, and returns
 * the seconds it took.
 */
export async function roundTrips(
  count: number,
  inFlight: number,
  once: () => Promise<unknown>,
): Promise<number> {
  const start = performance.now()
  let left = count
  const lane = async () => {
    while (left > 0) {
      left--
      await once()
    }
  }
  await Promise.all(Array.from({ length: inFlight }, lane))
  return (performance.now() - start) / 1000
}

/**
 * Counts notifications until `expected` arrived, or until a second went
 * by without one after `sent` resolved.
 */
export class EventCounter {
  events = 0
  overruns = 0
  #started: NodeJS.CpuUsage | undefined
  #lastAt = performance.now()

  /** Notes `n` notifications. */
  add(n: number): void {
    if (n === 0) return
    if (this.#started === undefined) this.#started = process.cpuUsage()
    this.events += n
    this.#lastAt = performance.now()
  }

  /** Starts counting afresh. */
  reset(): void {
    this.events = 0
    this.overruns = 0
    this.#started = undefined
    this.#lastAt = performance.now()
  }

  /** CPU seconds since the first notification. */
  cpuSeconds(): number {
    if (this.#started === undefined) return 0
    const used = process.cpuUsage(this.#started)
    return (used.user + used.system) / 1e6
  }

  /** Resolves when the listening is over (see the class). */
  async done(expected: number, sent: Promise<void>): Promise<void> {
    let isSent = false
    void sent.then(() => {
      isSent = true
      this.#lastAt = Math.max(this.#lastAt, performance.now())
    })
    for (;;) {
      if (this.events >= expected) return
      const quiet = performance.now() - this.#lastAt
      if (isSent && quiet >= 1000) return
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  }
}

/**
 * Listens through `LISTEN_BURSTS` bursts with `counter`, which the tool's
 * reading feeds, and returns the last burst's figures with the first's
 * in `first`. A listener runs for long: its first burst, while V8
 * compiles the code that reads it, is not its usual.
 */
export async function listenThrough(
  expected: number,
  bursts: Bursts,
  counter: EventCounter,
): Promise<ListenFigures> {
  const figures: ListenFigures[] = []
  for (let i = 0; i < LISTEN_BURSTS; i++) {
    counter.reset()
    const probe = new Probe()
    bursts.ready()
    await counter.done(expected, bursts.sent())
    const cpuSeconds = counter.cpuSeconds()
    const { lagMs } = probe.stop()
    const { events, overruns } = counter
    figures.push({ events, overruns, cpuSeconds, lagMs })
  }
  return { ...figures[figures.length - 1], first: figures[0] }
}
