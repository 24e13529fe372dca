/**
 * The benchmark's smoke run: tiny amounts of every piece of work, once,
 * no targets. It keeps `npm run bench` from rotting; the figures it
 * prints mean nothing.
 */
import { execFile, execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import test from 'ava'

import type { Run } from '../bench/report'
import type { Outcome, ToolName } from '../bench/runner'
import { routeModule } from '../bench/tools/library'
import { canUseKernel } from './helpers/netns'

const RUN = resolve(__dirname, '..', 'bench', 'run.js')

/** Why the smoke run cannot happen here, or undefined. */
function unavailable(): string | undefined {
  const kernel = canUseKernel()
  if (!kernel.ok) return kernel.reason
  try {
    execFileSync('gcc', ['--version'], { stdio: 'ignore' })
  } catch {
    return 'gcc, which builds the native baseline, is not installed'
  }
  return undefined
}

const skip = unavailable()

/** The runs the smoke run wrote, read once. */
let smoke: Promise<Run[]> | undefined

function smokeRuns(): Promise<Run[]> {
  smoke ??= new Promise((done, fail) => {
    const dir = mkdtempSync(join(tmpdir(), 'nlbench-'))
    const json = join(dir, 'smoke.json')
    execFile(
      process.execPath,
      [RUN, '--smoke', '--json', json],
      { timeout: 90_000 },
      (err, _stdout, stderr) => {
        try {
          if (err) throw new Error(`bench --smoke failed: ${stderr}`)
          done((JSON.parse(readFileSync(json, 'utf8')) as { runs: Run[] }).runs)
        } catch (e) {
          fail(e)
        } finally {
          rmSync(dir, { recursive: true, force: true })
        }
      },
    )
  })
  return smoke
}

type Work = Exclude<keyof Run, 'burst' | 'idleRoutes' | 'idleBurst'>

/** Every tool that does `work`, and what each one needs to report. */
const WORK: [Work, ToolName[], string[]][] = [
  ['routes', ['baseline', 'library', 'npm-netlink'], ['messages', 'seconds']],
  [
    'firstRoutes',
    ['baseline', 'library', 'npm-netlink'],
    ['messages', 'seconds'],
  ],
  ['links', ['baseline', 'library', 'npm-netlink'], ['messages', 'seconds']],
  ['typedLinks', ['npm-netlink'], ['messages', 'seconds']],
  ['execute', ['baseline', 'library', 'npm-netlink'], ['seconds']],
  ['inFlight', ['library', 'npm-netlink'], ['seconds']],
  ['listen', ['baseline', 'library', 'npm-netlink'], ['events', 'cpuSeconds']],
]
if (routeModule() !== undefined) {
  WORK.find(([work]) => work === 'typedLinks')?.[1].push('library')
}

const JS_FIGURES: Partial<Record<Work, string[]>> = {
  routes: ['lagMs'],
  firstRoutes: ['lagMs', 'rssGrowth'],
  listen: ['lagMs'],
}

for (const [work, tools, fields] of WORK) {
  const title = `the smoke run has ${work} figures from ${tools.join(', ')}`
  if (skip !== undefined) {
    test.skip(`${title} (skipped: ${skip})`, () => {})
    continue
  }
  test(title, async (t) => {
    const [run] = await smokeRuns()
    for (const tool of tools) {
      const outcome = run[work][tool] as Outcome<Record<string, number>>
      if (!outcome.ok) {
        t.fail(`${tool} failed ${work}: ${outcome.reason}`)
        continue
      }
      const wanted = [
        ...fields,
        ...(tool === 'baseline' ? [] : (JS_FIGURES[work] ?? [])),
      ]
      for (const field of wanted) {
        const value = outcome.figures?.[field]
        t.true(
          typeof value === 'number' && Number.isFinite(value),
          `${tool} ${work}.${field} is ${value}`,
        )
      }
    }
  })
}

if (skip === undefined) {
  test('the smoke run has idle-process lags for dump and burst', async (t) => {
    const [run] = await smokeRuns()
    for (const idle of [run.idleRoutes, run.idleBurst]) {
      t.true(idle.ok, idle.ok ? '' : idle.reason)
      const lag = idle.ok ? idle.figures?.lagMs : undefined
      t.true(typeof lag === 'number' && lag >= 0, `lag ${lag}`)
    }
  })

  test('every smoke-run listener heard the whole burst', async (t) => {
    const [run] = await smokeRuns()
    for (const tool of ['baseline', 'library'] as const) {
      const outcome = run.listen[tool]
      t.true(outcome.ok && outcome.figures?.events === run.burst, tool)
    }
  })

  test('every smoke-run listener heard both bursts apart', async (t) => {
    const [run] = await smokeRuns()
    for (const tool of ['baseline', 'library'] as const) {
      const outcome = run.listen[tool]
      const first = outcome.ok ? outcome.figures?.first : undefined
      // One socket hears both bursts; the first is counted on its own.
      t.is(first?.events, run.burst, `${tool}: first burst`)
      t.is(first?.overruns, 0, `${tool}: first burst`)
    }
  })
}
