/**
 * The genetlink layer over a fake Conn: the generic header, family
 * resolution and its cache, malformed controller replies, groups by
 * name, policy dumps, controller events and waiting for families. No
 * kernel is needed.
 */
import test, { type ExecutionContext } from 'ava'
import { AttributeEncoder, Family, HeaderFlags, NetlinkError } from '../index'
import {
  dialFake,
  errorReply,
  multipart,
  type Handler,
  type ReplyMessage,
} from '../testing'
import {
  CTRL_ATTR_FAMILY_ID,
  CTRL_ATTR_FAMILY_NAME,
  CTRL_ATTR_MCAST_GROUPS,
  CTRL_ATTR_MCAST_GRP_ID,
  CTRL_ATTR_MCAST_GRP_NAME,
  CTRL_ATTR_OPS,
  CTRL_ATTR_OP_FLAGS,
  CTRL_ATTR_OP_POLICY,
  CTRL_ATTR_POLICY,
  CTRL_ATTR_POLICY_DO,
  CTRL_ATTR_POLICY_DUMP,
  CTRL_ATTR_VERSION,
  CTRL_CMD_DELFAMILY,
  CTRL_CMD_GETFAMILY,
  CTRL_CMD_GETPOLICY,
  CTRL_CMD_NEWFAMILY,
  CTRL_CMD_NEWMCAST_GRP,
  GENL_ID_CTRL,
  GenericConn,
  GenericError,
  NL_ATTR_TYPE_BITFIELD32,
  NL_ATTR_TYPE_NESTED,
  NL_ATTR_TYPE_S16,
  NL_ATTR_TYPE_U8,
  NL_POLICY_TYPE_ATTR_BITFIELD32_MASK,
  NL_POLICY_TYPE_ATTR_MAX_VALUE_S,
  NL_POLICY_TYPE_ATTR_MAX_VALUE_U,
  NL_POLICY_TYPE_ATTR_MIN_VALUE_S,
  NL_POLICY_TYPE_ATTR_MIN_VALUE_U,
  NL_POLICY_TYPE_ATTR_POLICY_IDX,
  NL_POLICY_TYPE_ATTR_POLICY_MAXTYPE,
  NL_POLICY_TYPE_ATTR_TYPE,
  decodeControllerEvent,
  decodeGeneric,
  dialGeneric,
  encodeFamily,
  encodeGeneric,
  fakeController,
  formatPolicy,
  parseFamily,
  type GenericFamily,
} from '../genetlink'
import { caught } from './helpers/conn'

const NOTIFY = 0x10

function family(
  name: string,
  id: number,
  groups: Array<{ name: string; id: number }> = [],
): GenericFamily {
  const op = (command: number, flags: number) => ({
    command,
    flags,
    do: (flags & 2) !== 0,
    dump: (flags & 4) !== 0,
    hasPolicy: (flags & 8) !== 0,
    adminOnly: (flags & 1) !== 0,
    namespaceAdminOnly: (flags & 0x10) !== 0,
  })
  return {
    id,
    name,
    version: 1,
    headerSize: 0,
    maxAttribute: 4,
    operations: [op(1, 0xe), op(2, 0x3)],
    groups,
  }
}

const NLCTRL = {
  ...family('nlctrl', GENL_ID_CTRL, [{ name: 'notify', id: NOTIFY }]),
  version: 2,
}
const ETHTOOL = family('ethtool', 21, [{ name: 'monitor', id: 6 }])
const WG = family('wireguard', 30)

/** A GenericConn over a fake whose controller knows `families`. */
function open(
  t: ExecutionContext,
  families: GenericFamily[] = [NLCTRL, ETHTOOL],
  next?: Handler,
) {
  const fake = dialFake(fakeController(families, next), {
    family: Family.GENERIC,
  })
  const genl = new GenericConn(fake.conn)
  t.teardown(() => genl.close())
  return { ...fake, genl, families }
}

/** A GenericConn over a fake whose controller answers with `reply`. */
function openWithReply(t: ExecutionContext, reply: ReplyMessage) {
  const fake = dialFake(() => reply, { family: Family.GENERIC })
  const genl = new GenericConn(fake.conn)
  t.teardown(() => genl.close())
  return genl
}

/** A controller message carrying `attrs` after the generic header. */
function controllerMessage(command: number, attrs: Buffer) {
  return {
    header: { type: GENL_ID_CTRL },
    data: encodeGeneric(command, 2, attrs),
  }
}

