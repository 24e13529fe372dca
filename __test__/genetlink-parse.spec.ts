/**
 * The controller's messages as bytes: whatever arrives, the parsers
 * return a value or throw a GenericError, never anything else; and a
 * family survives encoding and parsing unchanged.
 */
import test from 'ava'
import * as fc from 'fast-check'
import { AttributeEncoder } from '../index'
import {
  CTRL_ATTR_FAMILY_ID,
  CTRL_ATTR_FAMILY_NAME,
  CTRL_ATTR_MCAST_GROUPS,
  CTRL_ATTR_OPS,
  CTRL_ATTR_OP_POLICY,
  CTRL_ATTR_POLICY,
  CTRL_CMD_DELFAMILY,
  CTRL_CMD_DELMCAST_GRP,
  CTRL_CMD_NEWFAMILY,
  CTRL_CMD_NEWMCAST_GRP,
  GENL_ID_CTRL,
  GenericError,
  decodeControllerEvent,
  decodeGeneric,
  encodeFamily,
  parseFamily,
  parsePolicy,
  type GenericFamily,
} from '../genetlink'

/** Runs `fn`, failing unless it returns or throws a GenericError. */
function onlyGenericErrors(fn: () => unknown): boolean {
  try {
    fn()
  } catch (err) {
    if (!(err instanceof GenericError)) throw err
  }
  return true
}

/**
 * Attribute runs that look like the controller's: its attribute types,
 * nests inside nests, values of any bytes, sometimes cut short.
 */
const attributes: fc.Arbitrary<Buffer> = fc.letrec<{ run: Buffer }>((tie) => ({
  run: fc
    .array(
      fc.oneof(
        { depthSize: 'small' },
        fc.record({
          type: fc.integer({ min: 0, max: 12 }),
          data: fc.uint8Array({ maxLength: 12 }),
        }),
        fc.record({
          type: fc.constantFrom(
            CTRL_ATTR_OPS,
            CTRL_ATTR_MCAST_GROUPS,
            CTRL_ATTR_POLICY,
            CTRL_ATTR_OP_POLICY,
            1,
            2,
          ),
          data: tie('run') as fc.Arbitrary<Uint8Array>,
        }),
      ),
      { maxLength: 6 },
    )
    .map((attrs) => {
      const e = new AttributeEncoder()
      for (const a of attrs) e.bytes(a.type, a.data)
      return e.encode()
    }),
})).run

const cut = fc
  .tuple(attributes, fc.nat())
  .map(([run, n]) => run.subarray(0, run.length - (n % 4)))

test('parseFamily only ever throws GenericErrors', (t) => {
  fc.assert(
    fc.property(cut, (bytes) => onlyGenericErrors(() => parseFamily(bytes))),
  )
  t.pass()
})

test('decodeControllerEvent only ever throws GenericErrors', (t) => {
  const command = fc.constantFrom(
    CTRL_CMD_NEWFAMILY,
    CTRL_CMD_DELFAMILY,
    CTRL_CMD_NEWMCAST_GRP,
    CTRL_CMD_DELMCAST_GRP,
  )
  fc.assert(
    fc.property(command, cut, (cmd, bytes) =>
      onlyGenericErrors(() =>
        decodeControllerEvent({
          header: {
            length: 0,
            type: GENL_ID_CTRL,
            flags: 0,
            sequence: 0,
            pid: 0,
          },
          command: cmd,
          version: 2,
          data: bytes,
        }),
      ),
    ),
  )
  t.pass()
})

test('parsePolicy only ever throws GenericErrors', (t) => {
  fc.assert(
    fc.property(fc.array(cut, { maxLength: 4 }), (runs) =>
      onlyGenericErrors(() =>
        parsePolicy(
          21,
          runs.map((data) => ({
            header: { length: 0, type: 16, flags: 0, sequence: 0, pid: 0 },
            command: 10,
            version: 2,
            data,
          })),
        ),
      ),
    ),
  )
  t.pass()
})

test('decodeGeneric only ever throws GenericErrors', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 8 }), (data) =>
      onlyGenericErrors(() =>
        decodeGeneric({
          header: { length: 0, type: 20, flags: 0, sequence: 0, pid: 0 },
          data: Buffer.from(data),
        }),
      ),
    ),
  )
  t.pass()
})

const name = fc.stringMatching(/^[a-z_][a-z0-9_]{0,14}$/)
const family: fc.Arbitrary<GenericFamily> = fc
  .record({
    id: fc.integer({ min: 16, max: 1023 }),
    name,
    version: fc.integer({ min: 0, max: 255 }),
    headerSize: fc.nat(),
    maxAttribute: fc.nat(),
    operations: fc.array(
      fc.record({
        command: fc.integer({ min: 0, max: 255 }),
        flags: fc.integer({ min: 0, max: 0x1f }),
      }),
      { maxLength: 5 },
    ),
    groups: fc.array(
      fc.record({ name, id: fc.integer({ min: 1, max: 0xffffffff }) }),
      { maxLength: 4 },
    ),
  })
  .map((f) => ({
    ...f,
    operations: f.operations.map((o) => ({
      ...o,
      do: (o.flags & 2) !== 0,
      dump: (o.flags & 4) !== 0,
      hasPolicy: (o.flags & 8) !== 0,
      adminOnly: (o.flags & 1) !== 0,
      namespaceAdminOnly: (o.flags & 0x10) !== 0,
    })),
  }))

test('a family parses back to itself', (t) => {
  fc.assert(
    fc.property(family, (f) => {
      t.deepEqual(parseFamily(encodeFamily(f)), f)
    }),
  )
})

test('parseFamily skips attributes it does not know', (t) => {
  const bytes = new AttributeEncoder()
    .string(CTRL_ATTR_FAMILY_NAME, 'netdev')
    .uint16(CTRL_ATTR_FAMILY_ID, 20)
    .bytes(200, Buffer.from([1, 2, 3]))
    .encode()

  t.like(parseFamily(bytes), { name: 'netdev', id: 20 })
})
