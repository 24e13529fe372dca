/**
 * The numbers (`NativeConn.handle`) that `sendThenReadInto`, a plain
 * function of the binding, takes in place of a `NativeConn`.
 */
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { Worker } from 'node:worker_threads'

import { NativeConn, sendThenReadInto } from '../binding'
import { encodeMessage } from '../lib/codec'
import { kernelTest, NETNS_DIR } from './helpers/netns'
import { RTM_GETLINK, ifinfomsg } from './helpers/rtnl'

setFlagsFromString('--expose-gc')
const collect = runInNewContext('gc') as () => void

function openOptions(ns: string) {
  return {
    family: 0,
    pid: 0,
    groups: 0,
    netnsPath: `${NETNS_DIR}/${ns}`,
    strict: false,
    acceptUserspace: false,
    raw: false,
  }
}

function open(ns: string): NativeConn {
  return NativeConn.open(openOptions(ns), () => {})
}

/** A request for link 1. */
function getLoRequest(): Buffer {
  return encodeMessage(
    { type: RTM_GETLINK, flags: 1, sequence: 7, pid: 0 },
    ifinfomsg({ index: 1 }),
  )
}

/** Asks `handle`'s socket for link 1; the record fields of its answer. */
function getLo(handle: number): number | object {
  const request = getLoRequest()
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

kernelTest(
  'a handle taken to another thread finds nothing there',
  async (t, ns) => {
    const native = open(ns)

    // The worker opens sockets of its own until one has the index ours
    // has in our thread's table (a handle's low 20 bits), then tries its
    // own number and ours: ours must not reach its socket of that index.
    const script = `
      const { parentPort, workerData } = require('node:worker_threads')
      const { NativeConn, sendThenReadInto } = require(workerData.binding)
      const opened = []
      let own
      do {
        own = NativeConn.open(workerData.options, () => {})
        opened.push(own)
      } while ((own.handle & 0xfffff) < (workerData.handle & 0xfffff))
      const request = Buffer.from(workerData.request)
      const data = Buffer.alloc(64 << 10)
      const records = new Uint32Array(2048)
      const attempt = (handle) => {
        try {
          return String(sendThenReadInto(handle, request, data, 0, records, 0))
        } catch (err) {
          return err.message
        }
      }
      parentPort.postMessage([attempt(own.handle), attempt(workerData.handle)])
      for (const socket of opened) socket.close()
    `
    const worker = new Worker(script, {
      eval: true,
      workerData: {
        binding: require.resolve('../binding'),
        options: openOptions(ns),
        request: getLoRequest(),
        handle: native.handle,
      },
    })
    const [own, foreign] = await new Promise<string[]>((done, fail) => {
      worker.once('message', done)
      worker.once('error', fail)
    })
    await worker.terminate()
    native.close()

    t.true(Number(own) > 0, `own socket: ${own}`)
    t.regex(foreign, /^9:/)
  },
)