/** How many controller requests of `command` the fake saw. */
function asked(
  requests: Array<{ header: { type: number }; data: Buffer }>,
  command: number,
): number {
  return requests.filter(
    (r) => r.header.type === GENL_ID_CTRL && r.data[0] === command,
  ).length
}

test('execute puts the generic header in front of the payload', async (t) => {
  const { genl, requests } = open(t, [NLCTRL, ETHTOOL], () => ({
    data: encodeGeneric(2, 1, Buffer.alloc(0)),
  }))
  const payload = Buffer.from([8, 0, 1, 0, 7, 0, 0, 0])

  await genl.execute(ETHTOOL.id, { command: 5, version: 1, data: payload })

  const sent = requests.at(-1)!
  t.is(sent.header.type, ETHTOOL.id)
  t.deepEqual(sent.data, Buffer.concat([Buffer.from([5, 1, 0, 0]), payload]))
})

test('execute reads the generic header of each reply', async (t) => {
  const attrs = new AttributeEncoder().uint32(1, 42).encode()
  const { genl } = open(t, [NLCTRL, ETHTOOL], () =>
    multipart([
      { data: encodeGeneric(7, 1, attrs) },
      { data: encodeGeneric(8, 3, attrs) },
    ]),
  )

  const replies = await genl.execute('ethtool', {
    command: 1,
    version: 1,
    flags: HeaderFlags.Dump,
  })

  t.deepEqual(
    replies.map((m) => [m.command, m.version, m.data]),
    [
      [7, 1, attrs],
      [8, 3, attrs],
    ],
  )
})

test('execute by name asks the controller once', async (t) => {
  const { genl, requests } = open(t, [NLCTRL, ETHTOOL], () => ({
    data: encodeGeneric(2, 1, Buffer.alloc(0)),
  }))

  await genl.execute('ethtool', { command: 1, version: 1 })
  await genl.execute('ethtool', { command: 1, version: 1 })

  t.is(asked(requests, CTRL_CMD_GETFAMILY), 1)
  t.deepEqual(requests.filter((r) => r.header.type === ETHTOOL.id).length, 2)
})

test('concurrent lookups of one family share a request', async (t) => {
  const { genl, requests } = open(t)

  const found = await Promise.all([
    genl.getFamily('ethtool'),
    genl.getFamily('ethtool'),
    genl.execute('ethtool', { command: 2, version: 1 }).catch(() => null),
  ])

  t.deepEqual(found[0], ETHTOOL)
  t.deepEqual(found[1], ETHTOOL)
  t.is(asked(requests, CTRL_CMD_GETFAMILY), 1)
})

test('getFamily decodes what the controller sends', async (t) => {
  const { genl } = open(t)

  t.deepEqual(await genl.getFamily('nlctrl'), NLCTRL)
})

test('listFamilies returns every family in the order sent', async (t) => {
  const { genl } = open(t, [NLCTRL, ETHTOOL, WG])

  const families = await genl.listFamilies()

  t.deepEqual(families, [NLCTRL, ETHTOOL, WG])
})

test('an unknown family rejects with ENOENT naming it', async (t) => {
  const { genl } = open(t)

  const err = await caught(() => genl.getFamily('wireguard'))

  t.true(err instanceof NetlinkError)
  t.is((err as NetlinkError).code, 'ENOENT')
  t.is((err as NetlinkError).op, 'getFamily')
  t.regex((err as Error).message, /wireguard/)
})

test('an unknown family id rejects with ENOENT naming it', async (t) => {
  const { genl } = open(t)

  const err = await caught(() => genl.joinGroup(99, 'x'))

  t.is((err as NetlinkError).code, 'ENOENT')
  t.regex((err as Error).message, /id 99/)
})

