/**
 * Resource accounting for leak tests, and a program that runs dial and
 * close cycles and prints what they left behind. Run it with
 * `--expose-gc` inside a namespace:
 *
 *     ip netns exec NS node --expose-gc __test__/helpers/leak-probe.js \
 *       CYCLES PENDING_CYCLES DROPPED
 *
 * It prints one JSON object (`ProbeReport`). The leak spec runs it at a
 * reduced size; TESTING.md quotes it at full size.
 */
import { readdirSync } from 'node:fs'
import { setImmediate as turn } from 'node:timers/promises'

/** What the process holds at one moment. */
export interface Usage {
  /** Open file descriptors (`/proc/self/fd`). */
  fds: number
  /** Threads (`/proc/self/task`). */
  threads: number
  /** Resident set size in bytes, after garbage collection. */
  rss: number
}

/**
 * What one phase left behind: usage before it, halfway and after it.
 * The first half raises the allocators' high-water marks; a leak shows
 * as growth over the second half, which repeats the first.
 */
export interface Phase {
  cycles: number
  before: Usage
  half: Usage
  after: Usage
}

/** The probe's output. */
export interface ProbeReport {
  /** Dial, then close. */
  plain: Phase
  /** Dial, start an execute that is never answered, then close. */
  pending: Phase
  /** Dial and drop the Conn unclosed; the garbage collector closes it. */
  dropped: Phase
}

/** Collects garbage until it stops finding more, letting finalizers run. */
export async function settle(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc
  if (gc === undefined) throw new Error('run node with --expose-gc')
  for (let i = 0; i < 8; i++) {
    gc()
    await turn()
  }
}

/** Usage now, after collecting garbage. */
export async function usage(): Promise<Usage> {
  await settle()
  return {
    fds: readdirSync('/proc/self/fd').length,
    threads: readdirSync('/proc/self/task').length,
    rss: process.memoryUsage.rss(),
  }
}

/**
 * Cycles run before measuring: enough for the allocators' high-water
 * marks to settle (RSS stops growing after about 20,000 here).
 */
const WARM_UP = 20_000

/** A request no kernel family answers: `NLMSG_NOOP` without ACK. */
const NEVER_ANSWERED = { header: { type: 1 } }

async function phase(
  cycles: number,
  cycle: () => Promise<void>,
): Promise<Phase> {
  const run = async (count: number) => {
    for (let i = 0; i < count; i++) {
      await cycle()
      // Let finalizers of the Conns closed so far run now and then.
      if (i % 1000 === 999) await turn()
    }
  }

  const before = await usage()
  await run(Math.floor(cycles / 2))
  const half = await usage()
  await run(cycles - Math.floor(cycles / 2))
  return { cycles, before, half, after: await usage() }
}

/**
 * Runs the three phases with the cycle counts in `argv` (plain, pending,
 * dropped) and prints the report.
 */
export async function main(argv: string[]): Promise<void> {
  const [cycles, pendingCycles, dropped] = argv.map(Number)
  const nl = require('../../index') as typeof import('../../index')
  const open = () => nl.dial(nl.Family.ROUTE)

  // Warm up: the I/O thread, per-thread buffers and compiled code exist
  // before the first measurement.
  for (let i = 0; i < WARM_UP; i++) await open().close()

  const plain = await phase(cycles, () => open().close())
  const pending = await phase(pendingCycles, async () => {
    const conn = open()
    const reply = conn.execute(NEVER_ANSWERED).catch((err) => err)
    await conn.close()
    const err = (await reply) as { code?: string }
    if (err.code !== 'EBADF') throw new Error(`execute ended with ${err}`)
  })
  const unclosed = await phase(dropped, async () => {
    open()
  })

  const report: ProbeReport = { plain, pending, dropped: unclosed }
  process.stdout.write(JSON.stringify(report) + '\n')
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err) => {
    process.stderr.write(`${err?.stack ?? err}\n`)
    process.exit(1)
  })
}
