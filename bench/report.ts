/**
 * Turns the runs into the benchmark's table: each figure's median per
 * tool, its ratio to the baseline (the median of the ratios taken within
 * each run), and whether the library meets the target set for it.
 */
import { TOOLS, type Outcome, type ToolName } from './runner'
import type {
  DumpFigures,
  ExecuteFigures,
  IdleFigures,
  ListenFigures,
} from './work'

/** Every tool's outcome of every piece of work in one run. */
export interface Run {
  /** The route dump after an untimed one. */
  routes: Record<ToolName, Outcome<DumpFigures>>
  /** An idle process's lag for as long as the library's dump took. */
  idleRoutes: Outcome<IdleFigures>
  /** The first route dump of a process, and its peak RSS. */
  firstRoutes: Record<ToolName, Outcome<DumpFigures>>
  links: Record<ToolName, Outcome<DumpFigures>>
  typedLinks: Record<ToolName, Outcome<DumpFigures>>
  execute: Record<ToolName, Outcome<ExecuteFigures>>
  inFlight: Record<ToolName, Outcome<ExecuteFigures>>
  /** A listener's second burst, with its first in `first`. */
  listen: Record<ToolName, Outcome<ListenFigures>>
  /** An idle process's lag while the burst was made. */
  idleBurst: Outcome<IdleFigures>
  /** Notifications the burst made. */
  burst: number
}

/** One line of the table. */
export interface Row {
  /** The piece of work the figure comes from. */
  work: string
  figure: string
  unit: string
  /** Median per tool; undefined where the tool has no such figure. */
  median: Record<ToolName, number | undefined>
  /** Median of per-run ratios to the baseline's comparable figure. */
  ratio: Record<ToolName, number | undefined>
  /**
   * The library's lowest and highest run: of its ratios where the row
   * has them, else of its figures.
   */
  spread?: [number, number]
  /** Median of per-run ratios of the library to npm `netlink`. */
  overNpm?: number
  /** The target for the library, in words, and whether it was met. */
  target?: string
  pass?: boolean
  /** Runs a tool failed, with the reasons. */
  failures: Record<ToolName, string[]>
}

type Value = (run: Run, tool: ToolName) => number | undefined

interface Definition {
  work: string
  figure: string
  unit: string
  value: Value
  /** The baseline figure the ratio is taken to. */
  reference?: Value
  /** Whether the library is compared with npm `netlink` (≥ 3×). */
  againstNpm?: boolean
  /** The target on the library's median value or ratio. */
  target?: { text: string; met: (value: number, ratio?: number) => boolean }
  outcome: (run: Run, tool: ToolName) => Outcome<unknown>
}

type RateWork =
  'routes' | 'firstRoutes' | 'links' | 'typedLinks' | 'execute' | 'inFlight'

const rate = (work: RateWork) => (run: Run, tool: ToolName) => {
  const o = run[work][tool]
  if (!o.ok || o.figures === null) return undefined
  return o.figures.messages / o.figures.seconds
}

const listened =
  (pick: (f: ListenFigures, run: Run) => number | undefined) =>
  (run: Run, tool: ToolName) => {
    const o = run.listen[tool]
    return o.ok && o.figures !== null ? pick(o.figures, run) : undefined
  }

/** As `listened`, for the listener's first burst. */
const firstListened =
  (pick: (f: ListenFigures, run: Run) => number | undefined) =>
  (run: Run, tool: ToolName) => {
    const o = run.listen[tool]
    const first = o.ok ? o.figures?.first : undefined
    return first === undefined ? undefined : pick(first, run)
  }

const perEvent = (f: ListenFigures) =>
  f.events === 0 ? undefined : (1e6 * f.cpuSeconds) / f.events

const routeDump =
  (
    work: 'routes' | 'firstRoutes',
    pick: (f: DumpFigures, run: Run) => number | undefined,
  ) =>
  (run: Run, tool: ToolName) => {
    const o = run[work][tool]
    return o.ok && o.figures !== null ? pick(o.figures, run) : undefined
  }

/**
 * A lag row's figure: the tool's own, and for the baseline column the
 * idle process's over the same stretch (the C loop has no event loop).
 */
const lag =
  (own: Value, idle: (run: Run) => Outcome<IdleFigures>) =>
  (run: Run, tool: ToolName) => {
    if (tool !== 'baseline') return own(run, tool)
    const o = idle(run)
    return o.ok && o.figures !== null ? o.figures.lagMs : undefined
  }

/**
 * A burst's lag row: the listener's own figure, and for the baseline the
 * idle process's over a burst.
 */
const burstLag = (own: Value) => ({
  value: lag(own, (run) => run.idleBurst),
  outcome: (run: Run, tool: ToolName) =>
    tool === 'baseline' ? run.idleBurst : run.listen[tool],
})

/** The bytes of routes the kernel sent in a run, by the baseline's count. */
function kernelBytes(run: Run, own: DumpFigures): number {
  const native = run.routes.baseline
  return native.ok && native.figures !== null ? native.figures.bytes : own.bytes
}

