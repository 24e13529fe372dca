/**
 * The batch layout the binding hands over, mirrored from
 * `crates/netlink-core/src/batch.rs`: one Buffer of datagrams and a flat
 * Uint32Array of records, `RECORD_LEN` fields each; and the messages
 * that read themselves from it.
 */
import type { ReceivedMessage } from './conn'
import type { NetlinkError } from './errors'
import { HEADER_LENGTH, type Header } from './message'

/** Fields per record. */
export const RECORD_LEN = 11

/** Field positions in a record. */
export const Field = {
  Kind: 0,
  Offset: 1,
  Length: 2,
  TypeFlags: 3,
  Sequence: 4,
  Pid: 5,
  Port: 6,
  Group: 7,
  Errno: 8,
  ExtAck: 9,
  Nsid: 10,
} as const

/** Record kinds (the low byte of `Field.Kind`). */
export const Kind = {
  Message: 0,
  Datagram: 1,
  Overrun: 2,
  Truncated: 3,
  Malformed: 4,
} as const

/** Flag in `Field.Kind`: `Field.Nsid` holds a namespace id. */
export const HAS_NSID = 0x100

/** What `inspect` calls to show an object (`util.inspect.custom`). */
const inspectCustom = Symbol.for('nodejs.util.inspect.custom')

/**
 * The memory one routing pass reads: the batch's datagrams and the
 * records of it being routed. Its messages share it, so each message
 * holds one reference to it and not two.
 */
export class BatchView {
  constructor(
    readonly bytes: Buffer,
    readonly records: Uint32Array,
  ) {}
}

/** A message's header and data, once either was read or set. */
interface Parts {
  header: Header | undefined
  data: Buffer | undefined
}

/**
 * A received message that reads itself from the batch it arrived in: the
 * message is one small object, and `header` and `data` are made on first
 * read and kept. A dump of many messages then costs one object each until
 * the caller looks at them.
 *
 * The object holds three fields: a dump's messages all survive V8's
 * young-generation collections, which copy them, so each field costs a
 * dump as much as the routing of a message does.
 *
 * Being an object of a class, it carries its fields in accessors:
 * spread (`{ ...message }`), `Object.keys` and `structuredClone` see none
 * of them. `toJSON()` (and so `JSON.stringify`) and `plainMessage()` give
 * a plain object; `util.inspect` shows the fields. The batch memory is
 * never written again, so a message stays valid for as long as it is held.
 */
export class BatchMessage implements ReceivedMessage {
  /**
   * A message that lives as long as the class. V8 holds the shape of an
   * object (its map) weakly once every object of it is gone, and drops
   * the optimized code that relied on it: after a collection that found
   * no message alive, a dump would route its first half or so in slow
   * code, four times slower, while that code is compiled again. Holding
   * one message keeps the shape, and the code, across collections.
   */
  static readonly #keep = new BatchMessage(
    new BatchView(Buffer.alloc(0), new Uint32Array(RECORD_LEN)),
    0,
  )

  /** Set on error and DONE messages that carry an errno. */
  declare error?: NetlinkError
  #view: BatchView
  #at: number
  #parts: Parts | undefined = undefined

  /** The message of record `at` (an index into `view.records`). */
  constructor(view: BatchView, at: number) {
    this.#view = view
    this.#at = at
  }

  /** The header, read from the record on first use. */
  get header(): Header {
    const parts = this.#partsMade()
    if (parts.header !== undefined) return parts.header
    const records = this.#view.records
    const at = this.#at
    const typeFlags = records[at + Field.TypeFlags]
    parts.header = {
      length: records[at + Field.Length],
      type: typeFlags & 0xffff,
      flags: typeFlags >>> 16,
      sequence: records[at + Field.Sequence],
      pid: records[at + Field.Pid],
    }
    return parts.header
  }

  set header(header: Header) {
    this.#partsMade().header = header
  }

  /** The payload after the header (the whole datagram for raw sockets). */
  get data(): Buffer {
    const parts = this.#partsMade()
    if (parts.data !== undefined) return parts.data
    const offset = this.#view.records[this.#at + Field.Offset]
    const start = this.#raw ? offset : offset + HEADER_LENGTH
    parts.data = this.#view.bytes.subarray(start, offset + this.#length)
    return parts.data
  }

  set data(data: Buffer) {
    this.#partsMade().data = data
  }

  /** The multicast group it was sent to; 0 for unicast. */
  get group(): number {
    return this.#view.records[this.#at + Field.Group]
  }

  /** The sender's port ID; 0 for the kernel. */
  get port(): number {
    return this.#view.records[this.#at + Field.Port]
  }

  /** The peer namespace id, where the socket asked for it. */
  get nsid(): number | undefined {
    const records = this.#view.records
    if (!(records[this.#at + Field.Kind] & HAS_NSID)) return undefined
    return records[this.#at + Field.Nsid] | 0
  }

  /** A plain object holding the same fields. */
  toJSON(): ReceivedMessage {
    return plainMessage(this)
  }

  [inspectCustom](
    depth: number,
    options: object,
    inspect: (value: unknown, options: object) => string,
  ): string {
    if (depth < 0) return '[ReceivedMessage]'
    return `ReceivedMessage ${inspect(plainMessage(this), options)}`
  }

  /** Bytes of payload, without making `data`. */
  static payloadLength(message: BatchMessage): number {
    const length = message.#length
    return message.#raw ? length : length - HEADER_LENGTH
  }

  #partsMade(): Parts {
    this.#parts ??= { header: undefined, data: undefined }
    return this.#parts
  }

  get #length(): number {
    return this.#view.records[this.#at + Field.Length]
  }

  get #raw(): boolean {
    const kind = this.#view.records[this.#at + Field.Kind]
    return (kind & 0xff) === Kind.Datagram
  }
}

/**
 * A copy of `message` as a plain object: what spread, `structuredClone`
 * and `postMessage` carry whole. `data` still shares the batch memory.
 */
export function plainMessage(message: ReceivedMessage): ReceivedMessage {
  const plain: ReceivedMessage = {
    header: message.header,
    data: message.data,
    group: message.group,
    port: message.port,
  }
  if (message.nsid !== undefined) plain.nsid = message.nsid
  if (message.error !== undefined) plain.error = message.error
  return plain
}

/** Bytes of payload a received message holds, without making `data`. */
export function payloadLength(message: ReceivedMessage): number {
  return message instanceof BatchMessage
    ? BatchMessage.payloadLength(message)
    : message.data.length
}