const malformed: Array<[string, Buffer, RegExp]> = [
  [
    'a reply without the family id',
    new AttributeEncoder().string(CTRL_ATTR_FAMILY_NAME, 'ethtool').encode(),
    /family ethtool: .*no id/,
  ],
  [
    'a reply without the family name',
    new AttributeEncoder().uint16(CTRL_ATTR_FAMILY_ID, 21).encode(),
    /family 21: .*no name/,
  ],
  [
    'a reply with a version over 255',
    new AttributeEncoder()
      .string(CTRL_ATTR_FAMILY_NAME, 'ethtool')
      .uint16(CTRL_ATTR_FAMILY_ID, 21)
      .uint32(CTRL_ATTR_VERSION, 256)
      .encode(),
    /family ethtool: version 256/,
  ],
  [
    'a group without its name',
    new AttributeEncoder()
      .string(CTRL_ATTR_FAMILY_NAME, 'ethtool')
      .uint16(CTRL_ATTR_FAMILY_ID, 21)
      .nested(CTRL_ATTR_MCAST_GROUPS, (e) =>
        e.nested(1, (g) => g.uint32(CTRL_ATTR_MCAST_GRP_ID, 6)),
      )
      .encode(),
    /family ethtool: .*group #1 \(id 6\) has no name/,
  ],
  [
    'a group without its id',
    new AttributeEncoder()
      .string(CTRL_ATTR_FAMILY_NAME, 'ethtool')
      .uint16(CTRL_ATTR_FAMILY_ID, 21)
      .nested(CTRL_ATTR_MCAST_GROUPS, (e) =>
        e.nested(1, (g) => g.string(CTRL_ATTR_MCAST_GRP_NAME, 'monitor')),
      )
      .encode(),
    /group monitor has no id/,
  ],
  [
    'a group with id 0',
    new AttributeEncoder()
      .string(CTRL_ATTR_FAMILY_NAME, 'ethtool')
      .uint16(CTRL_ATTR_FAMILY_ID, 21)
      .nested(CTRL_ATTR_MCAST_GROUPS, (e) =>
        e.nested(1, (g) =>
          g
            .string(CTRL_ATTR_MCAST_GRP_NAME, 'monitor')
            .uint32(CTRL_ATTR_MCAST_GRP_ID, 0),
        ),
      )
      .encode(),
    /group monitor has id 0/,
  ],
  [
    'an operation without its id',
    new AttributeEncoder()
      .string(CTRL_ATTR_FAMILY_NAME, 'ethtool')
      .uint16(CTRL_ATTR_FAMILY_ID, 21)
      .nested(CTRL_ATTR_OPS, (e) =>
        e.nested(1, (o) => o.uint32(CTRL_ATTR_OP_FLAGS, 2)),
      )
      .encode(),
    /operation #1 has no id/,
  ],
  [
    'an id of the wrong size',
    new AttributeEncoder()
      .string(CTRL_ATTR_FAMILY_NAME, 'ethtool')
      .uint32(CTRL_ATTR_FAMILY_ID, 21)
      .encode(),
    /uint16 needs 2 bytes, got 4/,
  ],
  [
    'an attribute running past the end',
    Buffer.concat([
      new AttributeEncoder().string(CTRL_ATTR_FAMILY_NAME, 'ethtool').encode(),
      Buffer.from([40, 0, 1, 0, 21, 0]),
    ]),
    /runs past the end/,
  ],
]

for (const [what, attrs, message] of malformed) {
  test(`getFamily rejects ${what} with a GenericError`, async (t) => {
    const genl = openWithReply(t, controllerMessage(CTRL_CMD_NEWFAMILY, attrs))

    const err = await caught(() => genl.getFamily('ethtool'))

    t.true(err instanceof GenericError, String(err))
    t.is((err as GenericError).code, 'ERR_NETLINK_GENERIC')
    t.regex((err as Error).message, message)
  })

  test(`parseFamily throws for ${what}`, (t) => {
    const err = t.throws(() => parseFamily(attrs), {
      instanceOf: GenericError,
    })

    t.regex(err!.message, message)
  })
}

test('getFamily rejects a reply describing another family', async (t) => {
  const genl = openWithReply(
    t,
    controllerMessage(CTRL_CMD_NEWFAMILY, encodeFamily(WG)),
  )

  const err = await caught(() => genl.getFamily('ethtool'))

  t.true(err instanceof GenericError)
  t.regex((err as Error).message, /ethtool.*wireguard/)
})

test('a reply too short for the generic header is a GenericError', async (t) => {
  const genl = openWithReply(t, {
    header: { type: GENL_ID_CTRL },
    data: Buffer.from([3, 2]),
  })

  const err = await caught(() => genl.getFamily('ethtool'))

  t.true(err instanceof GenericError)
  t.regex((err as Error).message, /2 bytes is too short/)
})

