/**
 * The network namespace the benchmark runs in: made with `ip netns add`,
 * filled with a veth pair, routes and veth links, and removed when the
 * benchmark exits, however it exits (end, error, Ctrl-C, SIGTERM). The
 * host's own interfaces are never touched.
 */
import { execFile, execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'

import { LISTEN_BURSTS } from './work'

/**
 * The tables bursts add their routes to, apart from the dumped ones: one
 * for each burst a listener hears, so that none waits for the removal of
 * another's routes, whose notifications it would hear too.
 */
export const BURST_TABLES: readonly number[] = Array.from(
  { length: LISTEN_BURSTS },
  (_, i) => 100 + i,
)

/** How many routes and links the namespace holds. */
export interface Population {
  routes: number
  links: number
}

/** A namespace of the benchmark's own; `remove()` deletes it. */
export class Namespace {
  readonly name = 'nlbench-' + randomBytes(4).toString('hex')
  #removed = false
  #onSignal = (signal: NodeJS.Signals) => {
    this.remove()
    process.exit(signal === 'SIGINT' ? 130 : 143)
  }
  #onExit = () => this.remove()

  /**
   * Creates the namespace with a veth pair (`veth0` 198.18.0.1/24 and
   * `veth1`), `routes` /32 routes in 198.19.0.0/16 via `veth0`, and veth
   * pairs up to `links` veth links in all.
   */
  constructor(population: Population) {
    ip(['netns', 'add', this.name])
    process.once('exit', this.#onExit)
    process.once('SIGINT', this.#onSignal)
    process.once('SIGTERM', this.#onSignal)

    this.batch([
      'link set lo up',
      'link add veth0 type veth peer name veth1',
      'link set veth0 up',
      'link set veth1 up',
      'address add 198.18.0.1/24 dev veth0',
    ])
    const pairs = Math.max(0, Math.ceil((population.links - 2) / 2))
    this.batch(
      Array.from(
        { length: pairs },
        (_, i) => `link add vb${i}a type veth peer name vb${i}b`,
      ),
    )
    this.batch(routeLines(population.routes, 'via 198.18.0.2 dev veth0'))
  }

  /** Runs each line as an `ip -batch` command inside the namespace. */
  batch(lines: string[]): void {
    if (lines.length === 0) return
    ip(['-n', this.name, '-batch', '-'], lines.join('\n') + '\n')
  }

  /** Like `batch`, without holding the event loop. */
  batchAsync(lines: string[]): Promise<void> {
    return new Promise((resolve, reject) => {
      const args = ['-n', this.name, '-batch', '-']
      const child = execFile('ip', args, (err, _out, stderr) => {
        if (err) reject(new Error(`ip -batch: ${stderr || err.message}`))
        else resolve()
      })
      child.stdin?.end(lines.join('\n') + '\n')
    })
  }

  /** Removes every route of the bursts' tables. */
  flushBursts(): void {
    for (const table of BURST_TABLES) {
      ip(['-n', this.name, 'route', 'flush', 'table', String(table)])
    }
  }

  /** Deletes the namespace; safe to call more than once. */
  remove(): void {
    if (this.#removed) return
    this.#removed = true
    process.off('exit', this.#onExit)
    process.off('SIGINT', this.#onSignal)
    process.off('SIGTERM', this.#onSignal)
    try {
      ip(['netns', 'del', this.name])
    } catch {
      // Already gone: nothing is left to clean.
    }
  }
}

/**
 * `count` lines adding /32 routes in 198.19.0.0/16 (at most 65,536),
 * each ending with `tail`.
 */
export function routeLines(count: number, tail: string): string[] {
  return Array.from(
    { length: Math.min(count, 1 << 16) },
    (_, i) => `route add 198.19.${i >> 8}.${i & 255}/32 ${tail}`,
  )
}

function ip(args: string[], input?: string): string {
  try {
    return execFileSync('ip', args, {
      input,
      encoding: 'utf8',
      stdio: ['pipe', 'pipe', 'pipe'],
      maxBuffer: 1 << 24,
    })
  } catch (err) {
    const stderr = String((err as { stderr?: unknown }).stderr ?? '')
    throw new Error(`ip ${args.slice(0, 4).join(' ')}: ${stderr.trim()}`)
  }
}
