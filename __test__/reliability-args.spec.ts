/**
 * Every public function and method called with bad arguments, one
 * argument at a time (see helpers/sweep.ts): each call must throw a
 * TypeError or RangeError with a Node error code that names the
 * argument, or the library's own error, and the process must live.
 */
import { resolve } from 'node:path'
import { PACKAGE, runScript } from './helpers/child'
import { kernelTest } from './helpers/netns'
import type { SweepReport } from './helpers/sweep'

const SWEEP = resolve(__dirname, 'helpers', 'sweep.js')

const CHILD = `
const [pkg, sweepPath, ns] = process.argv.slice(2)
const nl = require(pkg)
const { sweep, targets } = require(sweepPath)
const conn = nl.dial(nl.Family.ROUTE, { netns: ns })
// Receives started by the sweep wait on this Conn; never read them.
process.on('unhandledRejection', () => {})
const exported = Object.keys(nl).filter((k) => typeof nl[k] === 'function')
sweep(targets(nl, conn), exported).then(async (report) => {
  await conn.close()
  console.log(JSON.stringify(report))
  process.exit(0)
})
`

kernelTest(
  'bad arguments to every public function are refused by name',
  async (t, ns) => {
    const r = await runScript(CHILD, {
      args: [PACKAGE, SWEEP, ns],
      killAfter: 100_000,
    })

    t.is(r.signal, null, 'the process crashed or hung')
    t.is(r.code, 0, r.stderr)
    const report = JSON.parse(r.stdout) as SweepReport
    t.log(`${report.calls} calls with a bad argument`)
    if (report.uncovered.length > 0) {
      t.log(`exports the sweep has no case for: ${report.uncovered}`)
    }
    t.deepEqual(report.findings, [])
  },
)
