// Captures real kernel replies as seeds for the fuzz corpus: whole
// datagrams for `frames` and `batch`, error and DONE messages for `ack`.
// Run as root, after `npm run build`:
//   node crates/netlink-core/fuzz/capture-seeds.cjs
// It works in a namespace of its own and removes it afterwards.
'use strict'
const { execFileSync } = require('node:child_process')
const { writeFileSync } = require('node:fs')
const { join, resolve } = require('node:path')
const nl = require(resolve(__dirname, '../../../index.js'))

const CORPUS = join(__dirname, 'corpus')
const ns = `nlt-seeds-${process.pid}`
const ip = (...args) => execFileSync('ip', ['-n', ns, ...args])

/** Sends `request` and reads whole datagrams until its outcome. */
async function capture(conn, name, request) {
  const sent = await conn.send(request)
  let n = 0
  for await (const d of conn.receive()) {
    const datagram = Buffer.from(d.data)
    if (datagram.readUInt32LE(8) !== sent.header.sequence) continue
    writeFileSync(join(CORPUS, 'frames', `seed-${name}-${n}`), datagram)
    const batch = Buffer.concat([Buffer.from([0]), datagram])
    writeFileSync(join(CORPUS, 'batch', `seed-${name}-${n}`), batch)

    let done = false
    for (const m of nl.parseMessages(datagram)) {
      const type = m.header.type
      if (type === nl.HeaderType.Error || type === nl.HeaderType.Done) {
        const bytes = nl.marshalMessage(m)
        writeFileSync(join(CORPUS, 'ack', `seed-${name}-${n}`), bytes)
        done = true
      }
      if ((m.header.flags & nl.HeaderFlags.Multi) === 0) done = true
    }
    n++
    if (done) return
  }
}

function ifinfo(index = 0) {
  const b = Buffer.alloc(16)
  b.writeInt32LE(index, 4)
  return b
}

async function main() {
  execFileSync('ip', ['netns', 'add', ns])
  try {
    ip('link', 'add', 'seedbr0', 'type', 'bridge')
    ip('link', 'add', 'seedveth0', 'type', 'veth', 'peer', 'seedveth1')
    ip('link', 'set', 'lo', 'up')
    ip('address', 'add', '192.0.2.1/24', 'dev', 'lo')
    ip('address', 'add', '2001:db8::1/64', 'dev', 'lo')
    for (let i = 0; i < 50; i++) {
      ip('route', 'add', `198.18.0.${i}/32`, 'dev', 'lo')
    }

    const conn = nl.dial(nl.Family.ROUTE, { netns: ns, raw: true })
    conn.setOption(nl.ConnOption.ExtendedAcknowledge, true)
    const dump = nl.HeaderFlags.Dump
    const ack = nl.HeaderFlags.Acknowledge
    await capture(conn, 'link-dump', {
      header: { type: 18, flags: dump },
      data: ifinfo(),
    })
    await capture(conn, 'addr-dump', {
      header: { type: 22, flags: dump },
      data: Buffer.alloc(8),
    })
    await capture(conn, 'route-dump', {
      header: { type: 26, flags: dump },
      data: Buffer.alloc(12),
    })
    await capture(conn, 'missing-link', {
      header: { type: 18 },
      data: ifinfo(9999),
    })
    await capture(conn, 'ack', {
      header: { type: 18, flags: ack },
      data: ifinfo(1),
    })
    const unknownKind = new nl.AttributeEncoder()
      .string(3, 'seedx0')
      .nested(18, (e) => e.string(1, 'no-such-kind'))
      .encode()
    await capture(conn, 'unknown-kind', {
      header: { type: 16, flags: nl.HeaderFlags.Create | ack },
      data: Buffer.concat([ifinfo(), unknownKind]),
    })
    // IFLA_MTU of two bytes fails policy validation: a policy in the ack.
    const badMtu = Buffer.from([6, 0, 4, 0, 1, 2, 0, 0])
    await capture(conn, 'policy', {
      header: { type: 16, flags: ack },
      data: Buffer.concat([ifinfo(1), badMtu]),
    })
    conn.setOption(nl.ConnOption.CapAcknowledge, true)
    await capture(conn, 'capped-error', {
      header: { type: 16, flags: ack },
      data: Buffer.concat([ifinfo(1), badMtu]),
    })
    conn.setOption(nl.ConnOption.GetStrictCheck, true)
    await capture(conn, 'strict-dump-error', {
      header: { type: 18, flags: dump },
      data: ifinfo(1),
    })
    await conn.close()
  } finally {
    execFileSync('ip', ['netns', 'delete', ns])
  }
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
