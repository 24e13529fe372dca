/**
 * Network namespaces: a Conn opened in a namespace sees that namespace's
 * links and no other, whether the namespace is named by its name, its
 * path or an open file descriptor; an unprivileged user may not enter
 * one.
 */
import { closeSync, openSync } from 'node:fs'
import { Family, NetlinkError, dial } from '../index'
import { PACKAGE, runScript } from './helpers/child'
import { closeQuietly } from './helpers/conn'
import { NETNS_DIR, ipIn, kernelTest, uniqueName } from './helpers/netns'
import { getLinkDump, linkNames } from './helpers/rtnl'

/** Creates a bridge with a unique name in `ns` and returns its name. */
function addBridge(ns: string): string {
  const name = uniqueName('nlt')

  ipIn(ns, 'link', 'add', name, 'type', 'bridge')
  return name
}

kernelTest('a Conn dialed by namespace name sees its links', async (t, ns) => {
  const name = addBridge(ns)
  const conn = dial(Family.ROUTE, { netns: ns })
  t.teardown(() => closeQuietly(conn))

  const names = linkNames(await conn.execute(getLinkDump()))

  t.deepEqual(names.sort(), ['lo', name].sort())
})

kernelTest(
  "a Conn without netns does not see a namespace's links",
  async (t, ns) => {
    const name = addBridge(ns)

    // Only a read: the host's links are listed, never changed.
    const conn = dial(Family.ROUTE)
    t.teardown(() => closeQuietly(conn))
    const names = linkNames(await conn.execute(getLinkDump()))

    t.false(names.includes(name))
  },
)

kernelTest('a Conn dialed by namespace path sees its links', async (t, ns) => {
  const name = addBridge(ns)
  const conn = dial(Family.ROUTE, { netns: `${NETNS_DIR}/${ns}` })
  t.teardown(() => closeQuietly(conn))

  const names = linkNames(await conn.execute(getLinkDump()))

  t.deepEqual(names.sort(), ['lo', name].sort())
})

kernelTest(
  'a Conn dialed by an open namespace fd sees its links',
  async (t, ns) => {
    const name = addBridge(ns)
    const fd = openSync(`${NETNS_DIR}/${ns}`, 'r')
    t.teardown(() => closeSync(fd))

    const conn = dial(Family.ROUTE, { netns: fd })
    t.teardown(() => closeQuietly(conn))
    const names = linkNames(await conn.execute(getLinkDump()))

    t.deepEqual(names.sort(), ['lo', name].sort())
  },
)

kernelTest('dialing a missing namespace fails with ENOENT', (t) => {
  const missing = uniqueName('nlt-missing-')

  const err = t.throws(() => dial(Family.ROUTE, { netns: missing }), {
    instanceOf: NetlinkError,
  })

  t.is(err?.code, 'ENOENT')
  t.is(err?.op, 'dial')
  t.true(err?.message.includes(missing), err?.message)
})

/**
 * Run inside the test's namespace as root, this child drops to the
 * unprivileged user nobody (65534) before it loads the package, tries
 * one thing and prints the outcome as JSON.
 */
const UNPRIVILEGED = `
const [pkg, what, ns, name] = process.argv.slice(2)
process.setgroups([])
process.setgid(65534)
process.setuid(65534)
const nl = require(pkg)

const tries = {
  async dump() {
    const conn = nl.dial(nl.Family.ROUTE)
    const messages = await conn.execute({
      header: { type: 18, flags: nl.HeaderFlags.Dump },
      data: Buffer.alloc(16),
    })
    await conn.close()
    return messages.map((m) => {
      const d = new nl.AttributeDecoder(m.data.subarray(16))
      while (d.next()) if (d.type === 3) return d.string()
      return ''
    })
  },
  async netns() {
    nl.dial(nl.Family.ROUTE, { netns: ns })
  },
  async create() {
    const conn = nl.dial(nl.Family.ROUTE)
    const attrs = new nl.AttributeEncoder()
      .string(3, name)
      .nested(18, (e) => e.string(1, 'bridge'))
      .encode()
    const f = nl.HeaderFlags
    await conn.execute({
      header: { type: 16, flags: f.Create | f.Excl | f.Acknowledge },
      data: Buffer.concat([Buffer.alloc(16), attrs]),
    })
  },
}

tries[what]().then(
  (value) => console.log(JSON.stringify({ value })),
  (err) => console.log(JSON.stringify({
    name: err.name, code: err.code, op: err.op, message: err.message,
  })),
)
`

interface Outcome {
  value?: unknown
  name?: string
  code?: string
  op?: string
  message?: string
}

/** Runs one of the unprivileged child's tries in `ns`. */
async function unprivileged(
  ns: string,
  what: 'dump' | 'netns' | 'create',
  name = '',
): Promise<Outcome> {
  const r = await runScript(UNPRIVILEGED, {
    netns: ns,
    args: [PACKAGE, what, ns, name],
  })
  if (r.code !== 0) {
    throw new Error(`child exited with ${r.code ?? r.signal}: ${r.stderr}`)
  }
  return JSON.parse(r.stdout) as Outcome
}

kernelTest('an unprivileged user can dump links', async (t, ns) => {
  const name = addBridge(ns)

  const outcome = await unprivileged(ns, 'dump')

  t.deepEqual((outcome.value as string[]).sort(), ['lo', name].sort())
})

kernelTest(
  'an unprivileged user entering a namespace gets EPERM and the cause',
  async (t, ns) => {
    const outcome = await unprivileged(ns, 'netns')

    t.is(outcome.name, 'NetlinkError')
    t.is(outcome.code, 'EPERM')
    t.is(outcome.op, 'dial')
    t.regex(outcome.message ?? '', /namespace|setns|CAP_SYS_ADMIN/i)
  },
)

kernelTest('an unprivileged user creating a link gets EPERM', async (t, ns) => {
  const name = uniqueName('nlt')

  const outcome = await unprivileged(ns, 'create', name)

  t.is(outcome.code, 'EPERM')
  t.is(outcome.op, 'execute')
  t.throws(() => ipIn(ns, 'link', 'show', name))
})
