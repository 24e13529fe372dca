/**
 * The `npm start` example, run on a namespace with known links, addresses
 * and routes: its table, its change lines, its NDJSON, its errors.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { runScript } from './helpers/child'
import { ipBatch, ipIn, kernelTest, uniqueName } from './helpers/netns'

const MONITOR = resolve(__dirname, '..', 'examples', 'monitor.js')

/** Runs the compiled monitor with `args`. */
function monitor(...args: string[]) {
  return runScript(`require(${JSON.stringify(MONITOR)})`, { args })
}

kernelTest(
  'monitor --once prints the links and the main routes as tables',
  async (t, ns) => {
    const [a, b] = [uniqueName('nlt'), uniqueName('nlt')]
    ipBatch(ns, [
      `link add ${a} type veth peer name ${b}`,
      `address add 192.0.2.1/24 dev ${a}`,
      `address add 2001:db8::1/64 dev ${a} nodad`,
      `link set ${a} mtu 1400`,
      `link set ${a} up`,
      `route add 198.18.0.0/15 via 192.0.2.254`,
    ])

    const r = await monitor('--once', '--netns', ns)

    t.is(r.code, 0, r.stderr)
    const [links, routes] = r.stdout.trimEnd().split('\n\n')
    const rows = links.split('\n')
    t.regex(rows[0], /^INDEX +NAME +STATE +KIND +MTU +MAC +ADDRESSES$/)
    const row = rows.find((l) => l.split(/ +/)[1] === a)
    t.truthy(row, r.stdout)
    t.regex(row ?? '', / veth +1400 +([0-9a-f]{2}:){5}[0-9a-f]{2} /)
    t.true(row?.includes('192.0.2.1/24'), row)
    t.true(row?.includes('2001:db8::1/64'), row)
    t.true(
      rows.some((l) => l.split(/ +/)[1] === 'lo'),
      r.stdout,
    )
    t.regex(routes, /^DESTINATION +GATEWAY +DEVICE +PROTOCOL +METRIC\n/)
    t.regex(routes, new RegExp(`198\\.18\\.0\\.0/15 +192\\.0\\.2\\.254 +${a} `))
  },
)

kernelTest('monitor --json prints one object per line', async (t, ns) => {
  ipBatch(ns, ['link add nltbr type bridge'])

  const r = await monitor('--once', '--json', '--netns', ns)

  t.is(r.code, 0, r.stderr)
  const objects = r.stdout
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l))
  const bridge = objects.find((o) => o.object.name === 'nltbr')
  t.is(bridge?.kind, 'link')
  t.is(bridge?.object.kind, 'bridge')
  t.is(typeof bridge?.object.stats.rxBytes, 'string')
  t.is(new Date(bridge?.time).toISOString(), bridge?.time)
})

kernelTest('monitor aligns the columns of its table', async (t, ns) => {
  const long = uniqueName('nltlong')
  ipBatch(ns, [`link add ${long} type bridge`])

  const r = await monitor('--once', '--netns', ns)

  // Where the third column, STATE, starts on each line of the links.
  const lines = r.stdout.split('\n\n')[0].split('\n')
  const column = (l: string) => /^\S+ +\S+ +/.exec(l)?.[0].length
  t.is(lines.length, 3, r.stdout)
  t.is(new Set(lines.map(column)).size, 1, r.stdout)
})

kernelTest(
  'monitor fails with one line and code 1 for a missing namespace',
  async (t) => {
    const missing = uniqueName('nlt-none-')

    const r = await monitor('--once', '--netns', missing)

    t.is(r.code, 1)
    t.is(r.stdout, '')
    t.true(r.stderr.startsWith('monitor: '), r.stderr)
    t.true(r.stderr.includes(missing), r.stderr)
    t.is(r.stderr.trimEnd().split('\n').length, 1, r.stderr)
  },
)

kernelTest(
  'monitor prints each change on a timestamped line until SIGINT',
  async (t, ns) => {
    const child = spawn(process.execPath, [MONITOR, '--netns', ns])
    t.teardown(() => child.kill())
    const exited = once(child, 'exit')
    const lines = createInterface({ input: child.stdout })
    const reader = lines[Symbol.asyncIterator]()
    const nextLine = async (): Promise<string> => {
      const { value, done } = await reader.next()
      if (done) throw new Error('monitor stopped printing')
      return value
    }

    // Reads change lines, each with its ISO timestamp, until one whose
    // text starts with `text`.
    const changeLine = async (text: string): Promise<void> => {
      for (;;) {
        const line = await nextLine()
        const [stamp, ...rest] = line.split(' ')
        t.is(new Date(stamp).toISOString(), stamp, line)
        if (rest.join(' ').startsWith(text)) return
      }
    }

    // The namespace has only lo and no routes: two tables of one row
    // and a header, each followed by an empty line.
    t.regex(await nextLine(), /^INDEX /)
    t.regex(await nextLine(), /^1 +lo /)
    t.is(await nextLine(), '')
    t.regex(await nextLine(), /^DESTINATION /)
    t.is(await nextLine(), '')

    const name = uniqueName('nlt')
    ipIn(ns, 'link', 'add', name, 'type', 'bridge')
    await changeLine(`link new ${name} (index `)
    ipIn(ns, 'link', 'set', name, 'up')
    ipIn(ns, 'address', 'add', '192.0.2.9/24', 'dev', name)
    await changeLine(`address new 192.0.2.9/24 on ${name}`)
    ipIn(ns, 'route', 'add', '198.18.0.0/15', 'via', '192.0.2.1')
    await changeLine(`route new 198.18.0.0/15 via 192.0.2.1 dev ${name}`)
    ipIn(ns, 'link', 'delete', name)
    await changeLine(`link delete ${name} (index `)

    child.kill('SIGINT')
    const [code] = await exited
    t.is(code, 0)
  },
)

kernelTest(
  'monitor without the privilege to enter a namespace says what it needs',
  async (t, ns) => {
    // The child drops to nobody (65534), then runs the monitor.
    const script = [
      'process.setgroups([])',
      'process.setgid(65534)',
      'process.setuid(65534)',
      `require(${JSON.stringify(MONITOR)})`,
    ].join('\n')

    const r = await runScript(script, { args: ['--once', '--netns', ns] })

    t.is(r.code, 1)
    t.is(r.stdout, '')
    t.regex(r.stderr, /^monitor: .*EPERM.*CAP_SYS_ADMIN/)
    t.is(r.stderr.trimEnd().split('\n').length, 1, r.stderr)
  },
)
