import test from 'ava'
import { spawnSync } from 'node:child_process'
import { resolve } from 'node:path'

import { Family } from '../lib/constants'
import { familyHeaderSize } from '../lib/debug'

const TESTING = JSON.stringify(resolve(__dirname, '../testing.js'))
const INDEX = JSON.stringify(resolve(__dirname, '../index.js'))

const R = Family.ROUTE
const cases: [string, number, number, number | undefined][] = [
  ['RTM_NEWLINK has an ifinfomsg', R, 16, 16],
  ['RTM_GETADDR has an ifaddrmsg', R, 22, 8],
  ['RTM_DELROUTE has an rtmsg', R, 25, 12],
  ['RTM_NEWNEIGH has an ndmsg', R, 28, 12],
  ['RTM_GETRULE has a fib_rule_hdr', R, 34, 12],
  ['rtnetlink types past rules are unknown', R, 40, undefined],
  ['generic netlink has a genlmsghdr', Family.GENERIC, 30, 4],
  ['netfilter has an nfgenmsg', Family.NETFILTER, 0x100, 4],
  ['control types have none', Family.GENERIC, 2, undefined],
  ['other families are unknown', Family.AUDIT, 1000, undefined],
]

for (const [name, family, type, want] of cases) {
  test(`familyHeaderSize: ${name}`, (t) => {
    t.is(familyHeaderSize(family, type), want)
  })
}

test('NODE_DEBUG=netlink prints requests with their attributes', (t) => {
  const script = `
    const { dialFake } = require(${TESTING})
    const { AttributeEncoder } = require(${INDEX})
    const { conn } = dialFake(() => ({ data: Buffer.alloc(16) }))
    const attrs = new AttributeEncoder()
      .nested(18, (e) => e.string(1, 'veth'))
      .encode()
    const data = Buffer.concat([Buffer.alloc(16), attrs])
    conn.execute({ header: { type: 16 }, data }).then(() => conn.close())
  `
  const run = spawnSync(process.execPath, ['-e', script], {
    env: { ...process.env, NODE_DEBUG: 'netlink' },
    encoding: 'utf8',
  })

  t.is(run.status, 0, run.stderr)
  t.regex(run.stderr, /send type=16 flags=request/)
  t.regex(run.stderr, /attributes:\n\s+type=18 flags=N len=16/)
  t.regex(run.stderr, /\n\s{6,}type=1 len=9: 76 65 74 68 00/)
})

test('without NODE_DEBUG nothing is printed', (t) => {
  const script = `
    const { dialFake } = require(${TESTING})
    const { conn } = dialFake(() => ({ data: Buffer.alloc(16) }))
    conn.execute({ header: { type: 18 } }).then(() => conn.close())
  `
  const env = { ...process.env }
  delete env.NODE_DEBUG
  const run = spawnSync(process.execPath, ['-e', script], {
    env,
    encoding: 'utf8',
  })

  t.is(run.status, 0, run.stderr)
  t.is(run.stderr, '')
  t.is(run.stdout, '')
})

test('NODE_DEBUG=netlink prints every message of a dump', (t) => {
  // Parts of a dump that follow each other skip routing; not logging.
  const script = `
    const { dialFake, multipart } = require(${TESTING})
    const part = { header: { type: 16 }, data: Buffer.alloc(16) }
    const { conn } = dialFake(() =>
      multipart([part, part, part, part], { batches: 1 }),
    )
    conn
      .execute({ header: { type: 18, flags: 0x300 } })
      .then((messages) => conn.close().then(() => {
        process.stdout.write(String(messages.length))
      }))
  `
  const run = spawnSync(process.execPath, ['-e', script], {
    env: { ...process.env, NODE_DEBUG: 'netlink' },
    encoding: 'utf8',
  })

  t.is(run.status, 0, run.stderr)
  t.is(run.stdout, '4')
  t.is(run.stderr.match(/recv type=16 /g)?.length, 4, run.stderr)
  t.is(run.stderr.match(/recv type=done /g)?.length, 1, run.stderr)
})
