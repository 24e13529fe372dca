/**
 * Typed addresses against the kernel: IPv4 and IPv6 add, list with the
 * kernel's filters, delete, the kernel's errors, and argument checks.
 */
import test from 'ava'
import { NetlinkError } from '../index'
import { dialFake } from '../testing'
import { Addresses, RouteConn, decodeAddress } from '../rtnetlink'
import { refusesEach, refusesNonConns } from './helpers/collections'
import { caught } from './helpers/conn'
import {
  decodesOrIsMalformed,
  garbageIsMalformed,
  refusesNonMessages,
  truncatedIsMalformed,
} from './helpers/decoders'
import { ipIn, kernelTest } from './helpers/netns'
import { routeIn } from './helpers/route'

/** Makes a veth pair va/vb in `ns` and returns va's index. */
async function veth(rt: RouteConn, ns: string): Promise<number> {
  ipIn(ns, 'link', 'add', 'va', 'type', 'veth', 'peer', 'name', 'vb')
  return (await rt.links.get('va')).index
}

kernelTest('an IPv4 address is added and listed', async (t, ns) => {
  const rt = routeIn(t, ns)
  const index = await veth(rt, ns)

  await rt.addresses.add({ index, address: '192.0.2.1/24', label: 'va:x' })

  const [a] = await rt.addresses.list({ index })
  t.is(a.family, 'inet')
  t.is(a.address, '192.0.2.1')
  t.is(a.prefixLength, 24)
  t.is(a.scope, 'global')
  t.is(a.label, 'va:x')
  t.true(a.flags.includes('permanent'))
  t.is(a.peer, undefined)
})

kernelTest('an IPv6 address is added with flags and listed', async (t, ns) => {
  const rt = routeIn(t, ns)
  const index = await veth(rt, ns)

  await rt.addresses.add({
    index,
    address: '2001:db8::1',
    prefixLength: 64,
    flags: ['nodad'],
  })

  const list = await rt.addresses.list({ index, family: 'inet6' })
  const a = list.find((x) => x.address === '2001:db8::1')
  t.is(a?.prefixLength, 64)
  t.true(a?.flags.includes('nodad'))
})

kernelTest('list filters by family and by link', async (t, ns) => {
  const rt = routeIn(t, ns)
  const index = await veth(rt, ns)
  await rt.addresses.add({ index, address: '192.0.2.1/24' })
  await rt.addresses.add({ index, address: '2001:db8::1/64', flags: ['nodad'] })

  await rt.links.set(1, { up: true })

  const v4 = await rt.addresses.list({ family: 'inet' })
  const onLo = await rt.addresses.list({ index: 1 })

  t.deepEqual(v4.map((a) => a.address).sort(), ['127.0.0.1', '192.0.2.1'])
  t.deepEqual(onLo.map((a) => a.address).sort(), ['127.0.0.1', '::1'])
})

kernelTest('a point-to-point address keeps its peer', async (t, ns) => {
  const rt = routeIn(t, ns)
  const index = await veth(rt, ns)

  await rt.addresses.add({
    index,
    address: '192.0.2.1',
    peer: '192.0.2.2',
    prefixLength: 32,
  })

  const [a] = await rt.addresses.list({ index, family: 'inet' })
  t.is(a.address, '192.0.2.1')
  t.is(a.peer, '192.0.2.2')
})

kernelTest('delete removes an address', async (t, ns) => {
  const rt = routeIn(t, ns)
  const index = await veth(rt, ns)
  await rt.addresses.add({ index, address: '192.0.2.1/24' })

  const [a] = await rt.addresses.list({ index, family: 'inet' })
  await rt.addresses.delete(a)

  t.deepEqual(await rt.addresses.list({ index, family: 'inet' }), [])
})

kernelTest('adding an address twice rejects with EEXIST', async (t, ns) => {
  const rt = routeIn(t, ns)
  const index = await veth(rt, ns)
  await rt.addresses.add({ index, address: '192.0.2.1/24' })

  const err = await caught(() =>
    rt.addresses.add({ index, address: '192.0.2.1/24' }),
  )

  t.is((err as NetlinkError).code, 'EEXIST')
})

kernelTest(
  "adding an address to a missing link carries the kernel's message",
  async (t, ns) => {
    const rt = routeIn(t, ns)

    const err = await caught(() =>
      rt.addresses.add({ index: 9999, address: '192.0.2.1/24' }),
    )

    t.true(err instanceof NetlinkError)
    t.is((err as NetlinkError).code, 'ENODEV')
    t.regex((err as NetlinkError).extAck?.message ?? '', /[Dd]evice/)
    t.regex((err as Error).message, /[Dd]evice not found/)
  },
)

test('bad arguments are TypeErrors and RangeErrors naming them', async (t) => {
  const { conn } = dialFake(() => null)
  const rt = new RouteConn(conn)
  t.teardown(() => rt.close())

  await refusesEach(t, [
    [() => rt.addresses.add(undefined as never), /address must be/],
    [
      () => rt.addresses.add({ index: 0, address: '192.0.2.1/24' }),
      /address\.index/,
    ],
    [() => rt.addresses.add({ index: 1, address: 'x' }), /address\.address/],
    [
      () => rt.addresses.add({ index: 1, address: '192.0.2.1/33' }),
      /prefix length in 0\.\.32/,
    ],
    [
      () =>
        rt.addresses.add({
          index: 1,
          address: '192.0.2.1/24',
          prefixLength: 16,
        }),
      /contradicts/,
    ],
    [
      () => rt.addresses.add({ index: 1, address: '192.0.2.1', flags: ['x'] }),
      /address\.flags\[0\]/,
    ],
    [
      () => rt.addresses.add({ index: 1, address: '192.0.2.1', peer: '::1' }),
      /peer/,
    ],
    [() => rt.addresses.list({ family: 'ipx' } as never), /filter\.family/],
  ])
})

test('any address message decodes or is a MalformedError', (t) => {
  decodesOrIsMalformed(t, decodeAddress, {
    headerSize: 8,
    families: [0, 2, 10, 17],
    maxType: 12,
  })
})

test('decodeAddress rejects a cut-short message', (t) => {
  truncatedIsMalformed(t, decodeAddress, 8)
})

test('decodeAddress rejects a malformed attribute', (t) => {
  garbageIsMalformed(t, decodeAddress, Buffer.alloc(8), /^address on 0: /)
})

test('new Addresses refuses something that is not a Conn', (t) => {
  refusesNonConns(t, Addresses)
})

test('decodeAddress refuses what is not a message', (t) => {
  refusesNonMessages(t, decodeAddress)
})
