import { constants } from 'node:os'

import { AttributeEncoder } from '../attribute'
import { Conn, dial, type Config } from '../conn'
import { Family, HeaderFlags } from '../constants'
import { NetlinkError } from '../errors'
import * as check from '../validate'
import { checkFamily, checkName, checkRequest, checkWait } from './args'
import {
  CTRL_ATTR_FAMILY_ID,
  CTRL_ATTR_FAMILY_NAME,
  CTRL_ATTR_OP,
  CTRL_CMD_GETFAMILY,
  CTRL_CMD_GETPOLICY,
  GENL_CTRL_NAME,
  GENL_CTRL_NOTIFY_GROUP,
  GENL_CTRL_VERSION,
  GENL_ID_CTRL,
} from './constants'
import { GenericError } from './errors'
import type { ControllerEvent } from './events'
import { parseFamily, type GenericFamily, type GenericGroup } from './family'
import { decodeGeneric, encodeGeneric, type GenericMessage } from './header'
import { parsePolicy, type GenericPolicy } from './policy'
import {
  GenericStream,
  type GenericReceivedMessage,
  type Watcher,
} from './stream'

/** A request to a generic netlink family. */
export interface GenericRequest {
  /** The family's command, 0 to 255 (`genlmsghdr.cmd`). */
  command: number
  /** The family's protocol version, 0 to 255 (`genlmsghdr.version`). */
  version: number
  /** `HeaderFlags` bits; `Request` is always added. */
  flags?: number
  /** What follows the generic header: attributes, or a family header. */
  data?: Uint8Array
}

/** Options of `new GenericConn`. */
export interface GenericOptions {
  /**
   * Bytes `receive()` may hold while nobody reads; past it messages are
   * dropped and an `ENOBUFS` error marks the gap. Default 16 MiB.
   */
  maxQueuedBytes?: number
}

/** A family given by name (`'ethtool'`) or by id. */
export type FamilyRef = string | number

/** Options of the methods that wait for the kernel. */
export interface WaitOptions {
  signal?: AbortSignal
}

const ERRNO = constants.errno

/**
 * Opens a generic netlink socket (`NETLINK_GENERIC`) with `config`, as
 * `dial` does (namespace included), and returns a `GenericConn` over it.
 * Given an open `Conn` instead (a fake one from `dialFake`, say), wraps
 * that, as `new GenericConn(conn)` does. Synchronous; throws a
 * `NetlinkError` when the kernel refuses and a `TypeError` or
 * `RangeError` for bad arguments.
 */
export function dialGeneric(config: Config | Conn = {}): GenericConn {
  if (config instanceof Conn) return new GenericConn(config)
  const given = check.optionalObject('config', config)
  const limit = given.maxQueuedBytes
  const conn = dial(Family.GENERIC, config)
  try {
    return new GenericConn(conn, { maxQueuedBytes: limit as number })
  } catch (err) {
    void conn.close()
    throw err
  }
}

/**
 * A generic netlink connection: requests in terms of the 4-byte generic
 * header, families and multicast groups by name, policies, and the
 * controller's notifications. It stands on a core `Conn` of protocol
 * `NETLINK_GENERIC`, from `dialGeneric` or any other (a fake one from
 * `dialFake` included), and takes it over: read it through this object
 * only, and `close()` here closes it.
 *
 * For the thread that made it, like its `Conn`. Families resolved by
 * name are cached until the controller says they changed (seen while
 * this Conn reads its `notify` group) or a request with the cached id
 * fails with `ENOENT`; concurrent lookups of one name share a request.
 */
export class GenericConn {
  /** The core Conn underneath, for options, buffers, `ref`/`unref`. */
  readonly conn: Conn

  #stream: GenericStream
  #byName = new Map<string, GenericFamily>()
  #byId = new Map<number, GenericFamily>()
  #lookups = new Map<string, Promise<GenericFamily>>()
  /** Groups joined through `joinGroup`, by id. */
  #joined = new Set<number>()
  /** How many waiters need the controller's `notify` group. */
  #notifyHolds = 0
  #notifyGroup: number | undefined

