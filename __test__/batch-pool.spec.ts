/**
 * Batch memory reuse: what JavaScript lets go of is made into later
 * batches, and never while a message still reads it.
 */
import { resolve } from 'node:path'
import type { ExecutionContext } from 'ava'
import { runScript } from './helpers/child'
import { ipBatch, kernelTest } from './helpers/netns'
import type { PoolReport } from './helpers/pool-probe'

const PROBE = resolve(__dirname, 'helpers', 'pool-probe.js')

/** Veth pairs: a dump of them fills batches large enough to keep. */
const PAIRS = 150

/** Runs the probe in `ns` with `env`; resolves with its report. */
async function probe(
  t: ExecutionContext,
  ns: string,
  env: Record<string, string>,
): Promise<PoolReport> {
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
    { netns: ns, nodeArgs: ['--expose-gc'], env, killAfter: 60_000 },
  )
  t.is(r.code, 0, r.stderr)
  return JSON.parse(r.stdout) as PoolReport
}

function reusedWithoutOverwriting(t: ExecutionContext, r: PoolReport): void {
  t.is(r.kept, 2 * PAIRS + 1)
  // Dropped dumps went back to the pool, and later dumps took from it.
  t.true(r.pooledAfterCollection > 0, 'nothing was recycled')
  t.true(
    r.pooledAfterDump < r.pooledAfterCollection,
    'no dump took recycled memory',
  )
  t.true(r.intact, 'a kept message was overwritten')
}

kernelTest(
  'messages kept stay intact while later dumps reuse freed memory',
  async (t, ns) => {
    reusedWithoutOverwriting(t, await probe(t, ns, {}))
  },
)

kernelTest(
  'batches copied into JavaScript give their memory back at once',
  async (t, ns) => {
    const env = { NETLINK_NO_EXTERNAL_BUFFERS: '1' }
    const r = await probe(t, ns, env)

    t.is(r.kept, 2 * PAIRS + 1)
    t.true(r.pooledAfterFirstDump > 0, 'nothing came back before a collection')
    t.true(r.intact, 'a kept message was overwritten')
  },
)
