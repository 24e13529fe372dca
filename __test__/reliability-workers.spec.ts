/**
 * Worker threads: eight at once, each with live Conns, receives waiting
 * and requests in flight, terminated together, which is what an Electron
 * renderer reload does. The process must not crash, the workers' sockets
 * must be closed, and the main thread must go on working; with external
 * buffers on and off (`NETLINK_NO_EXTERNAL_BUFFERS=1`, the Electron path).
 */
import type { ExecutionContext } from 'ava'
import { PACKAGE, runScript } from './helpers/child'
import { kernelTest } from './helpers/netns'

/** A worker: three Conns joined to the link group, all reading. */
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads')
const nl = require(workerData.pkg)
const dumpLinks = {
  header: { type: 18, flags: nl.HeaderFlags.Dump },
  data: Buffer.alloc(16),
}
const conns = [0, 1, 2].map(() =>
  nl.dial(nl.Family.ROUTE, { netns: workerData.ns, groups: 1 }),
)
for (const conn of conns) {
  ;(async () => {
    for await (const m of conn.receive()) {
      parentPort.postMessage({ type: m.header.type, bytes: m.data.length })
    }
  })()
}
;(async () => {
  for (;;) await conns[0].execute(dumpLinks)
})()
parentPort.postMessage('ready')
`

/** The main thread: start the workers, make events, terminate them. */
const MAIN = `
const { Worker } = require('node:worker_threads')
const { readdirSync } = require('node:fs')
const [pkg, ns] = process.argv.slice(2)
const nl = require(pkg)
const held = () => ({
  fds: readdirSync('/proc/self/fd').length,
  threads: readdirSync('/proc/self/task').length,
})
const dumpLinks = {
  header: { type: 18, flags: nl.HeaderFlags.Dump },
  data: Buffer.alloc(16),
}

const start = () =>
  new Worker(${JSON.stringify(WORKER)}, { eval: true, workerData: { pkg, ns } })

async function main() {
  const conn = nl.dial(nl.Family.ROUTE, { netns: ns })
  await conn.execute(dumpLinks)

  // One worker first, for what the process sets up for workers once.
  const first = start()
  await new Promise((done) => first.once('message', done))
  await first.terminate()
  const before = held()

  const workers = []
  const ready = []
  const notified = []
  for (let i = 0; i < 8; i++) {
    const worker = start()
    workers.push(worker)
    const failed = new Promise((_, fail) => worker.on('error', fail))
    const said = (what) =>
      new Promise((done) => {
        worker.on('message', (m) => {
          if (what(m)) done(m)
        })
      })
    ready.push(Promise.race([failed, said((m) => m === 'ready')]))
    notified.push(
      Promise.race([failed, said((m) => m !== 'ready')]).then((m) => {
        if (m.type !== 16 || m.bytes === 0) throw new Error('bad event')
      }),
    )
  }
  await Promise.all(ready)

  // A new bridge notifies every worker's Conns.
  const attrs = new nl.AttributeEncoder()
    .string(3, 'nlt-workers')
    .nested(18, (e) => e.string(1, 'bridge'))
    .encode()
  await conn.execute({
    header: {
      type: 16,
      flags: nl.HeaderFlags.Create | nl.HeaderFlags.Acknowledge,
    },
    data: Buffer.concat([Buffer.alloc(16), attrs]),
  })
  await Promise.all(notified)
  const during = held()

  await Promise.all(workers.map((w) => w.terminate()))
  const links = await conn.execute(dumpLinks)
  const after = held()
  await conn.close()
  console.log(JSON.stringify({ before, during, after, links: links.length }))
}
main().catch((err) => {
  console.error(err)
  process.exit(1)
})
`

async function terminateEight(
  t: ExecutionContext,
  ns: string,
  env: Record<string, string>,
): Promise<void> {
  const r = await runScript(MAIN, { args: [PACKAGE, ns], env })

  t.is(r.signal, null, 'the process crashed or hung')
  t.is(r.code, 0, r.stderr)
  const { before, during, after, links } = JSON.parse(r.stdout)
  t.true(during.fds >= before.fds + 8 * 3, 'the workers held their Conns')
  t.is(links, 2, 'the main thread still dumps lo and the bridge')
  t.is(after.fds, before.fds, 'the workers left descriptors open')
  t.is(after.threads, before.threads, 'the workers left threads behind')
  t.log(
    `descriptors ${before.fds} -> ${during.fds} -> ${after.fds}, ` +
      `threads ${before.threads} -> ${during.threads} -> ${after.threads}`,
  )
}

kernelTest(
  'eight workers with live Conns can be terminated at once',
  async (t, ns) => {
    await terminateEight(t, ns, {})
  },
)

kernelTest(
  'eight workers terminated at once, with batches copied, not external',
  async (t, ns) => {
    await terminateEight(t, ns, { NETLINK_NO_EXTERNAL_BUFFERS: '1' })
  },
)
