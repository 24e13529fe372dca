/**
 * monitor: lists the network interfaces with their state and addresses,
 * then prints each link and address change until Ctrl-C.
 *
 *   node examples/monitor.js [--netns NAME] [--once]
 *
 * --netns NAME  watch the network namespace NAME instead of this one
 * --once        print the table and exit
 *
 * It speaks rtnetlink with nothing but the core API: requests built by
 * hand, replies decoded with the attribute decoder.
 */
import { parseArgs } from 'node:util'
import {
  AttributeDecoder,
  Family,
  HeaderFlags,
  NetlinkError,
  dial,
  type Conn,
  type Message,
} from '../index'

// Message types, groups and attributes from <linux/rtnetlink.h>,
// <linux/if_link.h> and <linux/if_addr.h>.
const RTM_NEWLINK = 16
const RTM_DELLINK = 17
const RTM_GETLINK = 18
const RTM_NEWADDR = 20
const RTM_DELADDR = 21
const RTM_GETADDR = 22
const RTNLGRP_LINK = 1
const RTNLGRP_IPV4_IFADDR = 5
const RTNLGRP_IPV6_IFADDR = 9
const IFLA_ADDRESS = 1
const IFLA_IFNAME = 3
const IFLA_MTU = 4
const IFA_ADDRESS = 1
const IFA_LOCAL = 2
const IFF_UP = 0x1
const IFF_LOWER_UP = 0x10000
const AF_INET = 2

interface Link {
  index: number
  name: string
  flags: number
  mtu: number
  mac: string
}

interface Address {
  index: number
  address: string
}

/** Decodes an RTM_NEWLINK or RTM_DELLINK (struct ifinfomsg + attributes). */
function parseLink(m: Message): Link {
  const link: Link = {
    index: m.data.readInt32LE(4),
    name: '',
    flags: m.data.readUInt32LE(8),
    mtu: 0,
    mac: '',
  }

  const d = new AttributeDecoder(m.data.subarray(16))
  while (d.next()) {
    if (d.type === IFLA_IFNAME) link.name = d.string()
    if (d.type === IFLA_MTU) link.mtu = d.uint32()
    if (d.type === IFLA_ADDRESS) link.mac = formatMac(d.bytes())
  }
  return link
}

/** Decodes an RTM_NEWADDR or RTM_DELADDR (struct ifaddrmsg + attributes). */
function parseAddress(m: Message): Address {
  const family = m.data.readUInt8(0)
  const prefix = m.data.readUInt8(1)
  let local: Buffer | undefined
  let address: Buffer | undefined

  const d = new AttributeDecoder(m.data.subarray(8))
  while (d.next()) {
    if (d.type === IFA_LOCAL) local = d.bytes()
    if (d.type === IFA_ADDRESS) address = d.bytes()
  }

  // On a point-to-point link IFA_ADDRESS is the peer; IFA_LOCAL is ours.
  const ip = local ?? address ?? Buffer.alloc(0)
  const text = family === AF_INET ? formatIPv4(ip) : formatIPv6(ip)
  return { index: m.data.readInt32LE(4), address: `${text}/${prefix}` }
}

function formatMac(b: Buffer): string {
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':')
}

function formatIPv4(b: Buffer): string {
  return [...b].join('.')
}

/** Formats 16 bytes as RFC 5952 text: the longest zero run becomes "::". */
function formatIPv6(b: Buffer): string {
  const words: number[] = []
  for (let i = 0; i + 1 < b.length; i += 2) words.push(b.readUInt16BE(i))

  let best = -1
  let bestLength = 1
  for (let i = 0; i < words.length; ) {
    let j = i
    while (j < words.length && words[j] === 0) j++
    if (j - i > bestLength) [best, bestLength] = [i, j - i]
    i = j === i ? i + 1 : j
  }

  const hex = words.map((w) => w.toString(16))
  if (best < 0) return hex.join(':')
  const head = hex.slice(0, best).join(':')
  const tail = hex.slice(best + bestLength).join(':')
  return `${head}::${tail}`
}

