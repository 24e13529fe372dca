/**
 * Batches in the binding's format, built from the datagrams a fake sends:
 * the datagrams back to back in one Buffer, one record per message, and
 * the extended acknowledgements the records point to, laid out as
 * `crates/netlink-core/src/batch.rs` lays them out.
 */
import { constants } from 'node:os'

import type { ExtAckJs } from '../../binding'
import { Field, Kind, RECORD_LEN } from '../batch'
import { parseMessages } from '../codec'
import { HeaderType } from '../constants'
import { align, type Header } from '../message'
import { readDone, readError, type Outcome } from './ack'

/** What `onBatch` is called with. */
export interface Batch {
  data: Buffer
  records: Uint32Array
  acks: ExtAckJs[]
}

/** One datagram as it arrives: its bytes and its multicast group. */
export interface Datagram {
  bytes: Buffer
  /** The group it was sent to; 0 for unicast. */
  group: number
}

/**
 * Builds one batch of `datagrams`, all sent by the kernel (port 0). In
 * `raw` mode each datagram is one record, unparsed; otherwise each
 * message is, with the errno and extended acknowledgement of ERROR and
 * DONE messages read from their payloads. An ERROR too short to hold its
 * errno and echoed header becomes a malformed record (`EBADMSG`), as the
 * binding makes it.
 */
export function encodeBatch(datagrams: Datagram[], raw: boolean): Batch {
  const records: number[] = []
  const acks: ExtAckJs[] = []
  let start = 0

  for (const { bytes, group } of datagrams) {
    if (raw) {
      const length = bytes.length
      pushRecord(records, { kind: Kind.Datagram, offset: start, length, group })
      start += length
      continue
    }

    let offset = start
    for (const { header, data } of parseMessages(bytes)) {
      const outcome = readOutcome(header, data)
      if (outcome?.extAck !== undefined) acks.push(outcome.extAck)

      pushRecord(records, {
        kind: outcome === undefined ? Kind.Malformed : Kind.Message,
        offset,
        length: header.length,
        header,
        group,
        errno: outcome?.errno ?? constants.errno.EBADMSG,
        ack: outcome?.extAck === undefined ? 0 : acks.length,
      })
      offset += align(header.length)
    }
    start += bytes.length
  }

  const data = Buffer.concat(datagrams.map((d) => d.bytes))
  return { data, records: Uint32Array.from(records), acks }
}

/** The fields of one record; those left out are 0. */
interface RecordInit {
  kind: number
  offset: number
  length: number
  header?: Header
  group: number
  errno?: number
  /** 1 + the index of the extended acknowledgement in `acks`. */
  ack?: number
}

function pushRecord(records: number[], r: RecordInit): void {
  const fields = new Array<number>(RECORD_LEN).fill(0)
  fields[Field.Kind] = r.kind
  fields[Field.Offset] = r.offset
  fields[Field.Length] = r.length
  fields[Field.Group] = r.group
  fields[Field.Errno] = r.errno ?? 0
  fields[Field.ExtAck] = r.ack ?? 0

  // The sender is the kernel: Port stays 0, and no namespace id is set.
  if (r.header !== undefined) {
    const { type, flags, sequence, pid } = r.header
    fields[Field.TypeFlags] = (type | (flags << 16)) >>> 0
    fields[Field.Sequence] = sequence
    fields[Field.Pid] = pid
  }
  records.push(...fields)
}

/** The outcome of an ERROR or DONE; undefined for a malformed ERROR. */
function readOutcome(header: Header, data: Buffer): Outcome | undefined {
  if (header.type === HeaderType.Error) return readError(header.flags, data)
  if (header.type === HeaderType.Done) return readDone(header.flags, data)
  return { errno: 0 }
}