  /**
   * Wraps `conn`, an open Conn of protocol `NETLINK_GENERIC`. Throws a
   * TypeError for anything else.
   */
  constructor(conn: Conn, options: GenericOptions = {}) {
    if (!(conn instanceof Conn)) {
      throw check.typeError(`conn must be a Conn, got ${check.describe(conn)}`)
    }
    const given = check.optionalObject('options', options)
    check.knownKeys('options', given, ['maxQueuedBytes'])
    const limit = check.optionalInteger(
      'options.maxQueuedBytes',
      given.maxQueuedBytes,
      0,
      Number.MAX_SAFE_INTEGER,
      16 << 20,
    )

    this.conn = conn
    this.#stream = new GenericStream(conn, limit, {
      onEvent: (event) => this.#onEvent(event),
      keep: (m) => this.#wanted(m.group),
    })
  }

  /** The bound port ID. */
  get pid(): number {
    return this.conn.pid
  }

  /**
   * Sends `request` to `family` and resolves with the replies, generic
   * headers read, as `Conn.execute` does (a dump's messages, or what came
   * before the acknowledgement, or the one reply). A family given by name
   * is resolved first, once per Conn. Rejects with the kernel's
   * `NetlinkError`, `ENOENT` for an unknown family, and a `GenericError`
   * for a reply too short for the generic header.
   */
  execute(
    family: FamilyRef,
    request: GenericRequest,
    options: WaitOptions = {},
  ): Promise<GenericMessage[]> {
    checkFamily(family)
    const r = checkRequest(request)
    const signal = checkWait(options)
    return this.#execute(family, r, signal)
  }

  /**
   * Sends `request` to `family` without waiting for a reply and resolves
   * with the message as sent (its sequence filled in); replies go to
   * `receive()`. A family given by name is resolved first.
   */
  send(family: FamilyRef, request: GenericRequest): Promise<GenericMessage> {
    checkFamily(family)
    const r = checkRequest(request)
    return this.#send(family, r)
  }

  /**
   * Yields what is not a reply to an `execute`, generic headers read:
   * notifications of the groups joined, replies to `send`. Controller
   * notifications carry their decoded `event`. An overrun, or a message
   * too short for a generic header, throws from `next()` (a
   * `NetlinkError` `ENOBUFS`, a `GenericError`); reading can go on.
   * Several iterators share one stream. Throws `EBADF` once closed.
   */
  receive(
    options: WaitOptions = {},
  ): AsyncIterableIterator<GenericReceivedMessage> {
    const signal = checkWait(options)
    let done = false

    const iterator: AsyncIterableIterator<GenericReceivedMessage> = {
      next: async () => {
        if (done) return { done: true, value: undefined }
        const item = await this.#stream.take(signal)
        if (item instanceof Error) throw item
        return { done: false, value: item }
      },
      return: async () => {
        done = true
        return { done: true, value: undefined }
      },
      [Symbol.asyncIterator]() {
        return iterator
      },
    }
    return iterator
  }

  /**
   * Resolves with the family named `name` (`CTRL_CMD_GETFAMILY`), from
   * the cache when it is there. Rejects with a `NetlinkError` of code
   * `ENOENT` naming the family when the kernel has none of that name
   * (its module is not loaded), and a `GenericError` when the
   * controller's reply is malformed.
   */
  getFamily(name: string, options: WaitOptions = {}): Promise<GenericFamily> {
    checkName('name', name)
    const signal = checkWait(options)
    return this.#family(name, 'getFamily', signal)
  }

  /**
   * Resolves with every family the kernel has in this Conn's namespace,
   * in the controller's order (by id), and refreshes the cache with them.
   */
  listFamilies(options: WaitOptions = {}): Promise<GenericFamily[]> {
    const signal = checkWait(options)
    return this.#listFamilies(signal)
  }

  /**
   * Joins the multicast group `group` of `family` by name and resolves
   * with it. Rejects with `ENOENT` when the family has no such group;
   * the message lists the groups it has.
   */
  joinGroup(family: FamilyRef, group: string): Promise<GenericGroup> {
    checkFamily(family)
    checkName('group', group)
    return this.#changeGroup('joinGroup', family, group)
  }

  /** Leaves the multicast group `group` of `family`; see `joinGroup`. */
  leaveGroup(family: FamilyRef, group: string): Promise<GenericGroup> {
    checkFamily(family)
    checkName('group', group)
    return this.#changeGroup('leaveGroup', family, group)
  }

  /**
   * Dumps the attribute policies of `family` (`CTRL_CMD_GETPOLICY`,
   * Linux 5.7; one `command` only from Linux 5.10): which policy each
   * command checks requests against and what each allows per attribute.
   * Rejects with a `NetlinkError` naming the family and command:
   * `ENODATA` for one without a policy, `ENOENT` for an unknown one.
   */
  getPolicy(
    family: FamilyRef,
    command?: number,
    options: WaitOptions = {},
  ): Promise<GenericPolicy> {
    checkFamily(family)
    if (command !== undefined) check.integer('command', command, 0, 255)
    const signal = checkWait(options)
    return this.#getPolicy(family, command, signal)
  }

  /**
   * Resolves with family `name` once it exists: at once when it does,
   * else when the controller announces it (a module loaded). Joins the
   * controller's `notify` group while it waits and reads this Conn's
   * messages meanwhile; those it passes over stay queued for `receive()`.
   * Rejects when `signal` aborts or the Conn closes.
   */
  waitForFamily(
    name: string,
    options: WaitOptions = {},
  ): Promise<GenericFamily> {
    checkName('name', name)
    const signal = checkWait(options)
    return this.#wait(name, signal, true) as Promise<GenericFamily>
  }

  /**
   * Resolves once family `name` does not exist: at once when it does
   * not, else when the controller reports it gone (its module
   * unloaded). Works like `waitForFamily`.
   */
  waitForFamilyRemoval(name: string, options: WaitOptions = {}): Promise<void> {
    checkName('name', name)
    const signal = checkWait(options)
    return this.#wait(name, signal, false) as Promise<void>
  }

  /** Closes the core Conn; see `Conn.close`. */
  close(): Promise<void> {
    return this.conn.close()
  }

  /** Closes the Conn; for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close()
  }

  async #execute(
    family: FamilyRef,
    request: Required<GenericRequest>,
    signal: AbortSignal | undefined,
  ): Promise<GenericMessage[]> {
    const { id, cached } = await this.#resolve(family, 'execute', signal)
    const message = {
      header: { type: id, flags: request.flags },
      data: encodeGeneric(request.command, request.version, request.data),
    }

    let replies
    try {
      replies = await this.conn.execute(message, { signal })
    } catch (err) {
      // A family unloaded since it was cached has no id any more.
      if (cached && isErrno(err, 'ENOENT')) this.#forget(id)
      throw err
    }
    return replies.map(decodeGeneric)
  }

  async #send(
    family: FamilyRef,
    request: Required<GenericRequest>,
  ): Promise<GenericMessage> {
    const { id } = await this.#resolve(family, 'send', undefined)
    const sent = await this.conn.send({
      header: { type: id, flags: request.flags },
      data: encodeGeneric(request.command, request.version, request.data),
    })
    return decodeGeneric(sent)
  }

  /** The id of `family`, and whether it came from the cache. */
  async #resolve(
    family: FamilyRef,
    op: string,
    signal: AbortSignal | undefined,
  ): Promise<{ id: number; cached: boolean }> {
    if (typeof family === 'number') return { id: family, cached: false }

    const known = this.#byName.get(family)
    if (known !== undefined) return { id: known.id, cached: true }
    const found = await this.#family(family, op, signal)
    return { id: found.id, cached: false }
  }

  /** A family by name or id, from the cache or the controller. */
  async #family(
    family: FamilyRef,
    op: string,
    signal: AbortSignal | undefined,
  ): Promise<GenericFamily> {
    const known =
      typeof family === 'string'
        ? this.#byName.get(family)
        : this.#byId.get(family)
    if (known !== undefined) return known

    // One request per family however many callers want it; each caller
    // may give up on its own without cancelling it for the others.
    const key = typeof family === 'string' ? family : `#${family}`
    let lookup = this.#lookups.get(key)
    if (lookup === undefined) {
      lookup = this.#lookup(family).finally(() => this.#lookups.delete(key))
      this.#lookups.set(key, lookup)
      // Every caller may have given up by the time it fails.
      lookup.catch(() => {})
    }

    // Each caller's error names its own operation.
    return raceSignal(lookup, signal).catch((err: unknown) => {
      throw isErrno(err, 'ENOENT') ? unknownFamily(op, family, err) : err
    })
  }

  /**
   * Asks the controller for one family and caches it. An unknown family
   * rejects with the kernel's `ENOENT`, for the caller to word.
   */
  async #lookup(family: FamilyRef): Promise<GenericFamily> {
    const attrs = new AttributeEncoder()
    if (typeof family === 'string') {
      attrs.string(CTRL_ATTR_FAMILY_NAME, family)
    } else {
      attrs.uint16(CTRL_ATTR_FAMILY_ID, family)
    }

    const replies = await this.#control(CTRL_CMD_GETFAMILY, attrs.encode(), 0)
    const [reply] = replies
    if (reply === undefined) {
      throw new GenericError(
        `${describeFamily(family)}: the controller sent no reply`,
      )
    }

    const found = parseFamily(decodeGeneric(reply).data)
    const asked = typeof family === 'string' ? found.name : found.id
    if (asked !== family) {
      throw new GenericError(
        `asked the controller for` +
          ` ${describeFamily(family)}, it described family ${found.name}` +
          ` (id ${found.id})`,
      )
    }
    this.#remember(found)
    return found
  }

  async #listFamilies(
    signal: AbortSignal | undefined,
  ): Promise<GenericFamily[]> {
    const replies = await this.#control(
      CTRL_CMD_GETFAMILY,
      Buffer.alloc(0),
      HeaderFlags.Dump,
      signal,
    )
    const families = replies.map((m) => parseFamily(decodeGeneric(m).data))
    for (const f of families) this.#remember(f)
    return families
  }

  async #changeGroup(
    op: 'joinGroup' | 'leaveGroup',
    family: FamilyRef,
    name: string,
  ): Promise<GenericGroup> {
    const found = await this.#family(family, op, undefined)
    const group = found.groups.find((g) => g.name === name)
    if (group === undefined) {
      const have = found.groups.map((g) => g.name).join(', ')
      throw new NetlinkError(op, ERRNO.ENOENT, {
        detail:
          `family ${found.name} has no multicast group ${name}` +
          (have === '' ? '; it has none' : `; its groups: ${have}`),
      })
    }

    if (op === 'joinGroup') {
      this.conn.joinGroup(group.id)
      this.#joined.add(group.id)
    } else {
      this.#joined.delete(group.id)
      const held = group.id === this.#notifyGroup && this.#notifyHolds > 0
      if (!held) this.conn.leaveGroup(group.id)
    }
    return group
  }

  async #getPolicy(
    family: FamilyRef,
    command: number | undefined,
    signal: AbortSignal | undefined,
  ): Promise<GenericPolicy> {
    const found = await this.#family(family, 'getPolicy', signal)
    const attrs = new AttributeEncoder().uint16(CTRL_ATTR_FAMILY_ID, found.id)
    if (command !== undefined) attrs.uint32(CTRL_ATTR_OP, command)

    let replies
    try {
      replies = await this.#control(
        CTRL_CMD_GETPOLICY,
        attrs.encode(),
        HeaderFlags.Dump,
        signal,
      )
    } catch (err) {
      throw policyError(err, found.name, command)
    }
    return parsePolicy(found.id, replies.map(decodeGeneric))
  }

  /** Sends a controller command and resolves with its replies. */
  #control(command: number, data: Buffer, flags: number, signal?: AbortSignal) {
    return this.conn.execute(
      {
        header: { type: GENL_ID_CTRL, flags },
        data: encodeGeneric(command, GENL_CTRL_VERSION, data),
      },
      { signal },
    )
  }

  /**
   * Waits until family `name` exists (`present`) or does not. It joins
   * the `notify` group first and asks the controller second, so that a
   * change between the two is seen either way.
   */
  async #wait(
    name: string,
    signal: AbortSignal | undefined,
    present: boolean,
  ): Promise<GenericFamily | void> {
    if (signal?.aborted) throw signal.reason
    const notify = await this.#holdNotify(signal)

    return new Promise<GenericFamily | void>((resolve, reject) => {
      let settled = false
      const finish = (settle: () => void) => {
        if (settled) return
        settled = true
        this.#stream.unwatch(watcher)
        signal?.removeEventListener('abort', onAbort)
        this.#releaseNotify(notify)
        settle()
      }
      const onAbort = () => finish(() => reject(signal?.reason))
      const watcher: Watcher = {
        onEvent: (event) => {
          if (event.kind === 'newFamily' || event.kind === 'deleteFamily') {
            if (event.family.name !== name) return
            if (present === (event.kind === 'newFamily')) {
              finish(() => resolve(present ? event.family : undefined))
            }
          }
        },
        onClose: (err) => finish(() => reject(err)),
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      this.#stream.watch(watcher)
      if (signal?.aborted) onAbort()

      // A fresh request, not one that may have left before the join.
      this.#forget(name)
      this.#lookup(name).then(
        (family) => {
          if (present) finish(() => resolve(family))
        },
        (err) => {
          if (isErrno(err, 'ENOENT')) {
            if (!present) finish(() => resolve())
            return
          }
          finish(() => reject(err))
        },
      )
    })
  }

  /** Joins the controller's `notify` group for a waiter. */
  async #holdNotify(signal: AbortSignal | undefined): Promise<number> {
    if (this.#notifyGroup === undefined) {
      const ctrl = await this.#family(GENL_CTRL_NAME, 'waitForFamily', signal)
      const group = ctrl.groups.find((g) => g.name === GENL_CTRL_NOTIFY_GROUP)
      if (group === undefined) {
        throw new GenericError(
          `family ${GENL_CTRL_NAME} has no ${GENL_CTRL_NOTIFY_GROUP} group`,
        )
      }
      this.#notifyGroup = group.id
    }

    const id = this.#notifyGroup
    if (this.#notifyHolds === 0 && !this.#joined.has(id)) {
      this.conn.joinGroup(id)
    }
    this.#notifyHolds++
    return id
  }

  /** Leaves the `notify` group when its last waiter is done with it. */
  #releaseNotify(id: number): void {
    this.#notifyHolds--
    if (this.#notifyHolds > 0 || this.#joined.has(id)) return
    try {
      this.conn.leaveGroup(id)
    } catch {
      // A closed Conn has left every group already.
    }
  }

  /**
   * Whether a message sent to `group` goes to `receive()`: all do but
   * the `notify` group's while only waiters, not the user, joined it.
   */
  #wanted(group: number): boolean {
    if (group === 0 || group !== this.#notifyGroup) return true
    return this.#joined.has(group) || this.#notifyHolds === 0
  }

  /** Keeps the cache in step with what the controller announces. */
  #onEvent(event: ControllerEvent): void {
    this.#forget(event.family.name)
    this.#forget(event.family.id)
    if (event.kind === 'newFamily') this.#remember(event.family)
  }

  #remember(family: GenericFamily): void {
    this.#forget(family.name)
    this.#forget(family.id)
    this.#byName.set(family.name, family)
    this.#byId.set(family.id, family)
  }

  #forget(family: FamilyRef): void {
    const known =
      typeof family === 'string'
        ? this.#byName.get(family)
        : this.#byId.get(family)
    if (known === undefined) return
    this.#byName.delete(known.name)
    this.#byId.delete(known.id)
  }
}

