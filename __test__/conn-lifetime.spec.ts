/**
 * Whether a Conn keeps the process alive: an idle one does not, nor one
 * that was unref()ed, like `net.Socket`. Each case runs in a child
 * process that must exit by itself.
 */
import type { ExecutionContext } from 'ava'
import { PACKAGE, runScript } from './helpers/child'
import { ipBatch, kernelTest } from './helpers/netns'

/** Head of every child: the package and the namespace from argv. */
const HEAD = `
const [pkg, ns] = process.argv.slice(2)
const nl = require(pkg)
const conn = nl.dial(nl.Family.ROUTE, { netns: ns })
const lo = {
  header: { type: 18 },
  data: Buffer.from([0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
}
process.on('exit', () => console.log('exited'))
`

/**
 * Runs HEAD and `body` in a child and checks that it exits cleanly,
 * having printed `printed` before its 'exited'.
 */
async function exitsByItself(
  t: ExecutionContext,
  ns: string,
  body: string,
  printed: string[] = [],
): Promise<void> {
  const r = await runScript(HEAD + body, { args: [PACKAGE, ns] })

  t.is(r.signal, null, 'the child was still running and was killed')
  t.is(r.code, 0, r.stderr)
  t.deepEqual(r.stdout.trim().split('\n'), [...printed, 'exited'])
}

kernelTest('an idle Conn lets the process exit', async (t, ns) => {
  await exitsByItself(t, ns, '')
})

kernelTest(
  'a Conn lets the process exit once its execute resolved',
  async (t, ns) => {
    await exitsByItself(t, ns, 'conn.execute(lo)')
  },
)

kernelTest(
  'an unref()ed Conn with a receive waiting lets the process exit',
  async (t, ns) => {
    await exitsByItself(
      t,
      ns,
      `
conn.joinGroup(1)
conn.unref()
;(async () => {
  for await (const m of conn.receive()) void m
})()
`,
    )
  },
)

kernelTest(
  'a closed Conn with a receive waiting lets the process exit',
  async (t, ns) => {
    await exitsByItself(
      t,
      ns,
      `
conn.joinGroup(1)
;(async () => {
  for await (const m of conn.receive()) void m
})().catch((err) => {
  if (err.code !== 'EBADF') throw err
})
conn.close()
`,
    )
  },
)

kernelTest(
  'a Conn with a receive waiting keeps the process alive',
  async (t, ns) => {
    // Nothing else holds the process once the link request is sent: it
    // must live on until the notification of the new link comes.
    await exitsByItself(
      t,
      ns,
      `
conn.joinGroup(1)
;(async () => {
  for await (const m of conn.receive()) {
    if (m.header.type === 16) break
  }
  console.log('notified')
  await conn.close()
})()
const other = nl.dial(nl.Family.ROUTE, { netns: ns })
const attrs = new nl.AttributeEncoder()
  .string(3, 'nlt-alive')
  .nested(18, (e) => e.string(1, 'bridge'))
  .encode()
other
  .send({
    header: { type: 16, flags: nl.HeaderFlags.Create },
    data: Buffer.concat([Buffer.alloc(16), attrs]),
  })
  .then(() => other.close())
`,
      ['notified'],
    )
  },
)

kernelTest(
  'a Conn named only by its pending execute survives garbage collection',
  async (t, ns) => {
    // Routes enough that each dump spans many batches, and a collection
    // every millisecond while they are read: a Conn the collector could
    // take mid-dump would close, and the process would end early.
    const lines = ['link add va type veth peer name vb', 'link set va up']
    lines.push('addr add 198.18.0.1/16 dev va')
    for (let i = 0; i < 3000; i++) {
      lines.push(`route add 198.19.${i >> 8}.${i & 0xff}/32 via 198.18.0.2`)
    }
    ipBatch(ns, lines)

    await exitsByItself(
      t,
      ns,
      `
require('v8').setFlagsFromString('--expose-gc')
const gc = require('vm').runInNewContext('gc')
setInterval(gc, 1).unref()
const dump = { header: { type: 26, flags: nl.HeaderFlags.Dump },
  data: Buffer.alloc(12) }
;(async () => {
  let n = 0
  for (let i = 0; i < 20; i++) {
    n += (await nl.dial(nl.Family.ROUTE, { netns: ns }).execute(dump)).length
  }
  console.log(n >= 20 * 3000 ? 'all read' : 'short: ' + n)
})()
`,
      ['all read'],
    )
  },
)
