/**
 * Bad arguments throw TypeError or RangeError at once, with a message
 * naming the argument, before anything reaches the kernel.
 */
import test from 'ava'
import { ConnOption, Family, dial, type Config } from '../index'
import { caught, dialIn } from './helpers/conn'
import { kernelTest } from './helpers/netns'
import { RTM_GETLINK, getLink } from './helpers/rtnl'

// None of these reach the socket, so they run without a namespace.

test('a family that is not an integer is a TypeError', (t) => {
  t.throws(() => dial(1.5), { instanceOf: TypeError, message: /family/ })
  t.throws(() => dial('0' as unknown as number), {
    instanceOf: TypeError,
    message: /family/,
  })
})

test('a negative family is a RangeError', (t) => {
  t.throws(() => dial(-1), { instanceOf: RangeError, message: /family/ })
})

test('negative groups are a RangeError', (t) => {
  t.throws(() => dial(Family.ROUTE, { groups: -1 }), {
    instanceOf: RangeError,
    message: /groups/,
  })
})

test('a port ID that is not a 32-bit unsigned integer is refused', (t) => {
  const err = t.throws(() => dial(Family.ROUTE, { pid: 2 ** 32 }))

  t.true(err instanceof RangeError || err instanceof TypeError, String(err))
  t.regex(err?.message ?? '', /pid/)
})

test('an unknown Config option is a TypeError', (t) => {
  const config = { bogus: true } as unknown as Config

  t.throws(() => dial(Family.ROUTE, config), {
    instanceOf: TypeError,
    message: /bogus/,
  })
})

test('a netns that is neither a string nor an fd is a TypeError', (t) => {
  t.throws(() => dial(Family.ROUTE, { netns: {} as unknown as string }), {
    instanceOf: TypeError,
    message: /netns/,
  })
})

kernelTest('a negative group to join is a RangeError', (t, ns) => {
  const conn = dialIn(t, ns)

  t.throws(() => conn.joinGroup(-1), {
    instanceOf: RangeError,
    message: /group/,
  })
})

kernelTest('an unknown socket option is refused', (t, ns) => {
  const conn = dialIn(t, ns)

  const err = t.throws(() => conn.setOption(9999 as ConnOption, true))

  t.true(err instanceof RangeError || err instanceof TypeError, String(err))
  t.regex(err?.message ?? '', /option/)
})

kernelTest('message data that is not bytes is a TypeError', async (t, ns) => {
  const conn = dialIn(t, ns)
  const data = 'lo' as unknown as Uint8Array

  const err = await caught(() =>
    conn.execute({ header: { type: RTM_GETLINK }, data }),
  )

  t.true(err instanceof TypeError, String(err))
  t.regex((err as Error).message, /data/)
})

kernelTest('a header that is not an object is a TypeError', async (t, ns) => {
  const conn = dialIn(t, ns)
  const header = 18 as unknown as object

  const err = await caught(() => conn.send({ header }))

  t.true(err instanceof TypeError, String(err))
})

kernelTest('a Conn still works after a refused argument', async (t, ns) => {
  const conn = dialIn(t, ns)
  await caught(() => conn.execute({ data: 'x' as unknown as Uint8Array }))

  const [reply] = await conn.execute(getLink(1))

  t.is(reply.header.type, 16)
})
