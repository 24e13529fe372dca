/**
 * The benchmark's table, from runs made up here: which figure is a
 * median of what, which ratio is taken within a run, and when a target
 * counts as met. No kernel and no child process.
 */
import test from 'ava'

import { allMet, tabulate, type Row, type Run } from '../bench/report'
import type { Outcome, ToolName } from '../bench/runner'
import type { DumpFigures, ExecuteFigures, ListenFigures } from '../bench/work'

type PerTool<T> = Record<ToolName, Outcome<T>>

const ok = <T>(figures: T): Outcome<T> => ({ ok: true, figures })

function each<T>(f: (tool: ToolName) => Outcome<T>): PerTool<T> {
  return {
    baseline: f('baseline'),
    library: f('library'),
    'npm-netlink': f('npm-netlink'),
  }
}

/** A dump of `messages` messages taking `seconds`. */
const dump = (messages: number, seconds: number): DumpFigures => ({
  messages,
  bytes: messages * 60,
  seconds,
  lagMs: 1,
  rssGrowth: messages * 60,
})

/** How much longer than the others npm `netlink` takes, but for routes. */
const slower = (tool: ToolName) => (tool === 'npm-netlink' ? 10 : 1)

/**
 * A run where every tool does everything; `rates` gives messages a
 * second of each tool's route dump, `lag` the library's burst lag.
 */
function run(rates: Record<ToolName, number>, lag = 1, firstLag = 9): Run {
  const execute = (tool: ToolName) =>
    ok<ExecuteFigures>({ messages: 100, seconds: 0.001 * slower(tool) })
  const listened: ListenFigures = {
    events: 10,
    overruns: 0,
    cpuSeconds: 1e-5,
    lagMs: lag,
    first: { events: 10, overruns: 0, cpuSeconds: 1e-5, lagMs: firstLag },
  }
  return {
    routes: each((tool) => ok(dump(rates[tool], 1))),
    idleRoutes: ok({ lagMs: 0.5 }),
    firstRoutes: each(() => ok(dump(100, 1))),
    links: each((tool) => ok(dump(100, slower(tool)))),
    typedLinks: each((tool) => ok(dump(100, slower(tool)))),
    execute: each(execute),
    inFlight: each(execute),
    listen: each(() => ok(listened)),
    idleBurst: ok({ lagMs: 7 }),
    burst: 10,
  }
}

const rowOf = (rows: Row[], figure: string): Row => {
  const row = rows.find((r) => r.figure === figure)
  if (row === undefined) throw new Error(`no row ${figure}`)
  return row
}

test('a ratio is the median of the ratios taken within each run', (t) => {
  // The medians of the rates would give 50 / 100; the runs' own ratios
  // are 0.5, 0.9 and 1.2, and their median is 0.9.
  const runs = [
    run({ baseline: 100, library: 50, 'npm-netlink': 10 }),
    run({ baseline: 50, library: 45, 'npm-netlink': 10 }),
    run({ baseline: 150, library: 180, 'npm-netlink': 10 }),
  ]
  const dumpRow = rowOf(tabulate(runs, true), 'route dump')

  t.is(dumpRow.median.library, 50)
  t.is(dumpRow.median.baseline, 100)
  t.is(dumpRow.ratio.library, 0.9)
  t.deepEqual(dumpRow.spread, [0.5, 1.2])
  t.is(dumpRow.overNpm, 5)
  t.true(dumpRow.pass)
})

test('a row without a ratio spreads over the figures themselves', (t) => {
  const rates = { baseline: 100, library: 100, 'npm-netlink': 10 }
  const runs = [run(rates, 3), run(rates, 6), run(rates, 4)]
  const rows = tabulate(runs, true)
  const lag = rowOf(rows, 'burst: event-loop lag (baseline: an idle process)')

  t.is(lag.median.library, 4)
  t.is(lag.ratio.library, undefined)
  t.deepEqual(lag.spread, [3, 6])
  // The C loop has no event loop: its column is the idle process's.
  t.is(lag.median.baseline, 7)
  t.true(lag.pass)

  const first = rowOf(
    rows,
    'first burst: event-loop lag (baseline: an idle process)',
  )
  t.is(first.median.library, 9)
  t.is(first.target, undefined, 'the first burst has no target')
})

test('a missed target, or 3x npm missed, fails the whole run', (t) => {
  const fast = { baseline: 100, library: 100, 'npm-netlink': 10 }
  t.true(allMet(tabulate([run(fast)], true)))

  const slowLag = tabulate([run(fast, 6)], true)
  t.false(
    rowOf(slowLag, 'burst: event-loop lag (baseline: an idle process)').pass,
  )
  t.false(allMet(slowLag))

  const npmClose = tabulate(
    [run({ baseline: 100, library: 100, 'npm-netlink': 50 })],
    true,
  )
  t.true(rowOf(npmClose, 'route dump').pass, 'the ratio to C passes')
  t.false(allMet(npmClose), 'but 2x npm is not 3x')
})

test('a failed run is listed, and left out of the medians', (t) => {
  const rates = { baseline: 100, library: 80, 'npm-netlink': 10 }
  const crashed = run(rates)
  crashed.routes['npm-netlink'] = { ok: false, reason: 'killed by SIGABRT' }
  const rows = tabulate([run(rates), crashed, run(rates)], true)
  const dumpRow = rowOf(rows, 'route dump')

  t.deepEqual(dumpRow.failures['npm-netlink'], ['killed by SIGABRT'])
  t.is(dumpRow.median['npm-netlink'], 10)
  t.is(dumpRow.overNpm, 8)
})

test('a smoke run checks no target', (t) => {
  const slow = { baseline: 100, library: 10, 'npm-netlink': 10 }
  const rows = tabulate([run(slow, 50)], false)
  t.true(rows.every((r) => r.pass === undefined && r.target === undefined))
})
