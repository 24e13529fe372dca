/**
 * Text decoded from bytes that repeat from one message of a dump to the
 * next (a qdisc, a kind, a broadcast address): the last bytes and their
 * text are remembered, so a repeat costs a comparison, not a new string.
 */

/** Longest value remembered; longer ones are decoded every time. */
const MAX = 32

/**
 * RecentText remembers one value's bytes and the text made of them. A
 * module-level instance serves every decoder call on its thread; each
 * worker loads its own.
 */
export class RecentText {
  readonly #bytes = Buffer.alloc(MAX)
  #length = -1
  #text = ''

  /** The text remembered for the bytes of `b` from `start` to `end`. */
  match(b: Buffer, start: number, end: number): string | undefined {
    const length = end - start
    if (length !== this.#length) return undefined

    const bytes = this.#bytes
    for (let i = 0; i < length; i++) {
      if (b[start + i] !== bytes[i]) return undefined
    }
    return this.#text
  }

  /** Remembers `text` as made of the bytes of `b` from `start` to `end`. */
  remember(b: Buffer, start: number, end: number, text: string): string {
    if (end - start <= MAX) {
      b.copy(this.#bytes, 0, start, end)
      this.#length = end - start
      this.#text = text
    }
    return text
  }
}
