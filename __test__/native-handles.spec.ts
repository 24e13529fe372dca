/**
 * The numbers (`NativeConn.handle`) that `sendThenReadInto`, a plain
 * function of the binding, takes in place of a `NativeConn`.
 */
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

import { NativeConn, sendThenReadInto } from '../binding'
import { encodeMessage } from '../lib/codec'
import { kernelTest, NETNS_DIR } from './helpers/netns'
import { RTM_GETLINK, ifinfomsg } from './helpers/rtnl'

setFlagsFromString('--expose-gc')
const collect = runInNewContext('gc') as () => void

function open(ns: string): NativeConn {
  const options = {
    family: 0,
    pid: 0,
    groups: 0,
    netnsPath: `${NETNS_DIR}/${ns}`,
    strict: false,
    acceptUserspace: false,
    raw: false,
  }
  return NativeConn.open(options, () => {})
}

/** Asks `handle`'s socket for link 1; the record fields of its answer. */
function getLo(handle: number): number | object {
  const request = encodeMessage(
    { type: RTM_GETLINK, flags: 1, sequence: 7, pid: 0 },
    ifinfomsg({ index: 1 }),
  )
  const data = Buffer.alloc(64 << 10)
  const records = new Uint32Array(2048)
  return sendThenReadInto(handle, request, data, 0, records, 0)
}

kernelTest('a closed socket’s handle is refused with EBADF', (t, ns) => {
  const native = open(ns)
  const handle = native.handle
  t.true((getLo(handle) as number) > 0)

  native.close()
  t.throws(() => getLo(handle), { message: /^9:/ })
})

kernelTest(
  'a handle taken over by a new socket outlives the old one’s collection',
  async (t, ns) => {
    const registry = new FinalizationRegistry<() => void>((done) => done())
    let first: NativeConn | undefined = open(ns)
    const handle = first.handle
    first.close()
    const second = open(ns)
    t.is(second.handle, handle, 'the freed number is given again')

    // Collect the first socket's object; its native half is dropped too.
    const gone = new Promise<void>((done) => registry.register(first!, done))
    first = undefined
    for (let i = 0; i < 50 && !(await settledSoon(gone)); i++) collect()
    for (let i = 0; i < 5; i++) {
      collect()
      await new Promise((next) => setImmediate(next))
    }

    t.true((getLo(second.handle) as number) > 0)
    const third = open(ns)
    t.not(third.handle, second.handle)
    third.close()
    second.close()
  },
)

async function settledSoon(promise: Promise<void>): Promise<boolean> {
  const later = new Promise<boolean>((done) =>
    setTimeout(() => done(false), 10),
  )
  return Promise.race([promise.then(() => true), later])
}