test('a malformed listFamilies entry is a GenericError', async (t) => {
  const bad = new AttributeEncoder().uint16(CTRL_ATTR_FAMILY_ID, 40).encode()
  const genl = openWithReply(
    t,
    multipart([
      controllerMessage(CTRL_CMD_NEWFAMILY, encodeFamily(ETHTOOL)),
      controllerMessage(CTRL_CMD_NEWFAMILY, bad),
    ]) as never,
  )

  const err = await caught(() => genl.listFamilies())

  t.true(err instanceof GenericError)
  t.regex((err as Error).message, /family 40: .*no name/)
})

test('joinGroup joins the group by name and receive reads it', async (t) => {
  const { genl, notify } = open(t)
  const attrs = new AttributeEncoder().uint32(1, 7).encode()

  const group = await genl.joinGroup('ethtool', 'monitor')
  notify(group.id, {
    header: { type: ETHTOOL.id },
    data: encodeGeneric(39, 1, attrs),
  })
  const { value } = await genl.receive().next()

  t.deepEqual(group, { name: 'monitor', id: 6 })
  t.is(value!.group, 6)
  t.is(value!.command, 39)
  t.is(value!.version, 1)
  t.deepEqual(value!.data, attrs)
})

test('leaveGroup stops the group reaching receive', async (t) => {
  const two = family('thermal', 22, [
    { name: 'sampling', id: 8 },
    { name: 'event', id: 9 },
  ])
  const { genl, notify } = open(t, [NLCTRL, two])
  const message = (command: number) => ({
    header: { type: two.id },
    data: encodeGeneric(command, 1, Buffer.alloc(0)),
  })

  await genl.joinGroup('thermal', 'sampling')
  await genl.joinGroup('thermal', 'event')
  await genl.leaveGroup('thermal', 'sampling')
  notify(8, message(1))
  notify(9, message(2))
  const { value } = await genl.receive().next()

  t.is(value!.group, 9)
  t.is(value!.command, 2)
})

test('joinGroup of a missing group lists the family groups', async (t) => {
  const two = family('thermal', 22, [
    { name: 'sampling', id: 8 },
    { name: 'event', id: 9 },
  ])
  const { genl } = open(t, [NLCTRL, two])

  const err = await caught(() => genl.joinGroup('thermal', 'nosuch'))

  t.true(err instanceof NetlinkError)
  t.is((err as NetlinkError).code, 'ENOENT')
  t.is(
    (err as Error).message,
    'joinGroup ENOENT: family thermal has no multicast group nosuch;' +
      ' its groups: sampling, event',
  )
})

test('joinGroup of a family without groups says it has none', async (t) => {
  const { genl } = open(t, [NLCTRL, WG])

  const err = await caught(() => genl.joinGroup('wireguard', 'x'))

  t.regex((err as Error).message, /no multicast group x; it has none/)
})

test('receive decodes controller notifications into events', async (t) => {
  const { genl, notify } = open(t)
  await genl.joinGroup('nlctrl', 'notify')

  notify(NOTIFY, controllerMessage(CTRL_CMD_DELFAMILY, encodeFamily(ETHTOOL)))
  const { value } = await genl.receive().next()

  t.deepEqual(value!.event, { kind: 'deleteFamily', family: ETHTOOL })
})

test('decodeControllerEvent reads a group notification', (t) => {
  const attrs = new AttributeEncoder()
    .string(CTRL_ATTR_FAMILY_NAME, 'ethtool')
    .uint16(CTRL_ATTR_FAMILY_ID, 21)
    .nested(CTRL_ATTR_MCAST_GROUPS, (e) =>
      e.nested(1, (g) =>
        g
          .string(CTRL_ATTR_MCAST_GRP_NAME, 'monitor')
          .uint32(CTRL_ATTR_MCAST_GRP_ID, 6),
      ),
    )
    .encode()
  const message = decodeGeneric({
    header: { length: 0, type: GENL_ID_CTRL, flags: 0, sequence: 0, pid: 0 },
    data: encodeGeneric(CTRL_CMD_NEWMCAST_GRP, 2, attrs),
  })

  t.deepEqual(decodeControllerEvent(message), {
    kind: 'newGroup',
    family: { id: 21, name: 'ethtool' },
    group: { name: 'monitor', id: 6 },
  })
})

test('decodeControllerEvent ignores other families', (t) => {
  const message = decodeGeneric({
    header: { length: 0, type: 21, flags: 0, sequence: 0, pid: 0 },
    data: encodeGeneric(CTRL_CMD_DELFAMILY, 2, encodeFamily(ETHTOOL)),
  })

  t.is(decodeControllerEvent(message), undefined)
})

