/**
 * Integers of the fixed headers rtnetlink puts before its attributes
 * (`ifinfomsg`, `ifaddrmsg`, `rtmsg`, `ndmsg`, `fib_rule_hdr`) and of the
 * structs in its attributes (cache info, link counters): they are in the
 * host's byte order.
 */
import { endianness } from 'node:os'

const BIG = endianness() === 'BE'

/** Reads a u16 in host byte order at `at`. */
export function readU16(b: Buffer, at: number): number {
  return BIG ? b.readUInt16BE(at) : b.readUInt16LE(at)
}

/** Reads a u32 in host byte order at `at`. */
export function readU32(b: Buffer, at: number): number {
  return BIG ? b.readUInt32BE(at) : b.readUInt32LE(at)
}

/** Reads a u64 in host byte order at `at`. */
export function readU64(b: Buffer, at: number): bigint {
  return BIG ? b.readBigUInt64BE(at) : b.readBigUInt64LE(at)
}

/** Reads an s32 in host byte order at `at`. */
export function readI32(b: Buffer, at: number): number {
  return BIG ? b.readInt32BE(at) : b.readInt32LE(at)
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