const DEFINITIONS: Definition[] = [
  {
    work: 'route dump',
    figure: 'route dump',
    unit: 'msg/s',
    value: rate('routes'),
    reference: rate('routes'),
    againstNpm: true,
    target: { text: '≥ 0.8× baseline', met: (_, r) => (r ?? 0) >= 0.8 },
    outcome: (run, tool) => run.routes[tool],
  },
  {
    work: 'route dump',
    figure: 'route dump event-loop lag (baseline: an idle process)',
    unit: 'ms',
    value: lag(
      routeDump('routes', (f) => f.lagMs),
      (run) => run.idleRoutes,
    ),
    target: { text: '≤ 5 ms', met: (v) => v <= 5 },
    outcome: (run, tool) =>
      tool === 'baseline' ? run.idleRoutes : run.routes[tool],
  },
  {
    work: 'first route dump',
    figure: 'first route dump of a process',
    unit: 'msg/s',
    value: rate('firstRoutes'),
    reference: rate('firstRoutes'),
    outcome: (run, tool) => run.firstRoutes[tool],
  },
  {
    work: 'first route dump',
    figure: 'first route dump: event-loop lag',
    unit: 'ms',
    value: routeDump('firstRoutes', (f) => f.lagMs),
    outcome: (run, tool) => run.firstRoutes[tool],
  },
  {
    work: 'first route dump',
    figure: 'first route dump: peak RSS growth',
    unit: '× bytes sent',
    value: routeDump('firstRoutes', (f, run) =>
      f.rssGrowth === undefined ? undefined : f.rssGrowth / kernelBytes(run, f),
    ),
    target: { text: '≤ 3× bytes sent', met: (v) => v <= 3 },
    outcome: (run, tool) => run.firstRoutes[tool],
  },
  {
    work: 'link dump, raw',
    figure: 'link dump, raw',
    unit: 'msg/s',
    value: rate('links'),
    reference: rate('links'),
    againstNpm: true,
    target: { text: '≥ 0.8× baseline', met: (_, r) => (r ?? 0) >= 0.8 },
    outcome: (run, tool) => run.links[tool],
  },
  {
    work: 'link dump, typed',
    figure: 'link dump, typed',
    unit: 'links/s',
    value: rate('typedLinks'),
    reference: (run) => rate('links')(run, 'baseline'),
    againstNpm: true,
    target: { text: '≥ 0.5× baseline raw', met: (_, r) => (r ?? 0) >= 0.5 },
    outcome: (run, tool) => run.typedLinks[tool],
  },
  {
    work: 'sequential execute',
    figure: 'sequential execute',
    unit: 'round trips/s',
    value: rate('execute'),
    reference: rate('execute'),
    againstNpm: true,
    target: { text: '≥ 0.4× baseline', met: (_, r) => (r ?? 0) >= 0.4 },
    outcome: (run, tool) => run.execute[tool],
  },
  {
    work: '64 in flight',
    figure: '64 in flight',
    unit: 'round trips/s',
    value: rate('inFlight'),
    reference: (run) => rate('execute')(run, 'baseline'),
    againstNpm: true,
    target: {
      text: '≥ 1.0× baseline sequential',
      met: (_, r) => (r ?? 0) >= 1,
    },
    outcome: (run, tool) => run.inFlight[tool],
  },
  {
    work: 'burst',
    figure: 'burst: events received',
    unit: '%',
    value: listened((f, run) => (100 * f.events) / run.burst),
    target: { text: '100 %', met: (v) => v >= 100 },
    outcome: (run, tool) => run.listen[tool],
  },
  {
    work: 'burst',
    figure: 'burst: ENOBUFS',
    unit: 'count',
    value: listened((f) => f.overruns),
    target: { text: '0', met: (v) => v === 0 },
    outcome: (run, tool) => run.listen[tool],
  },
  {
    work: 'burst',
    figure: 'burst: CPU per event',
    unit: 'µs',
    value: listened(perEvent),
    reference: listened(perEvent),
    target: { text: '≤ 2× baseline', met: (_, r) => (r ?? Infinity) <= 2 },
    outcome: (run, tool) => run.listen[tool],
  },
  {
    work: 'burst',
    figure: 'burst: event-loop lag (baseline: an idle process)',
    unit: 'ms',
    ...burstLag(listened((f) => f.lagMs)),
    target: { text: '≤ 5 ms', met: (v) => v <= 5 },
  },
  {
    work: 'first burst',
    figure: 'first burst of a listener: events received',
    unit: '%',
    value: firstListened((f, run) => (100 * f.events) / run.burst),
    outcome: (run, tool) => run.listen[tool],
  },
  {
    work: 'first burst',
    figure: 'first burst: CPU per event',
    unit: 'µs',
    value: firstListened(perEvent),
    reference: firstListened(perEvent),
    outcome: (run, tool) => run.listen[tool],
  },
  {
    work: 'first burst',
    figure: 'first burst: event-loop lag (baseline: an idle process)',
    unit: 'ms',
    ...burstLag(firstListened((f) => f.lagMs)),
  },
]

