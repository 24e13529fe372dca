/**
 * Fidelity: in a namespace holding veths, a bridge with ports, a vxlan and
 * a macvlan with IPv4 and IPv6 addresses, the typed links and addresses
 * agree with `ip -j -d link show` and `ip -j addr show`, object for
 * object, on every field both carry.
 */
import { ipBatch, kernelTest } from './helpers/netns'
import { ipJson, routeIn } from './helpers/route'

interface IpLink {
  ifindex: number
  ifname: string
  flags: string[]
  mtu: number
  operstate: string
  link_type: string
  address?: string
  broadcast?: string
  master?: string
  txqlen?: number
  group?: string
  linkinfo?: { info_kind?: string; info_slave_kind?: string }
}

interface IpAddress {
  ifindex: number
  addr_info: {
    family: string
    local: string
    prefixlen: number
    address?: string
    scope: string
    label?: string
    broadcast?: string
  }[]
}

/** A namespace with one of each kind of link that works here. */
const SETUP = [
  'link add va type veth peer name vb',
  'link add vc type veth peer name vd',
  'link add br0 type bridge',
  'link set va master br0',
  'link set vc master br0',
  'link add vx0 type vxlan id 42 local 192.0.2.1 dstport 4789',
  'link add mv0 link vb type macvlan mode bridge',
  'link set br0 up',
  'link set va up',
  'link set vb up',
  'link set lo up',
  'addr add 192.0.2.1/24 dev br0',
  'addr add 192.0.2.9/24 dev br0',
  'addr add 198.18.0.1/15 broadcast 198.19.255.255 dev mv0',
  'addr add 2001:db8::1/64 dev br0 nodad',
  'addr add 198.18.5.5 peer 198.18.5.6 dev vd',
]

/**
 * Reads `ours` between two identical readings of `theirs`, so that both
 * describe the same state: links that were just set up change operstate,
 * and IPv6 adds addresses, for a while after.
 */
async function whileStill<A, B>(
  theirs: () => A,
  ours: () => Promise<B>,
): Promise<[B, A]> {
  const deadline = Date.now() + 30_000
  let changes = ''
  while (Date.now() < deadline) {
    const before = JSON.stringify(theirs())
    const read = await ours()
    const after = theirs()
    if (before === JSON.stringify(after)) return [read, after]
    changes = `${before}\n  became\n${JSON.stringify(after)}`
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`the namespace never stopped changing:\n${changes}`)
}

kernelTest('links match ip -j -d link show', async (t, ns) => {
  ipBatch(ns, SETUP)
  const rt = routeIn(t, ns)

  const [ours, theirs] = await whileStill(
    () => ipJson<IpLink[]>(ns, '-d', 'link', 'show'),
    () => rt.links.list(),
  )

  const names = new Map(theirs.map((l) => [l.ifname, l.ifindex]))
  t.deepEqual(
    ours.map((l) => l.index),
    theirs.map((l) => l.ifindex),
  )
  for (const [i, l] of ours.entries()) {
    const ip = theirs[i]
    // ip derives NO-CARRIER (UP without RUNNING) and M-DOWN (the lower
    // link is down) itself; the kernel sends neither.
    const derived = ['NO-CARRIER', 'M-DOWN']
    const flags = ip.flags.filter((f) => !derived.includes(f))
    t.deepEqual(
      {
        name: l.name,
        flags: l.flags.filter((f) => f !== 'RUNNING').sort(),
        mtu: l.mtu,
        operstate: l.operstate,
        type: l.type,
        address: l.address,
        broadcast: l.broadcast,
        master: l.master,
        kind: l.kind,
        slaveKind: l.slaveKind,
        txqlen: l.txqlen,
      },
      {
        name: ip.ifname,
        flags: flags.sort(),
        mtu: ip.mtu,
        operstate: ip.operstate,
        type: ip.link_type,
        address: ip.address,
        broadcast: ip.broadcast,
        master: ip.master === undefined ? undefined : names.get(ip.master),
        kind: ip.linkinfo?.info_kind,
        slaveKind: ip.linkinfo?.info_slave_kind,
        txqlen: ip.txqlen,
      },
      ip.ifname,
    )
  }
})

kernelTest('addresses match ip -j addr show', async (t, ns) => {
  ipBatch(ns, SETUP)
  const rt = routeIn(t, ns)

  const [ours, shown] = await whileStill(
    () => ipJson<IpAddress[]>(ns, 'addr', 'show'),
    () => rt.addresses.list(),
  )
  const theirs = shown.flatMap((l) =>
    l.addr_info.map((a) => ({ ...a, index: l.ifindex })),
  )

  const key = (x: { index: number; address: string }) =>
    `${x.index} ${x.address}`
  const mine = ours
    .map((a) => ({
      index: a.index,
      family: a.family,
      address: a.address,
      prefixLength: a.prefixLength,
      peer: a.peer,
      scope: a.scope,
      label: a.label,
      broadcast: a.broadcast,
    }))
    .sort((a, b) => key(a).localeCompare(key(b)))
  const ip = theirs
    .map((a) => ({
      index: a.index,
      family: a.family,
      address: a.local,
      prefixLength: a.prefixlen,
      peer: a.address,
      scope: a.scope,
      label: a.label,
      broadcast: a.broadcast,
    }))
    .sort((a, b) => key(a).localeCompare(key(b)))

  t.true(mine.length >= 6)
  t.deepEqual(mine, ip)
})