test('a DELFAMILY notification drops the family from the cache', async (t) => {
  const { genl, notify, requests } = open(t)
  await genl.getFamily('ethtool')
  await genl.joinGroup('nlctrl', 'notify')
  const before = asked(requests, CTRL_CMD_GETFAMILY)

  notify(NOTIFY, controllerMessage(CTRL_CMD_DELFAMILY, encodeFamily(ETHTOOL)))
  await genl.receive().next()
  await genl.getFamily('ethtool')

  t.is(asked(requests, CTRL_CMD_GETFAMILY), before + 1)
})

test('ENOENT for a cached family id drops it from the cache', async (t) => {
  const { genl, requests } = open(t, [NLCTRL, ETHTOOL], () =>
    errorReply('ENOENT'),
  )
  await genl.getFamily('ethtool')

  await caught(() => genl.execute('ethtool', { command: 1, version: 1 }))
  await caught(() => genl.execute('ethtool', { command: 1, version: 1 }))

  t.is(asked(requests, CTRL_CMD_GETFAMILY), 2)
})

/**
 * A fake whose controller, asked for WG before it exists, announces it
 * in a later turn, as a module loading would.
 */
function openLoading(t: ExecutionContext) {
  const families = [NLCTRL, ETHTOOL]
  let fake: ReturnType<typeof open> | undefined
  const controller = fakeController(families)
  const handler: Handler = (request) => {
    const reply = controller(request)
    const missing = !families.includes(WG)
    if (request.data[0] === CTRL_CMD_GETFAMILY && missing) {
      setImmediate(() => {
        families.push(WG)
        fake!.notify(
          NOTIFY,
          controllerMessage(CTRL_CMD_NEWFAMILY, encodeFamily(WG)),
        )
      })
    }
    return reply
  }
  const opened = dialFake(handler, { family: Family.GENERIC })
  const genl = new GenericConn(opened.conn)
  t.teardown(() => genl.close())
  fake = { ...opened, genl, families }
  return fake
}

test('waitForFamily resolves when the controller announces it', async (t) => {
  const { genl } = openLoading(t)

  const found = await genl.waitForFamily('wireguard')

  t.deepEqual(found, WG)
})

test('waitForFamily queues what it reads but the notify group', async (t) => {
  const { genl, notify } = openLoading(t)
  await genl.joinGroup('ethtool', 'monitor')
  notify(6, {
    header: { type: ETHTOOL.id },
    data: encodeGeneric(39, 1, Buffer.alloc(0)),
  })

  await genl.waitForFamily('wireguard')
  notify(NOTIFY, controllerMessage(CTRL_CMD_DELFAMILY, encodeFamily(WG)))
  notify(6, {
    header: { type: ETHTOOL.id },
    data: encodeGeneric(40, 1, Buffer.alloc(0)),
  })
  const it = genl.receive()
  const first = await it.next()
  const second = await it.next()

  t.deepEqual([first.value!.command, second.value!.command], [39, 40])
})

test('waitForFamily resolves at once for a family present', async (t) => {
  const { genl } = open(t)

  t.deepEqual(await genl.waitForFamily('ethtool'), ETHTOOL)
})

test('waitForFamily rejects with the reason of its signal', async (t) => {
  const { genl } = open(t)
  const ac = new AbortController()
  const reason = new Error('gave up')

  const waiting = genl.waitForFamily('wireguard', { signal: ac.signal })
  setImmediate(() => ac.abort(reason))

  t.is(await caught(() => waiting), reason)
})

test('waitForFamily rejects with EBADF when the Conn closes', async (t) => {
  const { genl, requests } = open(t)

  const waiting = genl.waitForFamily('wireguard')
  const closeOnceAsked = async () => {
    while (asked(requests, CTRL_CMD_GETFAMILY) < 2) {
      await new Promise((r) => setImmediate(r))
    }
    await genl.close()
  }
  void closeOnceAsked()

  t.is(((await caught(() => waiting)) as NetlinkError).code, 'EBADF')
})

test('waitForFamilyRemoval resolves when the family goes', async (t) => {
  const { genl, notify, requests } = open(t)

  const gone = genl.waitForFamilyRemoval('ethtool')
  while (asked(requests, CTRL_CMD_GETFAMILY) < 2) {
    await new Promise((r) => setImmediate(r))
  }
  notify(NOTIFY, controllerMessage(CTRL_CMD_DELFAMILY, encodeFamily(ETHTOOL)))

  t.is(await gone, undefined)
})