function state(flags: number): string {
  if ((flags & IFF_UP) === 0) return 'down'
  return flags & IFF_LOWER_UP ? 'up' : 'no-carrier'
}

/** Dumps every link and address and prints them as a table. */
async function printTable(conn: Conn, names: Map<number, string>) {
  const dump = HeaderFlags.Dump
  const links = await conn.execute({
    header: { type: RTM_GETLINK, flags: dump },
    data: Buffer.alloc(16),
  })
  const addrs = await conn.execute({
    header: { type: RTM_GETADDR, flags: dump },
    data: Buffer.alloc(8),
  })

  const byIndex = new Map<number, string[]>()
  for (const a of addrs.map(parseAddress)) {
    byIndex.set(a.index, [...(byIndex.get(a.index) ?? []), a.address])
  }

  const rows = [['INDEX', 'NAME', 'STATE', 'MTU', 'MAC', 'ADDRESSES']]
  for (const l of links.map(parseLink)) {
    names.set(l.index, l.name)
    const addresses = (byIndex.get(l.index) ?? []).join(' ')
    rows.push([
      String(l.index),
      l.name,
      state(l.flags),
      String(l.mtu),
      l.mac,
      addresses,
    ])
  }

  const widths = rows[0].map((_, i) =>
    Math.max(...rows.map((r) => r[i].length)),
  )
  for (const row of rows) {
    const cells = row.map((c, i) => c.padEnd(widths[i]))
    console.log(cells.join('  ').trimEnd())
  }
}

/** Describes one notification on a line, or returns undefined. */
function describe(
  m: Message,
  names: Map<number, string>,
): string | undefined {
  switch (m.header.type) {
    case RTM_NEWLINK: {
      const l = parseLink(m)
      const verb = names.has(l.index) ? 'changed' : 'added'
      names.set(l.index, l.name)
      const what = `${l.name} (index ${l.index})`
      return `link ${verb} ${what} ${state(l.flags)} mtu ${l.mtu}`
    }
    case RTM_DELLINK: {
      const l = parseLink(m)
      names.delete(l.index)
      return `link removed ${l.name} (index ${l.index})`
    }
    case RTM_NEWADDR:
    case RTM_DELADDR: {
      const a = parseAddress(m)
      const verb = m.header.type === RTM_NEWADDR ? 'added' : 'removed'
      const name = names.get(a.index) ?? `index ${a.index}`
      return `address ${verb} ${a.address} on ${name}`
    }
  }
  return undefined
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      netns: { type: 'string' },
      once: { type: 'boolean', default: false },
    },
  })

  // Join the groups before the dump so that no change falls between the
  // table and the first notification.
  const groups = values.once
    ? 0
    : (1 << (RTNLGRP_LINK - 1)) |
      (1 << (RTNLGRP_IPV4_IFADDR - 1)) |
      (1 << (RTNLGRP_IPV6_IFADDR - 1))
  const conn = dial(Family.ROUTE, { netns: values.netns, groups })

  const names = new Map<number, string>()
  await printTable(conn, names)
  if (values.once) {
    await conn.close()
    return
  }

  let closing = false
  process.once('SIGINT', () => {
    closing = true
    void conn.close()
  })

  for (;;) {
    try {
      for await (const m of conn.receive()) {
        const line = describe(m, names)
        if (line !== undefined) print(line)
      }
      return
    } catch (err) {
      if (closing) return
      if (!(err instanceof NetlinkError && err.code === 'ENOBUFS')) throw err
      print('some changes were lost: the kernel dropped them (ENOBUFS)')
    }
  }
}

function print(line: string): void {
  console.log(`${new Date().toISOString()} ${line}`)
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    console.error(`monitor: ${err.message}`)
    process.exit(1)
  },
)
