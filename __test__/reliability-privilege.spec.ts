/**
 * What an unprivileged process is refused, and that the refusal says
 * which capability it lacked: joining multicast groups that need
 * privilege, at bind time and later, and changing the state of a link.
 * (Dumping, entering a namespace and creating links are covered by
 * conn-netns.spec.ts.) Each case runs in a child that drops to the user
 * nobody inside the test's namespace.
 */
import type { ExecutionContext } from 'ava'
import { PACKAGE, runScript } from './helpers/child'
import { kernelTest } from './helpers/netns'

const CHILD = `
const [pkg, what] = process.argv.slice(2)
process.setgroups([])
process.setgid(65534)
process.setuid(65534)
const nl = require(pkg)

const tries = {
  // nfnetlink's groups (conntrack events here) are for CAP_NET_ADMIN.
  async bind() {
    nl.dial(nl.Family.NETFILTER, { groups: 1 })
  },
  async join() {
    const conn = nl.dial(nl.Family.NETFILTER)
    try {
      conn.joinGroup(1)
    } finally {
      await conn.close()
    }
  },
  // Taking lo down: ifinfomsg with index 1, flags 0, change mask IFF_UP.
  async down() {
    const conn = nl.dial(nl.Family.ROUTE)
    const data = Buffer.alloc(16)
    data.writeInt32LE(1, 4)
    data.writeUInt32LE(1, 12)
    try {
      await conn.execute({
        header: { type: 16, flags: nl.HeaderFlags.Acknowledge },
        data,
      })
    } finally {
      await conn.close()
    }
  },
}

tries[what]().then(
  () => console.log(JSON.stringify({ code: 'none' })),
  (err) => console.log(JSON.stringify({
    code: err.code, op: err.op, message: err.message,
  })),
)
`

async function refused(
  t: ExecutionContext,
  ns: string,
  what: string,
  op: string,
): Promise<void> {
  const r = await runScript(CHILD, { netns: ns, args: [PACKAGE, what] })

  t.is(r.code, 0, r.stderr)
  const outcome = JSON.parse(r.stdout)
  t.is(outcome.code, 'EPERM')
  t.is(outcome.op, op)
  t.regex(outcome.message, /CAP_NET_ADMIN/)
}

kernelTest(
  'an unprivileged user binding to privileged groups gets EPERM',
  async (t, ns) => {
    await refused(t, ns, 'bind', 'dial')
  },
)

kernelTest(
  'an unprivileged user joining a privileged group gets EPERM',
  async (t, ns) => {
    await refused(t, ns, 'join', 'joinGroup')
  },
)

kernelTest(
  'an unprivileged user changing a link gets EPERM naming CAP_NET_ADMIN',
  async (t, ns) => {
    await refused(t, ns, 'down', 'execute')
  },
)