test('waitForFamilyRemoval resolves at once for a family absent', async (t) => {
  const { genl } = open(t)

  t.is(await genl.waitForFamilyRemoval('wireguard'), undefined)
})

/** A policy dump reply, as the kernel sends one for `ethtool`. */
function policyDump(): ReplyMessage[] {
  const op = new AttributeEncoder()
    .uint16(CTRL_ATTR_FAMILY_ID, 21)
    .nested(CTRL_ATTR_OP_POLICY, (e) =>
      e.nested(2, (n) =>
        n.uint32(CTRL_ATTR_POLICY_DO, 0).uint32(CTRL_ATTR_POLICY_DUMP, 1),
      ),
    )
    .encode()
  const entry = (
    policy: number,
    attribute: number,
    fill: (e: AttributeEncoder) => void,
  ) =>
    controllerMessage(
      CTRL_CMD_GETPOLICY,
      new AttributeEncoder()
        .uint16(CTRL_ATTR_FAMILY_ID, 21)
        .nested(CTRL_ATTR_POLICY, (p) =>
          p.nested(policy, (a) => a.nested(attribute, fill)),
        )
        .encode(),
    )
  return [
    controllerMessage(CTRL_CMD_GETPOLICY, op),
    entry(0, 1, (e) =>
      e
        .uint32(NL_POLICY_TYPE_ATTR_TYPE, NL_ATTR_TYPE_NESTED)
        .uint32(NL_POLICY_TYPE_ATTR_POLICY_IDX, 1)
        .uint32(NL_POLICY_TYPE_ATTR_POLICY_MAXTYPE, 3),
    ),
    entry(1, 2, (e) =>
      e
        .uint32(NL_POLICY_TYPE_ATTR_TYPE, NL_ATTR_TYPE_S16)
        .int64(NL_POLICY_TYPE_ATTR_MIN_VALUE_S, -5)
        .int64(NL_POLICY_TYPE_ATTR_MAX_VALUE_S, 5),
    ),
    entry(1, 1, (e) =>
      e
        .uint32(NL_POLICY_TYPE_ATTR_TYPE, NL_ATTR_TYPE_U8)
        .uint64(NL_POLICY_TYPE_ATTR_MIN_VALUE_U, 0)
        .uint64(NL_POLICY_TYPE_ATTR_MAX_VALUE_U, 3),
    ),
    entry(1, 3, (e) =>
      e
        .uint32(NL_POLICY_TYPE_ATTR_TYPE, NL_ATTR_TYPE_BITFIELD32)
        .uint32(NL_POLICY_TYPE_ATTR_BITFIELD32_MASK, 0x7),
    ),
    entry(1, 4, (e) => e.uint32(NL_POLICY_TYPE_ATTR_TYPE, 99)),
  ]
}

/** A fake that answers GETPOLICY with `reply` and the rest as nlctrl. */
function openPolicy(t: ExecutionContext, reply: ReplyMessage[]) {
  const controller = fakeController([NLCTRL, ETHTOOL])
  const fake = dialFake(
    (request) =>
      request.header.type === GENL_ID_CTRL &&
      request.data[0] === CTRL_CMD_GETPOLICY
        ? multipart(reply as never)
        : controller(request),
    { family: Family.GENERIC },
  )
  const genl = new GenericConn(fake.conn)
  t.teardown(() => genl.close())
  return { genl, requests: fake.requests }
}

test('getPolicy puts a policy dump together', async (t) => {
  const { genl } = openPolicy(t, policyDump())

  const policy = await genl.getPolicy('ethtool', 2)

  t.deepEqual(policy.operations, [{ command: 2, do: 0, dump: 1 }])
  t.deepEqual(
    policy.policies.map((p) => [
      p.index,
      p.attributes.map((a) => a.description),
    ]),
    [
      [0, ['nested, policy 1 (attributes up to 3)']],
      [
        1,
        [
          'u8, 0..3',
          's16, -5..5',
          'bitfield32, selectable bits 0x7',
          'type 99',
        ],
      ],
    ],
  )
  const s16 = policy.policies[1]!.attributes[1]!
  t.is(s16.minValue, -5n)
  t.is(s16.maxValue, 5n)
})

