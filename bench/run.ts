/**
 * `npm run bench`: runs the benchmark inside a network namespace of its
 * own and prints the table of medians, ratios and targets.
 *
 *   node bench/run.js [--smoke] [--runs N] [--json FILE]
 *
 * `--smoke` does tiny amounts of work once and checks no target (it is
 * what `npm test` runs); `--json` also writes the runs and the rows to
 * FILE. Needs root, `ip` (iproute2) and `gcc`. Exits 1 when a target is
 * missed in a full run.
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

import { BURST_TABLES, Namespace, routeLines } from './namespace'
import { allMet, format, tabulate, type Run } from './report'
import {
  TOOLS,
  runIdle,
  runIdleDuring,
  runListener,
  runWork,
  type Outcome,
  type ToolName,
} from './runner'
import type { DumpFigures } from './work'

/** How much work each run does. */
interface Sizes {
  routes: number
  links: number
  executes: number
  burst: number
  runs: number
}

const FULL: Sizes = {
  routes: 65_536,
  links: 1_000,
  executes: 10_000,
  burst: 65_536,
  runs: 7,
}

const SMOKE: Sizes = {
  routes: 256,
  links: 10,
  executes: 200,
  burst: 256,
  runs: 1,
}

const ROOT = join(__dirname, '..')

async function main(): Promise<number> {
  const args = process.argv.slice(2)
  const smoke = args.includes('--smoke')
  const runsAt = args.indexOf('--runs')
  const jsonAt = args.indexOf('--json')
  const sizes = { ...(smoke ? SMOKE : FULL) }
  if (runsAt >= 0) sizes.runs = Math.max(1, Number(args[runsAt + 1]))

  if (process.getuid?.() !== 0) {
    process.stderr.write('bench: needs root (network namespaces)\n')
    return 2
  }
  const baseline = buildBaseline()
  const started = performance.now()
  const ns = new Namespace({ routes: sizes.routes, links: sizes.links })
  const setup = (performance.now() - started) / 1000
  log(`namespace ${ns.name} ready in ${setup.toFixed(1)} s`)

  const runs: Run[] = []
  try {
    for (let i = 0; i < sizes.runs; i++) {
      // Start each run with another tool, so no tool always goes first.
      const order = TOOLS.map((_, k) => TOOLS[(k + i) % TOOLS.length])
      runs.push(await oneRun(ns, baseline, sizes, order))
      log(`run ${i + 1} of ${sizes.runs} done`)
    }
  } finally {
    ns.remove()
  }

  const rows = tabulate(runs, !smoke)
  const seconds = (performance.now() - started) / 1000
  process.stdout.write(format(rows, !smoke) + '\n')
  process.stdout.write(
    `\n${sizes.runs} run(s), medians; ${seconds.toFixed(0)} s in all\n`,
  )
  if (jsonAt >= 0) {
    const file = args[jsonAt + 1]
    writeFileSync(file, JSON.stringify({ sizes, runs, rows }, null, 2))
  }
  return smoke || allMet(rows) ? 0 : 1
}

/** Every piece of work once, each by every tool in `order`. */
async function oneRun(
  ns: Namespace,
  baseline: string,
  sizes: Sizes,
  order: readonly ToolName[],
): Promise<Run> {
  const each = async <T>(
    work: (tool: ToolName) => Promise<T>,
  ): Promise<Record<ToolName, T>> => {
    const out: Partial<Record<ToolName, T>> = {}
    for (const tool of order) out[tool] = await work(tool)
    return out as Record<ToolName, T>
  }
  const work = (name: string, count = 0) =>
    each((tool) => runWork<never>(ns, baseline, tool, name, count))

  const bursts = BURST_TABLES.map((table) =>
    routeLines(sizes.burst, `dev veth0 table ${table}`),
  )
  const routes = await work('routes')
  return {
    routes,
    // The floor for the dump's lag: as long as the library's dump took.
    idleRoutes: await runIdle<never>(ns, dumpMs(routes.library)),
    firstRoutes: await work('first-routes'),
    links: await work('links'),
    typedLinks: await work('typed-links'),
    execute: await work('execute', sizes.executes),
    inFlight: await work('in-flight', sizes.executes),
    listen: await each(async (tool) => {
      const outcome = await runListener<never>(
        ns,
        baseline,
        tool,
        bursts[0].length,
        bursts.map((lines) => () => ns.batchAsync(lines)),
      )
      ns.flushBursts()
      return outcome
    }),
    idleBurst: await runIdleDuring<never>(ns, () =>
      ns.batchAsync(bursts[0]),
    ).finally(() => ns.flushBursts()),
    burst: bursts[0].length,
  }
}

/** How long a dump took, in whole milliseconds; 1000 when it failed. */
function dumpMs(outcome: Outcome<DumpFigures>): number {
  if (!outcome.ok || outcome.figures === null) return 1000
  return Math.max(1, Math.ceil(outcome.figures.seconds * 1000))
}

/** Compiles the native baseline into target/bench and returns its path. */
function buildBaseline(): string {
  const out = join(ROOT, 'target', 'bench')
  mkdirSync(out, { recursive: true })
  const binary = join(out, 'baseline')
  const source = join(ROOT, 'bench', 'native', 'baseline.c')
  execFileSync('gcc', ['-O2', '-Wall', '-o', binary, source], {
    stdio: 'inherit',
  })
  return binary
}

function log(line: string): void {
  process.stderr.write(`bench: ${line}\n`)
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`bench: ${err?.stack ?? err}\n`)
    process.exit(1)
  },
)
