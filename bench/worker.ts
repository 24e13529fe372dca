/**
 * One benchmark run of one Node.js tool, in a process of its own so that
 * a tool that crashes (npm `netlink` aborts on an overrun) is reported as
 * that tool's failure, not the benchmark's:
 *
 *   node bench/worker.js TOOL WORK [COUNT]
 *
 * TOOL is `library` or `npm-netlink`; WORK one of `routes`,
 * `first-routes`, `links`, `typed-links`, `execute`, `in-flight`,
 * `listen`. TOOL `idle` does no netlink work and only measures
 * event-loop lag: WORK `quiet` for COUNT milliseconds, `burst` from
 * `ready` until the burst was sent. It prints one JSON line with the
 * figures (`null`: the tool cannot do this work). `idle burst` prints
 * `ready` first and takes a line on standard input as the sign that the
 * burst was sent; `listen` does so for each of its bursts (see
 * `LISTEN_BURSTS`). Run it with `--expose-gc`, so that garbage of the
 * warm-up is gone before the measured work.
 */
import { createInterface } from 'node:readline'

import { Probe } from './probe'
import { library } from './tools/library'
import { npmNetlink } from './tools/npm-netlink'
import type { IdleFigures, Tool } from './work'

const TOOLS: Record<string, Tool> = {
  library,
  'npm-netlink': npmNetlink,
}

/** Requests kept in flight by the `in-flight` work. */
const IN_FLIGHT = 64

/** Untimed passes of the round trips before the timed one. */
const WARM_UP_PASSES = 3

/**
 * Untimed link dumps before a timed dump: a dump of 1,001 links reaches
 * its steady speed after about twenty.
 */
const DUMP_WARM_UPS = 20

/**
 * Untimed route dumps before the timed one. The second of a process still
 * pays for V8 growing its young generation to the size of a dump: two
 * collections that copy the messages held so far, 6-16 ms. The third and
 * later do not.
 */
const ROUTE_WARM_UPS = 3

async function main(): Promise<void> {
  const [toolName = '', work = '', countArg = '0'] = process.argv.slice(2)
  const tool = TOOLS[toolName]
  const count = Number(countArg)
  if (tool === undefined && toolName !== 'idle') {
    throw new Error(`unknown tool ${toolName}`)
  }

  const result =
    tool === undefined ? await idle(work, count) : await run(tool, work, count)
  process.stdout.write(JSON.stringify(result ?? null) + '\n')
}

/**
 * The lag of a process that does nothing else, the floor the machine
 * sets for the tools' own: for `ms` milliseconds (`quiet`), or while
 * the burst is made (`burst`).
 */
async function idle(work: string, ms: number): Promise<IdleFigures> {
  collect()
  const probe = new Probe()
  if (work === 'quiet') {
    await new Promise((resolve) => setTimeout(resolve, ms))
  } else if (work === 'burst') {
    ready()
    await lineOnStdin()
  } else {
    throw new Error(`unknown idle work ${work}`)
  }
  return { lagMs: probe.stop().lagMs }
}

/**
 * Does `work` untimed to warm up (compiled code, kernel caches), then
 * again and returns what that last time measured. The route dump warms up
 * on link dumps, then collects garbage: its peak RSS must be its own.
 */
async function run(tool: Tool, work: string, count: number): Promise<unknown> {
  switch (work) {
    case 'routes':
    case 'first-routes':
      for (let i = 0; i < DUMP_WARM_UPS; i++) await tool.links(false)
      // The dump proper, like the rest, comes after untimed ones; the
      // first of a process is measured apart, where its peak RSS is its
      // own.
      if (work === 'routes') {
        for (let i = 0; i < ROUTE_WARM_UPS; i++) await tool.routes()
      }
      collect()
      return tool.routes()
    case 'links':
    case 'typed-links': {
      const typed = work === 'typed-links'
      for (let i = 0; i < DUMP_WARM_UPS; i++) await tool.links(typed)
      return tool.links(typed)
    }
    case 'execute':
    case 'in-flight': {
      const inFlight = work === 'execute' ? 1 : IN_FLIGHT
      // Compiled code settles only after tens of thousands of calls.
      // A forced collection here slows what follows by a third: none.
      for (let i = 0; i < WARM_UP_PASSES; i++) {
        await tool.execute(count, inFlight)
      }
      return tool.execute(count, inFlight)
    }
    case 'listen':
      collect()
      return tool.listen(count, { ready, sent: lineOnStdin })
    default:
      throw new Error(`unknown work ${work}`)
  }
}

/** Collects garbage where `--expose-gc` allows it. */
function collect(): void {
  ;(globalThis as { gc?: () => void }).gc?.()
}

function ready(): void {
  process.stdout.write('ready\n')
}

/** The lines that come on standard input, read from the first wait. */
let stdinLines: AsyncIterator<string> | undefined

/** Resolves on the next line on standard input, or at once after EOF. */
async function lineOnStdin(): Promise<void> {
  stdinLines ??= createInterface({ input: process.stdin })[
    Symbol.asyncIterator
  ]()
  await stdinLines.next()
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`${err?.stack ?? err}\n`)
    process.exit(1)
  },
)
