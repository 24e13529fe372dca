/**
 * Argument checks of the genetlink entry point: every public function
 * throws a TypeError (`ERR_INVALID_ARG_TYPE`) or RangeError
 * (`ERR_OUT_OF_RANGE`) naming the argument, synchronously and before
 * anything is sent.
 */
import test, { type ExecutionContext } from 'ava'
import { Family } from '../index'
import { dialFake } from '../testing'
import {
  GenericConn,
  decodeControllerEvent,
  decodeGeneric,
  dialGeneric,
  encodeFamily,
  encodeGeneric,
  fakeController,
  formatPolicy,
  parseFamily,
  parsePolicy,
  type GenericFamily,
} from '../genetlink'

type Kind = 'type' | 'range'

/** What each fake opened here was sent: nothing, if checks come first. */
const requestLists: unknown[][] = []

function throwsArg(
  t: ExecutionContext,
  fn: () => unknown,
  kind: Kind,
  names: RegExp,
): void {
  const err = t.throws(fn, {
    instanceOf: kind === 'type' ? TypeError : RangeError,
  }) as (Error & { code?: string }) | undefined
  t.is(err?.code, kind === 'type' ? 'ERR_INVALID_ARG_TYPE' : 'ERR_OUT_OF_RANGE')
  t.regex(err?.message ?? '', names)
  t.true(requestLists.every((sent) => sent.length === 0))
}

/** A GenericConn over a fake that must never be asked anything. */
function open(t: ExecutionContext) {
  const fake = dialFake(
    () => {
      throw new Error('nothing may be sent for a bad argument')
    },
    { family: Family.GENERIC },
  )
  const genl = new GenericConn(fake.conn)
  requestLists.push(fake.requests)
  t.teardown(() => genl.close())
  return genl
}

const ok = { command: 1, version: 1 }

const badFamilies: Array<[string, unknown, Kind, RegExp]> = [
  ['null', null, 'type', /family must be a name or an id, got null/],
  ['an object', {}, 'type', /family must be a name or an id/],
  ['an empty name', '', 'range', /family must be 1 to 15 bytes/],
  ['a 16-byte name', 'x'.repeat(16), 'range', /family must be 1 to 15/],
  ['a name with NUL', 'a\0b', 'range', /without NUL/],
  ['an id under 16', 15, 'range', /family must be in 16\.\.1023/],
  ['an id over 1023', 1024, 'range', /family must be in 16\.\.1023/],
  ['a fractional id', 16.5, 'type', /family must be an integer/],
]

for (const [what, family, kind, names] of badFamilies) {
  test(`execute rejects ${what} as family`, (t) => {
    const genl = open(t)
    throwsArg(t, () => genl.execute(family as never, ok), kind, names)
  })

  test(`send rejects ${what} as family`, (t) => {
    const genl = open(t)
    throwsArg(t, () => genl.send(family as never, ok), kind, names)
  })

  test(`joinGroup and leaveGroup reject ${what} as family`, (t) => {
    const genl = open(t)
    throwsArg(t, () => genl.joinGroup(family as never, 'g'), kind, names)
    throwsArg(t, () => genl.leaveGroup(family as never, 'g'), kind, names)
  })

  test(`getPolicy rejects ${what} as family`, (t) => {
    const genl = open(t)
    throwsArg(t, () => genl.getPolicy(family as never), kind, names)
  })
}

const badRequests: Array<[string, unknown, Kind, RegExp]> = [
  ['no request', undefined, 'type', /request must be an object/],
  ['null', null, 'type', /request must be an object, got null/],
  ['an unknown key', { ...ok, type: 3 }, 'type', /unknown option type/],
  ['no command', { version: 1 }, 'type', /request\.command must be an int/],
  ['command 256', { ...ok, command: 256 }, 'range', /request\.command/],
  ['version -1', { ...ok, version: -1 }, 'range', /request\.version/],
  ['flags 0x10000', { ...ok, flags: 0x10000 }, 'range', /request\.flags/],
  ['data as a string', { ...ok, data: 'x' }, 'type', /request\.data/],
]

for (const [what, request, kind, names] of badRequests) {
  test(`execute rejects a request with ${what}`, (t) => {
    const genl = open(t)
    throwsArg(t, () => genl.execute(20, request as never), kind, names)
  })

  test(`send rejects a request with ${what}`, (t) => {
    const genl = open(t)
    throwsArg(t, () => genl.send(20, request as never), kind, names)
  })
}

const badOptions: Array<[string, unknown, RegExp]> = [
  ['a number', 5, /options must be an object/],
  ['an unknown key', { timeout: 1 }, /unknown option timeout/],
  ['a bad signal', { signal: {} }, /options\.signal must be an AbortSignal/],
]

for (const [what, options, names] of badOptions) {
  test(`the waiting methods reject options that are ${what}`, (t) => {
    const genl = open(t)
    const o = options as never
    throwsArg(t, () => genl.execute(20, ok, o), 'type', names)
    throwsArg(t, () => genl.receive(o), 'type', names)
    throwsArg(t, () => genl.getFamily('x', o), 'type', names)
    throwsArg(t, () => genl.listFamilies(o), 'type', names)
    throwsArg(t, () => genl.getPolicy('x', undefined, o), 'type', names)
    throwsArg(t, () => genl.waitForFamily('x', o), 'type', names)
    throwsArg(t, () => genl.waitForFamilyRemoval('x', o), 'type', names)
  })
}