function isErrno(err: unknown, code: string): err is NetlinkError {
  return err instanceof NetlinkError && err.code === code
}

function describeFamily(family: FamilyRef): string {
  return typeof family === 'string' ? `family ${family}` : `family id ${family}`
}

function unknownFamily(
  op: string,
  family: FamilyRef,
  cause: NetlinkError,
): NetlinkError {
  const what =
    typeof family === 'string'
      ? `no generic netlink family named ${family}`
      : `no generic netlink family with id ${family}`
  return new NetlinkError(op, ERRNO.ENOENT, {
    detail: what,
    sequence: cause.sequence,
    extAck: cause.extAck,
    cause,
  })
}

/**
 * The kernel's answer to a policy dump it refused, in words naming the
 * family and command: `ENOENT` for a command the family lacks,
 * `ENODATA` for no policy to show.
 */
function policyError(
  err: unknown,
  family: string,
  command: number | undefined,
): unknown {
  const what =
    command === undefined
      ? `family ${family}`
      : `command ${command} of family ${family}`
  let detail: string
  if (isErrno(err, 'ENOENT') && command === undefined) {
    return unknownFamily('getPolicy', family, err)
  } else if (isErrno(err, 'ENOENT')) {
    detail = `family ${family} has no command ${command}`
  } else if (isErrno(err, 'ENODATA')) {
    detail = `${what} has no attribute policy`
  } else {
    return err
  }
  return new NetlinkError('getPolicy', err.errno, {
    detail:
      err.extAck?.message === undefined
        ? detail
        : `${detail}: ${err.extAck.message}`,
    sequence: err.sequence,
    extAck: err.extAck,
    cause: err,
  })
}

/** `promise`, or a rejection with the signal's reason once it aborts. */
function raceSignal<T>(
  promise: Promise<T>,
  signal: AbortSignal | undefined,
): Promise<T> {
  if (signal === undefined) return promise
  if (signal.aborted) return Promise.reject(signal.reason)

  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort)
        resolve(v)
      },
      (err) => {
        signal.removeEventListener('abort', onAbort)
        reject(err)
      },
    )
  })
}
