/**
 * Integers in the host's byte order: the netlink message header, the
 * fixed headers families put before their attributes (`ifinfomsg`,
 * `rtmsg`, `ndmsg` and the rest) and the structs in attributes (cache
 * info, link counters).
 */
import { endianness } from 'node:os'

const BIG = endianness() === 'BE'

// The little-endian readers index the bytes themselves: Node's check of
// the offset is a call V8 does not inline, and it cost a dump's decoding
// a tenth of its time. Out of range, Node's reader throws its own error.

/** Reads a u16 in host byte order at `at`. */
export function readU16(b: Buffer, at: number): number {
  const first = b[at]
  const last = b[at + 1]
  if (BIG || first === undefined || last === undefined) {
    return BIG ? b.readUInt16BE(at) : b.readUInt16LE(at)
  }
  return first + last * 0x100
}

/** Reads a u32 in host byte order at `at`. */
export function readU32(b: Buffer, at: number): number {
  const first = b[at]
  const last = b[at + 3]
  if (BIG || first === undefined || last === undefined) {
    return BIG ? b.readUInt32BE(at) : b.readUInt32LE(at)
  }
  return first + b[at + 1] * 0x100 + b[at + 2] * 0x1_0000 + last * 0x100_0000
}

/**
 * Reads a u64 in host byte order at `at`. Zero is the one shared `0n`,
 * and a value under 2^53 is made from one number: a counter costs one
 * BigInt at most, where Node's reader builds three.
 */
export function readU64(b: Buffer, at: number): bigint {
  const low = readU32(b, BIG ? at + 4 : at)
  const high = readU32(b, BIG ? at : at + 4)
  if (high === 0) return low === 0 ? 0n : BigInt(low)
  if (high < 0x200000) return BigInt(high * 0x1_0000_0000 + low)
  return BIG ? b.readBigUInt64BE(at) : b.readBigUInt64LE(at)
}

/** Reads an s32 in host byte order at `at`. */
export function readI32(b: Buffer, at: number): number {
  const first = b[at]
  const last = b[at + 3]
  if (BIG || first === undefined || last === undefined) {
    return BIG ? b.readInt32BE(at) : b.readInt32LE(at)
  }
  return first + b[at + 1] * 0x100 + b[at + 2] * 0x1_0000 + (last << 24)
}

/** Writes a u16 in host byte order at `at`. */
export function writeU16(b: Buffer, v: number, at: number): void {
  if (BIG) b.writeUInt16BE(v, at)
  else b.writeUInt16LE(v, at)
}

/** Writes a u32 in host byte order at `at`. */
export function writeU32(b: Buffer, v: number, at: number): void {
  if (BIG) b.writeUInt32BE(v, at)
  else b.writeUInt32LE(v, at)
}

/** Writes an s32 in host byte order at `at`. */
export function writeI32(b: Buffer, v: number, at: number): void {
  if (BIG) b.writeInt32BE(v, at)
  else b.writeInt32LE(v, at)
}