const badNames: Array<[string, unknown, Kind, RegExp]> = [
  ['a number', 3, 'type', /must be a string, got number 3/],
  ['empty', '', 'range', /must be 1 to 15 bytes/],
  ['too long', 'n'.repeat(16), 'range', /must be 1 to 15 bytes/],
]

for (const [what, name, kind, names] of badNames) {
  test(`family lookups reject a name that is ${what}`, (t) => {
    const genl = open(t)
    const n = name as never
    throwsArg(t, () => genl.getFamily(n), kind, names)
    throwsArg(t, () => genl.waitForFamily(n), kind, names)
    throwsArg(t, () => genl.waitForFamilyRemoval(n), kind, names)
  })

  test(`joinGroup and leaveGroup reject a group that is ${what}`, (t) => {
    const genl = open(t)
    const n = name as never
    throwsArg(t, () => genl.joinGroup('ethtool', n), kind, /group must/)
    throwsArg(t, () => genl.leaveGroup('ethtool', n), kind, /group must/)
  })
}

test('getPolicy rejects a command out of range', (t) => {
  const genl = open(t)
  throwsArg(t, () => genl.getPolicy('ethtool', 256), 'range', /command/)
  throwsArg(t, () => genl.getPolicy('ethtool', 'x' as never), 'type', /co/)
})

test('new GenericConn rejects what is not a Conn', (t) => {
  throwsArg(t, () => new GenericConn({} as never), 'type', /conn must be/)
  throwsArg(t, () => new GenericConn(null as never), 'type', /got null/)
})

test('new GenericConn rejects bad options', (t) => {
  const { conn } = dialFake(() => null, { family: Family.GENERIC })
  t.teardown(() => conn.close())

  throwsArg(t, () => new GenericConn(conn, 1 as never), 'type', /options/)
  throwsArg(
    t,
    () => new GenericConn(conn, { maxQueuedBytes: -1 }),
    'range',
    /options\.maxQueuedBytes/,
  )
  throwsArg(
    t,
    () => new GenericConn(conn, { other: 1 } as never),
    'type',
    /unknown option other/,
  )
})

test('dialGeneric rejects bad configuration', (t) => {
  throwsArg(t, () => dialGeneric('x' as never), 'type', /config must be/)
  throwsArg(t, () => dialGeneric({ pid: -1 }), 'range', /config\.pid/)
  throwsArg(
    t,
    () => dialGeneric({ maxQueuedBytes: -1 }),
    'range',
    /maxQueuedBytes/,
  )
})

test('encodeGeneric checks command, version and data', (t) => {
  throwsArg(t, () => encodeGeneric(256, 1), 'range', /command/)
  throwsArg(t, () => encodeGeneric(1, -1), 'range', /version/)
  throwsArg(t, () => encodeGeneric(1, 1, 'x' as never), 'type', /data/)
})

test('decodeGeneric checks its message', (t) => {
  throwsArg(t, () => decodeGeneric(null as never), 'type', /message must/)
  throwsArg(
    t,
    () => decodeGeneric({ header: {}, data: 'x' } as never),
    'type',
    /message\.data/,
  )
})

test('parseFamily checks its data', (t) => {
  throwsArg(t, () => parseFamily('x' as never), 'type', /data must be/)
})

const WG: GenericFamily = {
  id: 30,
  name: 'wireguard',
  version: 1,
  headerSize: 0,
  maxAttribute: 4,
  operations: [],
  groups: [],
}

const badEncodings: Array<[string, unknown, Kind, RegExp]> = [
  ['no family', undefined, 'type', /family must be an object/],
  ['a numeric name', { ...WG, name: 1 }, 'type', /family\.name/],
  ['id 0x10000', { ...WG, id: 0x10000 }, 'range', /family\.id/],
  ['version 256', { ...WG, version: 256 }, 'range', /family\.version/],
  ['operations not a list', { ...WG, operations: 1 }, 'type', /operations/],
  [
    'an operation without command',
    { ...WG, operations: [{ flags: 2 }] },
    'type',
    /family\.operations\[0\]\.command/,
  ],
  [
    'a group without name',
    { ...WG, groups: [{ id: 3 }] },
    'type',
    /family\.groups\[0\]\.name/,
  ],
]

for (const [what, family, kind, names] of badEncodings) {
  test(`encodeFamily rejects ${what}`, (t) => {
    throwsArg(t, () => encodeFamily(family as never), kind, names)
  })
}

test('decodeControllerEvent checks its message', (t) => {
  throwsArg(t, () => decodeControllerEvent(7 as never), 'type', /message/)
  throwsArg(
    t,
    () =>
      decodeControllerEvent({
        header: { type: 16 },
        command: 300,
        data: Buffer.alloc(0),
      } as never),
    'range',
    /message\.command/,
  )
})

test('parsePolicy and formatPolicy check their arguments', (t) => {
  throwsArg(t, () => parsePolicy(-1, []), 'range', /familyId/)
  throwsArg(t, () => parsePolicy(20, {} as never), 'type', /messages must/)
  throwsArg(
    t,
    () => parsePolicy(20, [{ data: 1 }] as never),
    'type',
    /messages\[0\]\.data/,
  )
  throwsArg(t, () => formatPolicy({} as never), 'type', /policy must/)
})

test('fakeController checks its families and next handler', (t) => {
  throwsArg(t, () => fakeController({} as never), 'type', /families must/)
  throwsArg(t, () => fakeController([], 3 as never), 'type', /next must/)
})
