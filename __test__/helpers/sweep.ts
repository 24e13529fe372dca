/**
 * A sweep of bad arguments over the public API: every function and
 * method exported by the package's index is called with each argument in
 * turn replaced by values of the wrong type, out-of-range numbers, huge
 * sizes, detached and shared buffers. Run in a child process (inside a
 * namespace, for the Conn methods), so that a crash shows as a failure
 * of the test that started it.
 */
import { Buffer } from 'node:buffer'
import type * as Package from '../../index'

/**
 * What a parameter takes; anything else is a bad value for it. `sint`
 * and `swide` are signed, `wide` takes bigints too, `bytes` takes any
 * Uint8Array and `limited` one of bounded size.
 */
export type Kind =
  | 'int'
  | 'sint'
  | 'wide'
  | 'swide'
  | 'bytes'
  | 'limited'
  | 'bool'
  | 'string'
  | 'object'
  | 'array'
  | 'function'
  | 'message'

/** One parameter: what it takes, whether it may be left out, its name. */
export interface Param {
  kind: Kind
  optional?: boolean
  /** Words of which an error about this parameter names at least one. */
  names: string[]
}

/** One function or method to sweep. */
export interface Target {
  name: string
  params: Param[]
  /** Arguments that work, one per parameter. */
  valid: unknown[]
  /**
   * Calls the target with `args`; may return a promise. Whatever it
   * starts should end when `signal` aborts.
   */
  call(args: unknown[], signal: AbortSignal): unknown
}

/** What one call with one bad argument did, when it did wrong. */
export interface Finding {
  target: string
  /** Which argument was bad, and the bad value described. */
  param: number
  value: string
  /** 'accepted': returned normally; 'unnamed': an error that names no
   *  parameter; 'foreign': an error other than the library's own. */
  outcome: 'accepted' | 'unnamed' | 'foreign'
  error?: string
}

/** The result of a sweep. */
export interface SweepReport {
  calls: number
  findings: Finding[]
  /** Exported functions and classes no target covers. */
  uncovered: string[]
}

interface Bad {
  label: string
  make(): unknown
  /** The kinds this value is valid for (so not swept for them). */
  fits: Kind[]
}

/** A view whose buffer was transferred away: length 0, unusable. */
function detached(): Uint8Array {
  const view = new Uint8Array(new ArrayBuffer(64))
  structuredClone(view.buffer, { transfer: [view.buffer] })
  return view
}

const BAD: Bad[] = [
  { label: 'undefined', make: () => undefined, fits: [] },
  { label: 'null', make: () => null, fits: [] },
  { label: 'true', make: () => true, fits: ['bool'] },
  { label: "'1'", make: () => '1', fits: ['string'] },
  { label: '{}', make: () => ({}), fits: ['object', 'message'] },
  { label: '[]', make: () => [], fits: ['array'] },
  { label: 'a function', make: () => () => {}, fits: ['function'] },
  { label: 'a symbol', make: () => Symbol('bad'), fits: [] },
  { label: '1n', make: () => 1n, fits: ['wide', 'swide'] },
  { label: '-1', make: () => -1, fits: ['sint', 'swide'] },
  { label: '1.5', make: () => 1.5, fits: [] },
  { label: 'NaN', make: () => NaN, fits: [] },
  { label: 'Infinity', make: () => Infinity, fits: [] },
  { label: '2 ** 32', make: () => 2 ** 32, fits: ['wide', 'swide'] },
  { label: '2 ** 53', make: () => 2 ** 53, fits: [] },
  { label: '-(2 ** 64)n', make: () => -(2n ** 64n), fits: [] },
  // Both are Uint8Arrays: bytes as good as any, the one empty.
  { label: 'a detached view', make: detached, fits: ['bytes', 'limited'] },
  {
    label: 'a view of a SharedArrayBuffer',
    make: () => new Uint8Array(new SharedArrayBuffer(64)),
    fits: ['bytes', 'limited'],
  },
  { label: 'an ArrayBuffer', make: () => new ArrayBuffer(16), fits: [] },
  {
    label: 'a 65 MiB buffer',
    make: () => Buffer.alloc((64 << 20) + 1),
    fits: ['bytes'],
  },
]

/** Errors the library throws on purpose besides TypeError/RangeError. */
const OWN_ERRORS = ['NetlinkError', 'AttributeError', 'MessageError']

const ARG_CODES = [
  'ERR_INVALID_ARG_TYPE',
  'ERR_OUT_OF_RANGE',
  'ERR_INVALID_ARG_VALUE',
]

function describe(value: unknown): string {
  try {
    return String(value).slice(0, 40)
  } catch {
    return typeof value
  }
}

/**
 * Calls every target with every bad value in every position and returns
 * what went wrong. A bad value that `fits` a parameter's kind is skipped
 * for it, and `undefined` for optional parameters.
 */