test('getPolicy asks for the family by id and the one command', async (t) => {
  const { genl, requests } = openPolicy(t, policyDump())

  await genl.getPolicy('ethtool', 2)

  const sent = requests.find((r) => r.data[0] === CTRL_CMD_GETPOLICY)!
  t.true((sent.header.flags & HeaderFlags.Dump) === HeaderFlags.Dump)
  t.deepEqual(
    sent.data.subarray(4),
    new AttributeEncoder().uint16(1, 21).uint32(10, 2).encode(),
  )
})

test('formatPolicy prints commands then policies', async (t) => {
  const { genl } = openPolicy(t, policyDump())

  const text = formatPolicy(await genl.getPolicy('ethtool'))

  t.is(
    text,
    [
      'command 2: do: policy 0, dump: policy 1',
      'policy 0:',
      '  attribute 1: nested, policy 1 (attributes up to 3)',
      'policy 1:',
      '  attribute 1: u8, 0..3',
      '  attribute 2: s16, -5..5',
      '  attribute 3: bitfield32, selectable bits 0x7',
      '  attribute 4: type 99',
    ].join('\n'),
  )
})

test('a policy entry without its type is a GenericError', async (t) => {
  const bad = controllerMessage(
    CTRL_CMD_GETPOLICY,
    new AttributeEncoder()
      .nested(CTRL_ATTR_POLICY, (p) =>
        p.nested(0, (a) =>
          a.nested(1, (e) => e.uint64(NL_POLICY_TYPE_ATTR_MAX_VALUE_U, 3)),
        ),
      )
      .encode(),
  )
  const { genl } = openPolicy(t, [bad])

  const err = await caught(() => genl.getPolicy('ethtool'))

  t.true(err instanceof GenericError)
  t.regex((err as Error).message, /attribute 1 has no type/)
})

test('fakeController answers an unknown family id with ENOENT', async (t) => {
  const { genl } = open(t)

  const err = await caught(() => genl.execute(500, { command: 1, version: 1 }))

  t.is((err as NetlinkError).code, 'ENOENT')
})

test('a notification too short for a generic header throws from next', async (t) => {
  const { genl, notify } = open(t)
  await genl.joinGroup('ethtool', 'monitor')
  const it = genl.receive()

  notify(6, { header: { type: ETHTOOL.id }, data: Buffer.from([1]) })
  notify(6, {
    header: { type: ETHTOOL.id },
    data: encodeGeneric(39, 1, Buffer.alloc(0)),
  })
  const err = await caught(() => it.next())
  const { value } = await it.next()

  t.true(err instanceof GenericError)
  t.regex((err as Error).message, /1 bytes is too short/)
  t.is(value!.command, 39)
})

test('receive rejects with its signal reason, then reads on', async (t) => {
  const { genl, notify } = open(t)
  await genl.joinGroup('ethtool', 'monitor')
  const ac = new AbortController()
  const reason = new Error('stop')

  const waiting = genl.receive({ signal: ac.signal }).next()
  ac.abort(reason)
  const aborted = await caught(() => waiting)
  notify(6, {
    header: { type: ETHTOOL.id },
    data: encodeGeneric(41, 1, Buffer.alloc(0)),
  })
  const { value } = await genl.receive().next()

  t.is(aborted, reason)
  t.is(value!.command, 41)
})

test('receive throws EBADF once the Conn is closed', async (t) => {
  const { genl } = open(t)
  const waiting = genl.receive().next()

  await genl.close()

  t.is(((await caught(() => waiting)) as NetlinkError).code, 'EBADF')
  const later = await caught(() => genl.receive().next())
  t.is((later as NetlinkError).code, 'EBADF')
})

test('execute rejects with EBADF once the Conn is closed', async (t) => {
  const { genl } = open(t)
  await genl.close()

  const err = await caught(() => genl.execute(20, { command: 1, version: 1 }))

  t.is((err as NetlinkError).code, 'EBADF')
})

test('send resolves with the message as sent', async (t) => {
  const { genl, requests } = open(t, [NLCTRL, ETHTOOL], () => null)

  const sent = await genl.send('ethtool', { command: 3, version: 1 })

  t.is(sent.command, 3)
  t.is(sent.header.type, ETHTOOL.id)
  t.is(sent.header.sequence, requests.at(-1)!.header.sequence)
})

test('a malformed notification does not stop waitForFamily', async (t) => {
  const { genl, notify, requests } = open(t)
  const bad = new AttributeEncoder().uint16(CTRL_ATTR_FAMILY_ID, 30).encode()

  const waiting = genl.waitForFamily('wireguard')
  while (asked(requests, CTRL_CMD_GETFAMILY) < 2) {
    await new Promise((r) => setImmediate(r))
  }
  notify(NOTIFY, controllerMessage(CTRL_CMD_NEWFAMILY, bad))
  notify(NOTIFY, controllerMessage(CTRL_CMD_NEWFAMILY, encodeFamily(WG)))

  t.deepEqual(await waiting, WG)
})

