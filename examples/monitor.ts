/**
 * monitor: shows this host's network interfaces with their state, kind,
 * MTU, MAC and addresses, and the routes of the main table; then prints
 * each change of a link, address, route or neighbour, one per line with
 * a timestamp, until Ctrl-C.
 *
 *   node examples/monitor.js [--netns NAME] [--json] [--once]
 *
 * --netns NAME  watch the network namespace NAME instead of this one
 * --json        print NDJSON: one object per line, for machines
 * --once        print the table and exit
 */
import { parseArgs } from 'node:util'
import { NetlinkError } from '../index'
import {
  dialRoute,
  type Address,
  type Link,
  type Route,
  type RouteConn,
  type RouteEvent,
} from '../rtnetlink'

const MAIN_TABLE = 254

interface Options {
  netns?: string
  json: boolean
  once: boolean
}

/** Link names by index, kept current from the events. */
type Names = Map<number, string>

async function main(options: Options): Promise<void> {
  const rt = dialRoute({ netns: options.netns })
  const stop = new AbortController()
  const events = rt.monitor({ resync: true, signal: stop.signal })

  // Starting the monitor joins its groups before the table is dumped, so
  // no change falls between the table and the first event.
  const first = options.once ? undefined : events.next()
  const names: Names = new Map()
  await printState(rt, names, options)
  if (first === undefined) {
    await rt.close()
    return
  }

  process.once('SIGINT', () => stop.abort())
  try {
    let next = await first
    while (!next.done) {
      print(next.value, names, options)
      next = await events.next()
    }
  } catch (err) {
    if (!stop.signal.aborted) throw err
  } finally {
    await rt.close()
  }
}

/** Dumps links, addresses and main-table routes and prints them. */
async function printState(
  rt: RouteConn,
  names: Names,
  options: Options,
): Promise<void> {
  const [links, addresses, routes] = await Promise.all([
    rt.links.list(),
    rt.addresses.list(),
    rt.routes.list({ table: MAIN_TABLE }),
  ])
  for (const l of links) names.set(l.index, l.name)

  if (options.json) {
    const now = new Date().toISOString()
    const line = (kind: string, object: unknown) =>
      console.log(toJson({ time: now, kind, action: 'present', object }))
    links.forEach((l) => line('link', l))
    addresses.forEach((a) => line('address', a))
    routes.forEach((r) => line('route', r))
    return
  }

  printLinks(links, addresses)
  console.log()
  printRoutes(routes, names)
  console.log()
}

function printLinks(links: Link[], addresses: Address[]): void {
  const rows = [['INDEX', 'NAME', 'STATE', 'KIND', 'MTU', 'MAC', 'ADDRESSES']]
  for (const l of links) {
    const mine = addresses
      .filter((a) => a.index === l.index)
      .map((a) => `${a.address}/${a.prefixLength}`)
    rows.push([
      String(l.index),
      l.name,
      linkState(l),
      l.kind ?? '-',
      String(l.mtu ?? '-'),
      l.address ?? '-',
      mine.join(' '),
    ])
  }
  printRows(rows)
}

function printRoutes(routes: Route[], names: Names): void {
  const rows = [['DESTINATION', 'GATEWAY', 'DEVICE', 'PROTOCOL', 'METRIC']]
  for (const r of routes) {
    rows.push([
      r.destination,
      r.gateway ?? '-',
      r.index === undefined ? '-' : deviceName(r.index, names),
      r.protocol,
      String(r.priority ?? '-'),
    ])
  }
  printRows(rows)
}

function printRows(rows: string[][]): void {
  const widths = rows[0].map((_, i) =>
    Math.max(...rows.map((r) => r[i].length)),
  )
  for (const row of rows) {
    console.log(
      row
        .map((c, i) => c.padEnd(widths[i]))
        .join('  ')
        .trimEnd(),
    )
  }
}

function linkState(l: Link): string {
  if (!l.up) return 'down'
  return l.flags.includes('LOWER_UP') ? 'up' : 'no-carrier'
}

function deviceName(index: number, names: Names): string {
  return names.get(index) ?? `index ${index}`
}

/** Prints one event: a line of text, or a line of JSON. */
function print(e: RouteEvent, names: Names, options: Options): void {
  const time = new Date().toISOString()
  if (e.kind === 'link') {
    if (e.action === 'new') names.set(e.object.index, e.object.name)
    else names.delete(e.object.index)
  }
  if (options.json) {
    const { kind, ...rest } = e
    console.log(toJson({ time, kind, ...rest }))
    return
  }
  console.log(`${time} ${describe(e, names)}`)
}

function describe(e: RouteEvent, names: Names): string {
  switch (e.kind) {
    case 'link': {
      const l = e.object
      const info = `${l.kind ?? ''} ${linkState(l)} mtu ${l.mtu ?? '-'}`
      return `link ${e.action} ${l.name} (index ${l.index}) ${info.trim()}`
    }
    case 'address': {
      const a = e.object
      const on = deviceName(a.index, names)
      return `address ${e.action} ${a.address}/${a.prefixLength} on ${on}`
    }
    case 'route': {
      const r = e.object
      const via = r.gateway === undefined ? '' : ` via ${r.gateway}`
      const dev =
        r.index === undefined ? '' : ` dev ${deviceName(r.index, names)}`
      const where = `${r.destination}${via}${dev} table ${r.table}`
      return `route ${e.action} ${where}`
    }
    case 'neighbour': {
      const n = e.object
      const on = deviceName(n.index, names)
      const ll = n.lladdr === undefined ? '' : ` lladdr ${n.lladdr}`
      const state = n.state.join(',')
      return `neighbour ${e.action} ${n.address}${ll} on ${on} ${state}`
    }
    case 'overrun':
      return 'events were lost (ENOBUFS); re-dumped, differences follow'
    case 'error':
      return `undecodable message: ${e.error.message}`
  }
}

/**
 * JSON with bigint counters as strings and Buffers as hex; the raw
 * attributes the decoders keep are left out of this tool's output.
 */
function toJson(value: unknown): string {
  return JSON.stringify(value, (key, v) => {
    if (key === 'attributes') return undefined
    if (typeof v === 'bigint') return v.toString()
    if (v?.type === 'Buffer' && Array.isArray(v.data)) {
      return Buffer.from(v.data).toString('hex')
    }
    if (v instanceof Error) return { message: v.message }
    return v
  })
}

function explain(err: unknown): string {
  if (err instanceof NetlinkError && err.code === 'EPERM') {
    return `${err.message}; run it as root or with the capability named`
  }
  return err instanceof Error ? err.message : String(err)
}

const { values } = parseArgs({
  options: {
    netns: { type: 'string' },
    json: { type: 'boolean', default: false },
    once: { type: 'boolean', default: false },
  },
})
main(values as Options).then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`monitor: ${explain(err)}`)
    process.exit(1)
  },
)