export async function sweep(
  targets: Target[],
  exported: string[],
): Promise<SweepReport> {
  const findings: Finding[] = []
  let calls = 0

  for (const target of targets) {
    for (let i = 0; i < target.params.length; i++) {
      const param = target.params[i]
      for (const bad of BAD) {
        if (bad.fits.includes(param.kind)) continue
        if (bad.label === 'undefined' && param.optional) continue

        const args = [...target.valid]
        args[i] = bad.make()
        calls++
        const finding = await judge(target, args, param)
        if (finding !== undefined) {
          findings.push({
            target: target.name,
            param: i,
            value: bad.label,
            ...finding,
          })
        }
      }
    }
  }

  const covered = new Set(targets.map((t) => t.name.split(/[.#(]/)[0]))
  const uncovered = exported.filter((name) => !covered.has(name))
  return { calls, findings, uncovered }
}

async function judge(
  target: Target,
  args: unknown[],
  param: Param,
): Promise<Pick<Finding, 'outcome' | 'error'> | undefined> {
  const abort = new AbortController()
  let error: unknown
  try {
    // Arguments are checked before anything is sent: what is still
    // pending after a turn of the event loop was accepted.
    const result = Promise.resolve(target.call(args, abort.signal))
    const turned = new Promise((done) => setImmediate(done, ACCEPTED))
    if ((await Promise.race([result, turned])) === ACCEPTED) {
      result.catch(() => {})
    }
    return { outcome: 'accepted' }
  } catch (err) {
    error = err
  } finally {
    abort.abort()
  }

  const e = error as { name?: string; code?: string; message?: string }
  const text = `${e?.name}: ${e?.message} (${e?.code})`
  if (error instanceof TypeError || error instanceof RangeError) {
    if (!ARG_CODES.includes(String(e.code))) {
      return { outcome: 'foreign', error: text }
    }
    const message = String(e.message)
    const named = param.names.some((n) => message.includes(n))
    return named ? undefined : { outcome: 'unnamed', error: text }
  }
  if (OWN_ERRORS.includes(String(e?.name))) return undefined
  return { outcome: 'foreign', error: text }
}

const ACCEPTED = Symbol('accepted')

/** A message the kernel answers harmlessly: the link with index 1. */
function lo(nl: typeof Package) {
  const data = Buffer.alloc(16)
  data.writeInt32LE(1, 4)
  const flags = nl.HeaderFlags.Request
  return { header: { type: 18, flags, sequence: 0, pid: 0 }, data }
}

/**
 * The targets: each exported function, constructor and method, with
 * arguments that work. `conn` is an open Conn the methods are called on.
 */
export function targets(nl: typeof Package, conn: Package.Conn): Target[] {
  const int = (...names: string[]): Param => ({ kind: 'int', names })
  const opt = (kind: Kind, ...names: string[]): Param => ({
    kind,
    optional: true,
    names,
  })
  const encoded = new nl.AttributeEncoder().uint32(1, 7).encode()
  const list: Target[] = []

  // The attribute encoder: every writer takes a type and a value, and
  // reports a bad one from encode().
  const writers: [string, Kind, unknown][] = [
    ['uint8', 'int', 1],
    ['uint16', 'int', 1],
    ['uint32', 'int', 1],
    ['uint64', 'wide', 1n],
    ['int8', 'sint', 1],
    ['int16', 'sint', 1],
    ['int32', 'sint', 1],
    ['int64', 'swide', 1n],
    ['uint', 'wide', 1n],
    ['sint', 'swide', 1n],
    ['string', 'string', 'x'],
    ['bytes', 'limited', Buffer.from([1])],
    ['flag', 'bool', true],
    ['nested', 'function', () => {}],
    ['do', 'function', () => Buffer.from([1])],
  ]
  for (const [method, kind, value] of writers) {
    list.push({
      name: `AttributeEncoder#${method}`,
      params: [
        int('type'),
        { kind, names: ['value', method, 'fn', 'data', 'on'] },
      ],
      valid: [1, value],
      call: (args) => {
        const e = new nl.AttributeEncoder() as unknown as Record<
          string,
          (...a: unknown[]) => unknown
        >
        e[method](...args)
        return (e as unknown as Package.AttributeEncoder).encode()
      },
    })
  }
  list.push({
    name: 'AttributeEncoder(options)',
    params: [opt('object', 'options')],
    valid: [{}],
    call: (args) => new nl.AttributeEncoder(args[0] as never),
  })
  list.push({
    name: 'AttributeDecoder(buf, options)',
    params: [{ kind: 'bytes', names: ['buf'] }, opt('object', 'options')],
    valid: [encoded, {}],
    call: (args) => new nl.AttributeDecoder(args[0] as never, args[1] as never),
  })
  for (const method of ['nested', 'do']) {
    list.push({
      name: `AttributeDecoder#${method}`,
      params: [{ kind: 'function', names: ['fn'] }],
      valid: [() => {}],
      call: (args) => {
        const d = new nl.AttributeDecoder(encoded)
        d.next()
        ;(d as unknown as Record<string, (f: unknown) => void>)[method](args[0])
      },
    })
  }
  list.push(
    {
      name: 'marshalAttributes',
      params: [{ kind: 'array', names: ['attrs'] }],
      valid: [[{ type: 1, data: Buffer.from([1]) }]],
      call: (args) => nl.marshalAttributes(args[0] as never),
    },
    {
      name: 'unmarshalAttributes',
      params: [{ kind: 'bytes', names: ['buf'] }],
      valid: [encoded],
      call: (args) => nl.unmarshalAttributes(args[0] as never),
    },
    {
      name: 'marshalMessage',
      params: [{ kind: 'message', names: ['message', 'header'] }],
      valid: [lo(nl)],
      call: (args) => nl.marshalMessage(args[0] as never),
    },
    {
      name: 'parseMessages',
      params: [{ kind: 'bytes', names: ['buf'] }],
      valid: [nl.marshalMessage(lo(nl))],
      call: (args) => nl.parseMessages(args[0] as never),
    },
    {
      name: 'formatFlags',
      params: [int('flags'), opt('int', 'type')],
      valid: [1, 16],
      call: (args) => nl.formatFlags(args[0] as never, args[1] as never),
    },
    {
      name: 'formatMessage',
      params: [{ kind: 'message', names: ['message', 'header', 'm'] }],
      valid: [{ ...lo(nl), header: { ...lo(nl).header, length: 32 } }],
      call: (args) => nl.formatMessage(args[0] as never),
    },
    {
      name: 'formatAttributes',
      params: [{ kind: 'bytes', names: ['buf'] }, opt('int', 'indent')],
      valid: [encoded, 0],
      call: (args) => nl.formatAttributes(args[0] as never, args[1] as never),
    },
    {
      name: 'align',
      params: [int('n')],
      valid: [5],
      call: (args) => nl.align(args[0] as never),
    },
    {
      name: 'NetlinkError(op, errno, options)',
      params: [
        { kind: 'string', names: ['op'] },
        int('errno'),
        opt('object', 'options'),
      ],
      valid: ['op', 1, {}],
      call: ([op, errno, options]) =>
        new nl.NetlinkError(op as never, errno as never, options as never),
    },
    {
      name: 'dial',
      params: [int('family'), opt('object', 'config')],
      valid: [nl.Family.ROUTE, {}],
      call: (args) => nl.dial(args[0] as never, args[1] as never).close(),
    },
  )

  // Conn methods, on one open Conn; each valid call is harmless.
  const method = (name: string, params: Param[], valid: unknown[]): Target => ({
    name: `Conn#${name}`,
    params,
    valid,
    call: (args) =>
      (conn as unknown as Record<string, (...a: unknown[]) => unknown>)[name](
        ...args,
      ),
  })
  list.push(
    {
      name: 'Conn#execute',
      params: [
        { kind: 'message', names: ['message'] },
        opt('object', 'options'),
      ],
      valid: [lo(nl), undefined],
      call: (args, signal) =>
        conn.execute(
          args[0] as never,
          args[1] === undefined ? { signal } : (args[1] as never),
        ),
    },
    method('send', [{ kind: 'message', names: ['message'] }], [lo(nl)]),
    {
      name: 'Conn#send(message.data)',
      params: [opt('limited', 'message.data')],
      valid: [lo(nl).data],
      call: (args) => conn.send({ ...lo(nl), data: args[0] as never }),
    },
    {
      name: 'Conn#execute(message.header.type)',
      params: [opt('int', 'message.header.type')],
      valid: [18],
      call: (args, signal) =>
        conn.execute(
          { ...lo(nl), header: { type: args[0] as never } },
          { signal },
        ),
    },
    method(
      'sendMessages',
      [{ kind: 'array', names: ['messages'] }],
      [[lo(nl)]],
    ),
    {
      name: 'Conn#receive',
      params: [opt('object', 'options')],
      valid: [{}],
      call: (args) => conn.receive(args[0] as never).return?.(),
    },
    method('joinGroup', [int('group')], [1]),
    method('leaveGroup', [int('group')], [1]),
    method(
      'setOption',
      [int('option'), { kind: 'bool', names: ['enabled'] }],
      [nl.ConnOption.ExtendedAcknowledge, true],
    ),
    method(
      'setBPF',
      [{ kind: 'array', names: ['program'] }],
      [[{ code: 6, jt: 0, jf: 0, k: 0xffff }]],
    ),
    method('setReadBuffer', [int('bytes')], [1 << 16]),
    method('setWriteBuffer', [int('bytes')], [1 << 16]),
  )
  return list
}
