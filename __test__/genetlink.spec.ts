/**
 * Generic netlink against the kernel, each test in a namespace of its
 * own: families resolved through the controller, the list `genl ctrl
 * list` prints, ethtool requests on a veth, a policy dump, and the
 * errors for what does not exist.
 */
import { execFileSync } from 'node:child_process'
import { resolve } from 'node:path'
import {
  AttributeDecoder,
  AttributeEncoder,
  HeaderFlags,
  HeaderType,
  NetlinkError,
} from '../index'
import {
  GENL_ID_CTRL,
  GenericConn,
  dialGeneric,
  type GenericMessage,
  type GenericReceivedMessage,
} from '../genetlink'
import { runScript } from './helpers/child'
import { caught } from './helpers/conn'
import { ipIn, kernelTest, uniqueName } from './helpers/netns'

const GENETLINK = resolve(__dirname, '..', 'genetlink.js')

// From <linux/ethtool_netlink.h>.
const ETHTOOL_GENL_NAME = 'ethtool'
const ETHTOOL_GENL_VERSION = 1
const ETHTOOL_MSG_LINKINFO_GET = 2
const ETHTOOL_MSG_LINKINFO_GET_REPLY = 2
const ETHTOOL_A_LINKINFO_HEADER = 1
const ETHTOOL_A_HEADER_DEV_INDEX = 1
const ETHTOOL_A_HEADER_DEV_NAME = 2

/** Opens a GenericConn in `ns`, closed when the test ends. */
function genericIn(
  t: { teardown(fn: () => unknown): void },
  ns: string,
): GenericConn {
  const genl = dialGeneric({ netns: ns })
  t.teardown(() => genl.close())
  return genl
}

/** Runs iproute2's `genl` in `ns` and returns what it printed. */
function genlIn(ns: string, ...args: string[]): string {
  return execFileSync('ip', ['netns', 'exec', ns, 'genl', ...args], {
    encoding: 'utf8',
  })
}

/** Why `genl` cannot run here, or undefined when it can. */
function genlMissing(): string | undefined {
  try {
    execFileSync('genl', ['-V'], { stdio: 'ignore' })
    return undefined
  } catch {
    return "iproute2's genl command is not installed"
  }
}

/** A LINKINFO_GET request for the device named `name`. */
function linkInfoRequest(name: string) {
  return {
    command: ETHTOOL_MSG_LINKINFO_GET,
    version: ETHTOOL_GENL_VERSION,
    data: new AttributeEncoder()
      .nested(ETHTOOL_A_LINKINFO_HEADER, (e) =>
        e.string(ETHTOOL_A_HEADER_DEV_NAME, name),
      )
      .encode(),
  }
}

/** The device index and name in a LINKINFO reply's header nest. */
function replyDevice(m: GenericMessage): { index?: number; name?: string } {
  const out: { index?: number; name?: string } = {}
  const d = new AttributeDecoder(m.data)
  while (d.next()) {
    if (d.type !== ETHTOOL_A_LINKINFO_HEADER) continue
    d.nested((n) => {
      while (n.next()) {
        if (n.type === ETHTOOL_A_HEADER_DEV_INDEX) out.index = n.uint32()
        if (n.type === ETHTOOL_A_HEADER_DEV_NAME) out.name = n.string()
      }
    })
  }
  if (d.err !== null) throw d.err
  return out
}

for (const name of ['nlctrl', 'ethtool', 'netdev', 'tcp_metrics']) {
  kernelTest(`getFamily resolves ${name}`, async (t, ns) => {
    const genl = genericIn(t, ns)

    const family = await genl.getFamily(name)

    t.is(family.name, name)
    t.true(family.id >= GENL_ID_CTRL, `id ${family.id}`)
    t.true(family.operations.length > 0)
  })
}

kernelTest('nlctrl has the fixed id and a notify group', async (t, ns) => {
  const genl = genericIn(t, ns)

  const ctrl = await genl.getFamily('nlctrl')

  t.is(ctrl.id, GENL_ID_CTRL)
  t.deepEqual(
    ctrl.groups.map((g) => g.name),
    ['notify'],
  )
})

kernelTest.requiring(
  genlMissing(),
  'listFamilies returns the names genl ctrl list prints',
  async (t, ns) => {
    const genl = genericIn(t, ns)
    const printed = [
      ...genlIn(ns, 'ctrl', 'list').matchAll(/^Name: (\S+)/gm),
    ].map((m) => m[1])

    const families = await genl.listFamilies()

    t.deepEqual(
      families.map((f) => f.name),
      printed,
    )
  },
)

kernelTest.requiring(
  genlMissing(),
  'listFamilies gives each family the ids and groups genl prints',
  async (t, ns) => {
    const genl = genericIn(t, ns)
    const text = genlIn(ns, 'ctrl', 'list')
    const printed = text
      .split(/^Name: /m)
      .slice(1)
      .map((block) => ({
        name: block.split(/\s/)[0],
        id: Number(/ID: (0x[0-9a-f]+)/.exec(block)?.[1]),
        groups: [...block.matchAll(/ID-(0x[0-9a-f]+)\s+name: (\S+)/g)].map(
          (m) => ({ name: m[2], id: Number(m[1]) }),
        ),
      }))

    const families = await genl.listFamilies()

    t.deepEqual(
      families.map((f) => ({ name: f.name, id: f.id, groups: f.groups })),
      printed,
    )
  },
)