test('one caller giving up does not fail a shared lookup', async (t) => {
  const { genl, requests } = open(t)
  const ac = new AbortController()
  const reason = new Error('no longer needed')

  const patient = genl.getFamily('ethtool')
  const hasty = genl.getFamily('ethtool', { signal: ac.signal })
  ac.abort(reason)

  t.is(await caught(() => hasty), reason)
  t.deepEqual(await patient, ETHTOOL)
  t.is(asked(requests, CTRL_CMD_GETFAMILY), 1)
})

test('dialGeneric wraps an open Conn it is given', async (t) => {
  const { conn } = dialFake(fakeController([NLCTRL, ETHTOOL]), {
    family: Family.GENERIC,
  })

  const genl = dialGeneric(conn)
  t.teardown(() => genl.close())

  t.is(genl.conn, conn)
  t.deepEqual(await genl.getFamily('ethtool'), ETHTOOL)
})

test('a controller reply to send is not taken for an event', async (t) => {
  const { genl } = open(t)

  await genl.send('nlctrl', {
    command: CTRL_CMD_GETFAMILY,
    version: 2,
    data: new AttributeEncoder()
      .string(CTRL_ATTR_FAMILY_NAME, 'ethtool')
      .encode(),
  })
  const { value } = await genl.receive().next()

  t.is(value!.command, CTRL_CMD_NEWFAMILY)
  t.deepEqual(parseFamily(value!.data), ETHTOOL)
  t.is(value!.event, undefined)
})

test('callers sharing a failed lookup each get their own operation', async (t) => {
  const { genl } = open(t)

  const [lookup, join] = await Promise.all([
    caught(() => genl.getFamily('wireguard')),
    caught(() => genl.joinGroup('wireguard', 'x')),
  ])

  t.is((lookup as NetlinkError).op, 'getFamily')
  t.is((join as NetlinkError).op, 'joinGroup')
  t.regex((join as Error).message, /no generic netlink family named wireguard/)
})

test('getPolicy of a family without policies rejects with ENODATA', async (t) => {
  const controller = fakeController([NLCTRL, WG])
  const fake = dialFake(
    (request) =>
      request.data[0] === CTRL_CMD_GETPOLICY
        ? errorReply('ENODATA')
        : controller(request),
    { family: Family.GENERIC },
  )
  const genl = dialGeneric(fake.conn)
  t.teardown(() => genl.close())

  const err = await caught(() => genl.getPolicy('wireguard'))

  t.is((err as NetlinkError).code, 'ENODATA')
  t.is(
    (err as Error).message,
    'getPolicy ENODATA: family wireguard has no attribute policy',
  )
})

test('messages past maxQueuedBytes are dropped with an ENOBUFS mark', async (t) => {
  const families = [NLCTRL, ETHTOOL]
  const fake = dialFake(fakeController(families), { family: Family.GENERIC })
  const genl = new GenericConn(fake.conn, { maxQueuedBytes: 400 })
  t.teardown(() => genl.close())
  await genl.joinGroup('ethtool', 'monitor')
  const monitor = (command: number) => ({
    header: { type: ETHTOOL.id },
    data: encodeGeneric(command, 1, Buffer.alloc(64)),
  })

  // The wait reads on while nobody calls receive(), so its queue fills.
  // It asks for nlctrl, joins its notify group, then asks for wireguard.
  const waiting = genl.waitForFamily('wireguard')
  while (asked(fake.requests, CTRL_CMD_GETFAMILY) < 3) {
    await new Promise((r) => setImmediate(r))
  }
  for (let command = 1; command <= 5; command++) {
    fake.notify(6, monitor(command))
  }
  families.push(WG)
  fake.notify(NOTIFY, controllerMessage(CTRL_CMD_NEWFAMILY, encodeFamily(WG)))
  await waiting

  const it = genl.receive()
  const seen: Array<number | string> = []
  for (let i = 0; i < 3; i++) {
    try {
      seen.push((await it.next()).value!.command)
    } catch (err) {
      seen.push((err as NetlinkError).code)
    }
  }
  t.deepEqual(seen, [1, 2, 'ENOBUFS'])
})
