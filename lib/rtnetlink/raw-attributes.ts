/**
 * The `attributes` field of a typed object, decoded on first read: the
 * attributes its decoder does not model, each with a copy of its bytes.
 * A dump makes thousands of objects and most callers never look at these
 * (a veth carries twenty of them), so the copies are made for the
 * objects whose field is read, when it is read.
 *
 * The object stays plain data: `attributes` is an own enumerable
 * property, which spread, `Object.keys`, `JSON.stringify`,
 * `structuredClone`, `postMessage` and deep-equality checks read like
 * any other, and the first read turns it into an ordinary data property.
 * Until then `util.inspect` shows it as `[Getter/Setter]` and
 * `Object.getOwnPropertyDescriptor` as an accessor.
 */
import { AttributeCursor } from './cursor'
import type { RawAttribute } from './request'

/** Makes a subclass's constructor add its private fields to `target`. */
class Stamp {
  constructor(target: object) {
    return target as Stamp
  }
}

/**
 * What a deferred field needs to decode, kept in private fields of the
 * object itself: nothing else can see them (not `Reflect.ownKeys`, not
 * structured clone), and V8 keeps them as fast as ordinary properties,
 * where a WeakMap entry per object costs several times more.
 */
class Pending extends Stamp {
  #bytes: Buffer | undefined
  #start: number
  #modelled: Uint8Array
  #value: RawAttribute[] | undefined = undefined

  constructor(
    target: object,
    bytes: Buffer,
    start: number,
    modelled: Uint8Array,
  ) {
    super(target)
    this.#bytes = bytes
    this.#start = start
    this.#modelled = modelled
  }

  /** The object, `o` or one of its prototypes, that holds the bytes. */
  static ownerOf(o: object): object {
    for (let p: object | null = o; p !== null; p = Object.getPrototypeOf(p)) {
      if (#modelled in p) return p
    }
    throw new TypeError('attributes belongs to no decoded object')
  }

  /** The attributes of `owner`, decoded at the first call. */
  static decoded(owner: object): RawAttribute[] {
    const pending = owner as Pending
    if (pending.#value !== undefined) return pending.#value

    const value = decode(pending.#bytes!, pending.#start, pending.#modelled)
    pending.#value = value
    pending.#bytes = undefined
    return value
  }

  /** Lets go of the bytes of `o`, whose field was given a value. */
  static release(o: object): void {
    if (#modelled in o) (o as Pending).#bytes = undefined
  }
}

/** The accessor every deferred `attributes` field shares. */
const DEFERRED: PropertyDescriptor = {
  get(this: object): RawAttribute[] {
    const owner = Pending.ownerOf(this)
    const value = Pending.decoded(owner)
    // A frozen object keeps the accessor, which returns the same array.
    Reflect.defineProperty(owner, 'attributes', dataProperty(value))
    return value
  },
  set(this: object, value: unknown): void {
    if (!Reflect.defineProperty(this, 'attributes', dataProperty(value))) {
      throw new TypeError("cannot assign to read only property 'attributes'")
    }
    Pending.release(this)
  },
  enumerable: true,
  configurable: true,
}

function dataProperty(value: unknown): PropertyDescriptor {
  return { value, writable: true, enumerable: true, configurable: true }
}

/**
 * Gives `target` its `attributes` field: the attributes of `bytes` from
 * `start` to its end whose type (flags masked off) is not marked in
 * `modelled`, decoded when the field is first read. The attributes must
 * already have been walked without error, and `bytes` must not change
 * while the field is unread; it is let go of once read or assigned.
 */
export function deferAttributes(
  target: object,
  bytes: Buffer,
  start: number,
  modelled: Uint8Array,
): void {
  Object.defineProperty(target, 'attributes', DEFERRED)
  new Pending(target, bytes, start, modelled)
}

function decode(
  bytes: Buffer,
  start: number,
  modelled: Uint8Array,
): RawAttribute[] {
  const isRaw = (c: AttributeCursor) => {
    const type = c.type
    return type >= modelled.length || modelled[type] !== 1
  }

  // The copies share one buffer of their own, not Node's pool: the pool
  // is shared, and a structured clone that reads this field copies each
  // buffer once, so a copy written to the pool after the clone took that
  // buffer would be missing from the clone.
  let size = 0
  const sizing = new AttributeCursor(bytes, start, bytes.length)
  while (sizing.next()) if (isRaw(sizing)) size += sizing.end - sizing.start
  const copies = Buffer.allocUnsafeSlow(size)

  const attributes: RawAttribute[] = []
  const c = new AttributeCursor(bytes, start, bytes.length)
  let at = 0
  while (c.next()) {
    if (!isRaw(c)) continue
    const end = at + bytes.copy(copies, at, c.start, c.end)
    attributes.push({ type: c.rawType, data: copies.subarray(at, end) })
    at = end
  }
  return attributes
}
