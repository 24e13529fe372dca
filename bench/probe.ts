/**
 * Watches the process a benchmark tool runs in: how late a 1 ms interval
 * timer fires (event-loop lag) and the resident set size. One probe per
 * measured stretch; start it right before the work and stop it right
 * after. Used from the JavaScript thread only.
 */
export class Probe {
  #timer: NodeJS.Timeout
  #last: number
  #maxLag = 0
  #rssBefore: number

  /** Starts the timer and notes the RSS the work starts from. */
  constructor() {
    this.#rssBefore = process.memoryUsage.rss()
    this.#last = performance.now()
    this.#timer = setInterval(() => this.#tick(), 1)
  }

  /**
   * Stops the timer. Returns the largest delay of a tick past its 1 ms
   * interval, in milliseconds, and how far the peak RSS of the process
   * rose above the RSS at the start, in bytes.
   */
  stop(): { lagMs: number; rssGrowth: number } {
    this.#tick()
    clearInterval(this.#timer)
    const peak = process.resourceUsage().maxRSS * 1024
    return {
      lagMs: this.#maxLag,
      rssGrowth: Math.max(0, peak - this.#rssBefore),
    }
  }

  #tick(): void {
    const now = performance.now()
    this.#maxLag = Math.max(this.#maxLag, now - this.#last - 1)
    this.#last = now
  }
}

/** CPU seconds (user and system) this process used since `since`. */
export function cpuSeconds(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since)
  return (used.user + used.system) / 1e6
}