/** Median of the numbers in `values`; undefined when there are none. */
export function median(values: (number | undefined)[]): number | undefined {
  const known = values
    .filter((v): v is number => v !== undefined && Number.isFinite(v))
    .sort((a, b) => a - b)
  if (known.length === 0) return undefined
  const mid = known.length >> 1
  return known.length % 2 === 1 ? known[mid] : (known[mid - 1] + known[mid]) / 2
}

/** The table's rows for `runs`. */
export function tabulate(runs: Run[], enforce: boolean): Row[] {
  return DEFINITIONS.map((d) => {
    const per = (tool: ToolName) => runs.map((run) => d.value(run, tool))
    const ratioPer = (tool: ToolName) =>
      runs.map((run) => {
        const value = d.value(run, tool)
        const reference = d.reference?.(run, 'baseline')
        return value === undefined || reference === undefined
          ? undefined
          : value / reference
      })
    const record = <T>(f: (tool: ToolName) => T) =>
      Object.fromEntries(TOOLS.map((t) => [t, f(t)])) as Record<ToolName, T>

    const mine = (d.reference ? ratioPer('library') : per('library')).filter(
      (v): v is number => v !== undefined && Number.isFinite(v),
    )
    const row: Row = {
      work: d.work,
      figure: d.figure,
      unit: d.unit,
      median: record((t) => median(per(t))),
      ratio: record((t) => (d.reference ? median(ratioPer(t)) : undefined)),
      spread:
        mine.length === 0 ? undefined : [Math.min(...mine), Math.max(...mine)],
      failures: record((t) =>
        runs.flatMap((run) => {
          const o = d.outcome(run, t)
          return o.ok ? [] : [o.reason]
        }),
      ),
    }
    if (d.againstNpm) {
      row.overNpm = median(
        runs.map((run) => {
          const mine = d.value(run, 'library')
          const theirs = d.value(run, 'npm-netlink')
          return mine === undefined || theirs === undefined
            ? undefined
            : mine / theirs
        }),
      )
    }
    if (enforce && d.target !== undefined) {
      row.target = d.target.text
      const value = row.median.library
      row.pass =
        value === undefined ? undefined : d.target.met(value, row.ratio.library)
    }
    return row
  })
}

/** Whether every target that could be checked was met. */
export function allMet(rows: Row[]): boolean {
  return rows.every(
    (r) =>
      r.pass !== false &&
      (r.overNpm === undefined || r.target === undefined || r.overNpm >= 3),
  )
}

/** The rows as a Markdown table, with failures listed below it. */
export function format(rows: Row[], enforce: boolean): string {
  const header = [
    'work',
    'unit',
    'baseline',
    'library',
    'npm netlink',
    'library ÷ baseline',
    'library, runs',
    'npm ÷ baseline',
    'library ÷ npm',
    'target (library)',
    'result',
  ]
  const lines = [row(header), row(header.map(() => '---'))]
  for (const r of rows) {
    const npmTarget =
      r.overNpm === undefined ? '' : ` ${r.overNpm >= 3 ? '✓' : '✗'} ≥ 3×`
    lines.push(
      row([
        r.figure,
        r.unit,
        number(r.median.baseline),
        number(r.median.library),
        number(r.median['npm-netlink']),
        times(r.ratio.library),
        spread(r),
        times(r.ratio['npm-netlink']),
        times(r.overNpm) + (enforce ? npmTarget : ''),
        r.target ?? '',
        verdict(r),
      ]),
    )
  }

  // Figures of one piece of work share its failures: list them once.
  const notes = new Set<string>()
  for (const r of rows) {
    for (const tool of TOOLS) {
      const reasons = [...new Set(r.failures[tool])].join('; ')
      if (reasons === '') continue
      const n = r.failures[tool].length
      notes.add(`- ${r.work}, ${tool}: ${n} run(s) failed: ${reasons}`)
    }
  }
  const failures = notes.size > 0 ? ['', ...notes] : []
  return [lines.join('\n'), ...failures].join('\n')
}

function verdict(r: Row): string {
  if (r.pass === undefined) return r.target === undefined ? '' : 'n/a'
  return r.pass ? 'pass' : 'FAIL'
}

function row(cells: string[]): string {
  return `| ${cells.join(' | ')} |`
}

function number(v: number | undefined): string {
  if (v === undefined) return '—'
  if (v >= 1e6) return `${(v / 1e6).toFixed(2)} M`
  if (v >= 1e4) return `${(v / 1e3).toFixed(1)} k`
  if (v >= 100) return v.toFixed(0)
  return v.toFixed(2)
}

/** The library's lowest and highest run, as the row's median shows it. */
function spread(r: Row): string {
  if (r.spread === undefined) return '—'
  const [low, high] = r.spread
  if (r.ratio.library !== undefined) {
    return `${low.toFixed(2)}–${high.toFixed(2)}×`
  }
  return `${number(low)}–${number(high)}`
}

function times(v: number | undefined): string {
  return v === undefined ? '—' : `${v.toFixed(2)}×`
}