kernelTest(
  'an ethtool request on a veth returns its link info',
  async (t, ns) => {
    const name = uniqueName('nlv')
    ipIn(ns, 'link', 'add', name, 'type', 'veth', 'peer', 'name', `${name}p`)
    const [link] = JSON.parse(ipIn(ns, '-j', 'link', 'show', name))
    const genl = genericIn(t, ns)

    const replies = await genl.execute(ETHTOOL_GENL_NAME, linkInfoRequest(name))

    t.is(replies.length, 1)
    t.is(replies[0]!.command, ETHTOOL_MSG_LINKINFO_GET_REPLY)
    t.is(replies[0]!.version, ETHTOOL_GENL_VERSION)
    t.deepEqual(replyDevice(replies[0]!), { index: link.ifindex, name })
  },
)

kernelTest(
  'an ethtool request for a missing device rejects with ENODEV and the ' +
    "kernel's message",
  async (t, ns) => {
    const genl = genericIn(t, ns)

    const err = await caught(() =>
      genl.execute(ETHTOOL_GENL_NAME, linkInfoRequest(uniqueName('nlv'))),
    )

    t.true(err instanceof NetlinkError)
    const e = err as NetlinkError
    t.is(e.code, 'ENODEV')
    t.is(typeof e.extAck?.message, 'string')
    t.true(e.message.includes(e.extAck!.message!), e.message)
  },
)

kernelTest('execute accepts a numeric family id', async (t, ns) => {
  const name = uniqueName('nlv')
  ipIn(ns, 'link', 'add', name, 'type', 'veth', 'peer', 'name', `${name}p`)
  const genl = genericIn(t, ns)
  const { id } = await genl.getFamily(ETHTOOL_GENL_NAME)

  const [reply] = await genl.execute(id, linkInfoRequest(name))

  t.is(replyDevice(reply!).name, name)
})

kernelTest.requiring(
  genlMissing(),
  'a policy dump for ethtool decodes to what genl ctrl policy prints',
  async (t, ns) => {
    const genl = genericIn(t, ns)
    const text = genlIn(ns, 'ctrl', 'policy', 'name', ETHTOOL_GENL_NAME)
    const printedOps = [
      ...text.matchAll(/op (\d+) policies:(?: do=(\d+))?(?: dump=(\d+))?/g),
    ].map((m) => ({
      command: Number(m[1]),
      ...(m[2] === undefined ? {} : { do: Number(m[2]) }),
      ...(m[3] === undefined ? {} : { dump: Number(m[3]) }),
    }))
    const printedAttrs = [
      ...text.matchAll(/policy\[(\d+)\]:attr\[(\d+)\]: type=(\S+)/g),
    ].map((m) => ({ key: `${m[1]}:${m[2]}`, type: m[3]! }))

    const policy = await genl.getPolicy(ETHTOOL_GENL_NAME)

    t.deepEqual(policy.operations, printedOps)
    const attrs = policy.policies.flatMap((p) =>
      p.attributes.map((a) => ({ key: `${p.index}:${a.attribute}`, a })),
    )
    t.deepEqual(
      attrs.map((x) => x.key).sort(),
      printedAttrs.map((x) => x.key).sort(),
    )
    // genl prints "unknown" for the kinds it has no name for.
    const byKey = new Map(attrs.map((x) => [x.key, x.a]))
    for (const { key, type } of printedAttrs) {
      if (type === 'unknown') continue
      const mine = byKey.get(key)!.typeName.toUpperCase().replace('-', '_')
      t.is(mine, type, key)
    }
  },
)

kernelTest(
  "a policy dump of one command gives that command's policies",
  async (t, ns) => {
    const genl = genericIn(t, ns)

    const policy = await genl.getPolicy(
      ETHTOOL_GENL_NAME,
      ETHTOOL_MSG_LINKINFO_GET,
    )

    t.deepEqual(
      policy.operations.map((o) => o.command),
      [ETHTOOL_MSG_LINKINFO_GET],
    )
    const index = policy.operations[0]!.do!
    const top = policy.policies.find((p) => p.index === index)!
    const header = top.attributes.find(
      (a) => a.attribute === ETHTOOL_A_LINKINFO_HEADER,
    )!
    t.is(header.typeName, 'nested')
    const inner = policy.policies.find((p) => p.index === header.policy)!
    const devName = inner.attributes.find(
      (a) => a.attribute === ETHTOOL_A_HEADER_DEV_NAME,
    )!
    t.is(devName.typeName, 'nul-string')
    t.true(devName.maxLength! > 0)
  },
)

kernelTest('an unknown family rejects with ENOENT naming it', async (t, ns) => {
  const genl = genericIn(t, ns)
  const name = uniqueName('nope')

  const err = await caught(() => genl.getFamily(name))

  t.true(err instanceof NetlinkError)
  t.is((err as NetlinkError).code, 'ENOENT')
  t.true((err as Error).message.includes(name), (err as Error).message)
})

