/**
 * Leaks: dial and close cycles, with and without a pending execute, and
 * Conns dropped without close, counted from /proc/self in a child
 * process started with --expose-gc (see helpers/leak-probe.ts).
 */
import { resolve } from 'node:path'
import type { ExecutionContext } from 'ava'
import { runScript } from './helpers/child'
import type { Phase, ProbeReport } from './helpers/leak-probe'
import { kernelTest } from './helpers/netns'

const PROBE = resolve(__dirname, 'helpers', 'leak-probe.js')

/** Growth of RSS over a phase's second half that is no leak. */
const RSS_SLACK = 8 << 20

/** Runs the probe in `ns` with the three cycle counts. */
async function probe(ns: string, counts: number[]): Promise<ProbeReport> {
  const r = await runScript(
    `require(${JSON.stringify(PROBE)}).main(process.argv.slice(2))`,
    {
      netns: ns,
      nodeArgs: ['--expose-gc'],
      args: counts.map(String),
      killAfter: 100_000,
    },
  )
  if (r.code !== 0) {
    throw new Error(`probe exited with ${r.code ?? r.signal}: ${r.stderr}`)
  }
  return JSON.parse(r.stdout) as ProbeReport
}

function leavesNothing(t: ExecutionContext, name: string, p: Phase): void {
  t.is(p.after.fds, p.before.fds, `${name}: descriptors left open`)
  t.is(p.after.threads, p.before.threads, `${name}: threads left running`)
  const growth = p.after.rss - p.half.rss
  t.true(
    growth < RSS_SLACK,
    `${name}: RSS grew ${growth} bytes over ${p.cycles / 2} cycles`,
  )
  t.log(`${name}: ${p.cycles} cycles, RSS ${p.before.rss} -> ${p.after.rss}`)
}

kernelTest(
  '100,000 dial/close cycles leave no descriptor, thread or memory',
  async (t, ns) => {
    const report = await probe(ns, [100_000, 0, 0])

    leavesNothing(t, 'dial/close', report.plain)
  },
)

kernelTest(
  '10,000 cycles closing a Conn with a pending execute leave nothing',
  async (t, ns) => {
    const report = await probe(ns, [0, 10_000, 0])

    leavesNothing(t, 'pending execute', report.pending)
  },
)

kernelTest(
  'a Conn dropped without close is closed by garbage collection',
  async (t, ns) => {
    const report = await probe(ns, [0, 0, 1_000])

    // Each Conn holds a descriptor until it is collected.
    t.is(report.dropped.after.fds, report.dropped.before.fds)
    t.is(report.dropped.half.fds, report.dropped.before.fds)
  },
)
