/**
 * Batch memory reuse: what JavaScript lets go of is made into later
 * batches, and never while a message still reads it.
 */
import { resolve } from 'node:path'
import { runScript } from './helpers/child'
import { ipBatch, kernelTest } from './helpers/netns'
import type { PoolReport } from './helpers/pool-probe'

const PROBE = resolve(__dirname, 'helpers', 'pool-probe.js')

/** Veth pairs: a dump of them fills batches large enough to keep. */
const PAIRS = 150

kernelTest(
  'messages kept stay intact while later dumps reuse freed memory',
  async (t, ns) => {
    ipBatch(
      ns,
      Array.from(
        { length: PAIRS },
        (_, i) => `link add p${i}a type veth peer name p${i}b`,
      ),
    )

    const r = await runScript(
      `require(${JSON.stringify(PROBE)}).main(8).catch((e) => {
        process.stderr.write(String(e?.stack ?? e)); process.exit(1) })`,
      { netns: ns, nodeArgs: ['--expose-gc'], killAfter: 60_000 },
    )
    t.is(r.code, 0, r.stderr)
    const report = JSON.parse(r.stdout) as PoolReport

    t.is(report.kept, 2 * PAIRS + 1)
    // Dropped dumps went back to the pool, and later dumps took from it.
    t.true(report.pooledAfterCollection > 0, 'nothing was recycled')
    t.true(
      report.pooledAfterDump < report.pooledAfterCollection,
      'no dump took recycled memory',
    )
    t.true(report.intact, 'a kept message was overwritten')
  },
)
