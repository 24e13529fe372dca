/**
 * No Rust panic crosses into the runtime: with `NETLINK_TEST_PANIC` the
 * binding panics on purpose, and the child process must see an error
 * and carry on instead of aborting.
 */
import { PACKAGE, runScript } from './helpers/child'
import { kernelTest } from './helpers/netns'

const HEAD = `
const [pkg, ns] = process.argv.slice(2)
const nl = require(pkg)
const conn = nl.dial(nl.Family.ROUTE, { netns: ns, groups: 1 })
const describe = (err) => ({
  name: err.constructor.name,
  code: err.code,
  message: err.message,
})
const dumpLinks = {
  header: { type: 18, flags: nl.HeaderFlags.Dump },
  data: Buffer.alloc(16),
}
`

kernelTest(
  'a panic in a method throws an Error and the Conn works on',
  async (t, ns) => {
    const body = `
let thrown
try {
  conn.stats()
} catch (err) {
  thrown = describe(err)
}
conn.execute(dumpLinks).then(async (links) => {
  console.log(JSON.stringify({ thrown, links: links.length }))
  await conn.close()
})
`
    const env = { NETLINK_TEST_PANIC: 'method' }
    const r = await runScript(HEAD + body, { args: [PACKAGE, ns], env })

    t.is(r.signal, null, 'the process aborted')
    t.is(r.code, 0, r.stderr)
    const { thrown, links } = JSON.parse(r.stdout)
    t.is(thrown.name, 'Error')
    t.regex(thrown.message, /NETLINK_TEST_PANIC/)
    t.is(links, 1)
  },
)

kernelTest(
  'a panic while a batch is handed over is reported as ENOBUFS',
  async (t, ns) => {
    // Every batch panics, on the I/O thread (the batch callback) or on
    // the JavaScript thread (a reply read at once), and is lost.
    const body = `
const attrs = new nl.AttributeEncoder()
  .string(3, 'nlt-panic')
  .nested(18, (e) => e.string(1, 'bridge'))
  .encode()
const create = {
  header: { type: 16, flags: nl.HeaderFlags.Create },
  data: Buffer.concat([Buffer.alloc(16), attrs]),
}
const reading = (async () => {
  try {
    for await (const m of conn.receive()) void m
  } catch (err) {
    return describe(err)
  }
})()
;(async () => {
  const other = nl.dial(nl.Family.ROUTE, { netns: ns })
  await other.send(create)
  const executed = await conn.execute(dumpLinks).then(
    () => 'resolved',
    (err) => describe(err),
  )
  const received = await reading
  await Promise.all([conn.close(), other.close()])
  console.log(JSON.stringify({ executed, received }))
})()
`
    const env = { NETLINK_TEST_PANIC: 'batch' }
    const r = await runScript(HEAD + body, { args: [PACKAGE, ns], env })

    t.is(r.signal, null, 'the process aborted')
    t.is(r.code, 0, r.stderr)
    const { executed, received } = JSON.parse(r.stdout)
    t.is(executed.code, 'ENOBUFS', 'the execute learned its reply was lost')
    t.is(received.code, 'ENOBUFS', 'the lost batch was reported')
  },
)