kernelTest('execute by an unknown name rejects with ENOENT', async (t, ns) => {
  const genl = genericIn(t, ns)
  const name = uniqueName('nope')

  const err = await caught(() => genl.execute(name, { command: 1, version: 1 }))

  t.is((err as NetlinkError).code, 'ENOENT')
  t.true((err as Error).message.includes(name), (err as Error).message)
})

kernelTest('joinGroup joins ethtool monitor by name', async (t, ns) => {
  const genl = genericIn(t, ns)
  const family = await genl.getFamily(ETHTOOL_GENL_NAME)

  const group = await genl.joinGroup(ETHTOOL_GENL_NAME, 'monitor')

  t.deepEqual(
    group,
    family.groups.find((g) => g.name === 'monitor'),
  )
})

kernelTest(
  'joinGroup of a missing group lists the groups the family has',
  async (t, ns) => {
    const genl = genericIn(t, ns)

    const err = await caught(() => genl.joinGroup('ethtool', 'nosuch'))

    t.is((err as NetlinkError).code, 'ENOENT')
    t.regex((err as Error).message, /nosuch.*groups: monitor/)
  },
)

kernelTest(
  'waitForFamily resolves at once for a family present',
  async (t, ns) => {
    const genl = genericIn(t, ns)

    const family = await genl.waitForFamily('netdev')

    t.is(family.name, 'netdev')
  },
)

// From <linux/netdev.h>.
const NETDEV_CMD_DEV_GET = 1
const NETDEV_CMD_DEV_ADD_NTF = 2
const NETDEV_A_DEV_IFINDEX = 1

/** The device index a netdev message names. */
function netdevIndex(m: GenericMessage): number | undefined {
  for (const a of new AttributeDecoder(m.data)) {
    if (a.type === NETDEV_A_DEV_IFINDEX) return a.data.readUInt32LE(0)
  }
  return undefined
}

kernelTest(
  'receive yields the notifications of a group joined by name',
  async (t, ns) => {
    const genl = genericIn(t, ns)
    const mgmt = await genl.joinGroup('netdev', 'mgmt')
    const name = uniqueName('nlv')

    ipIn(ns, 'link', 'add', name, 'type', 'veth', 'peer', 'name', `${name}p`)
    const [link] = JSON.parse(ipIn(ns, '-j', 'link', 'show', name))
    let added: GenericReceivedMessage | undefined
    for await (const m of genl.receive()) {
      if (m.command !== NETDEV_CMD_DEV_ADD_NTF) continue
      if (netdevIndex(m) === link.ifindex) {
        added = m
        break
      }
    }

    const { id } = await genl.getFamily('netdev')
    t.is(added?.header.type, id)
    t.is(added?.group, mgmt.id)
  },
)

kernelTest(
  'the reply and acknowledgement of a send arrive through receive',
  async (t, ns) => {
    const genl = genericIn(t, ns)
    const loopback = 1

    const sent = await genl.send('netdev', {
      command: NETDEV_CMD_DEV_GET,
      version: 1,
      flags: HeaderFlags.Acknowledge,
      data: new AttributeEncoder()
        .uint32(NETDEV_A_DEV_IFINDEX, loopback)
        .encode(),
    })
    const it = genl.receive()
    const reply = (await it.next()).value!
    const ack = (await it.next()).value!

    t.is(sent.command, NETDEV_CMD_DEV_GET)
    t.is(reply.header.sequence, sent.header.sequence)
    t.is(netdevIndex(reply), loopback)
    t.is(ack.header.type, HeaderType.Error)
    t.is(ack.header.sequence, sent.header.sequence)
    t.is(ack.error, undefined)
  },
)

kernelTest('joinGroup accepts the family by id', async (t, ns) => {
  const genl = genericIn(t, ns)
  const { id, groups } = await genl.getFamily('netdev')

  const group = await genl.joinGroup(id, 'mgmt')

  t.deepEqual(
    group,
    groups.find((g) => g.name === 'mgmt'),
  )
})

kernelTest(
  'a GenericConn nobody reads lets the process exit after waiting',
  async (t, ns) => {
    const script = `
      const { dialGeneric } = require(${JSON.stringify(GENETLINK)})
      const genl = dialGeneric({ netns: ${JSON.stringify(ns)} })
      genl.waitForFamily('netdev').then((f) => console.log(f.name))
    `

    const r = await runScript(script, { killAfter: 30_000 })

    t.is(r.signal, null, 'the child had to be killed: it did not exit')
    t.is(r.code, 0, r.stderr)
    t.is(r.stdout, 'netdev\n')
  },
)

kernelTest(
  'getPolicy of a command the family lacks rejects with ENOENT',
  async (t, ns) => {
    const genl = genericIn(t, ns)

    const err = await caught(() => genl.getPolicy(ETHTOOL_GENL_NAME, 250))

    t.is((err as NetlinkError).code, 'ENOENT')
    t.is((err as NetlinkError).op, 'getPolicy')
    t.regex((err as Error).message, /family ethtool has no command 250/)
  },
)
