/**
 * Tells glibc from musl, to pick between a `-gnu` and a `-musl` binary.
 * The sources are asked in order of how directly they describe the
 * running Node.js, cheapest first where two are as direct: the program
 * interpreter of its executable (under a millisecond), its own diagnostic
 * report (15 to 25 ms for the first one of a process), then the
 * system's `ldd` script.
 */
import { closeSync, openSync, readFileSync, readSync } from 'node:fs'

import type { Libc } from './select'

/**
 * Where the facts come from; `systemProbe` reads the real ones, tests pass
 * their own. Each returns `undefined` when its source is unavailable.
 */
export interface LibcProbe {
  /** `process.report.getReport().header`. */
  reportHeader(): { glibcVersionRuntime?: unknown } | undefined
  /** The ELF program interpreter (`PT_INTERP`) of `process.execPath`. */
  interpreter(): string | undefined
  /** The text of `/usr/bin/ldd`. */
  ldd(): string | undefined
}

/**
 * The C library the running Node.js uses, or `undefined` when no source
 * could tell. The dynamic loader Node.js was linked with names its C
 * library; a report with `glibcVersionRuntime` settles glibc. musl needs
 * positive evidence (its loader `ld-musl-*`, or musl's `ldd`), since a
 * report without that field also comes from a static Node.js.
 */
export function detectLibc(probe: LibcProbe = systemProbe): Libc | undefined {
  const interpreter = probe.interpreter()
  if (interpreter !== undefined) {
    if (interpreter.includes('ld-musl-')) return 'musl'
    if (interpreter.includes('ld-linux')) return 'glibc'
  }

  const header = probe.reportHeader()
  if (typeof header?.glibcVersionRuntime === 'string') return 'glibc'

  const ldd = probe.ldd()
  if (ldd !== undefined) {
    if (ldd.includes('musl')) return 'musl'
    if (/GNU C Library|GLIBC/.test(ldd)) return 'glibc'
  }
  return undefined
}

/** The probe of this process and machine. */
export const systemProbe: LibcProbe = {
  reportHeader,
  interpreter: () => attempt(() => elfInterpreter(process.execPath)),
  ldd: () => attempt(() => readFileSync('/usr/bin/ldd', 'latin1')),
}

/**
 * The report's header. Network details are left out while it is made:
 * collecting them walks every open socket and can take long.
 */
function reportHeader(): { glibcVersionRuntime?: unknown } | undefined {
  // excludeNetwork came in Node.js 20.13; older ones ignore it.
  const report = process.report as
    (NodeJS.ProcessReport & { excludeNetwork?: boolean }) | undefined
  if (report === undefined || typeof report.getReport !== 'function') {
    return undefined
  }

  const excluded = report.excludeNetwork
  try {
    report.excludeNetwork = true
    const made = report.getReport() as { header?: object }
    return made.header
  } catch {
    return undefined
  } finally {
    report.excludeNetwork = excluded
  }
}

function attempt<T>(read: () => T): T | undefined {
  try {
    return read()
  } catch {
    return undefined
  }
}

const PT_INTERP = 3

/**
 * Reads the program interpreter named in an ELF file's `PT_INTERP`
 * program header, `undefined` for a file without one (a static binary).
 * Throws when the file cannot be read or is not ELF.
 */
export function elfInterpreter(path: string): string | undefined {
  const fd = openSync(path, 'r')
  try {
    return parseInterpreter((offset, length) => {
      const chunk = Buffer.alloc(length)
      const got = readSync(fd, chunk, 0, length, offset)
      return chunk.subarray(0, got)
    })
  } finally {
    closeSync(fd)
  }
}

/**
 * The ELF parsing behind `elfInterpreter`, over a function that reads
 * `length` bytes at `offset` (fewer at the end of the file).
 */
export function parseInterpreter(
  read: (offset: number, length: number) => Buffer,
): string | undefined {
  const ident = read(0, 64)
  if (ident.length < 52 || ident.readUInt32BE(0) !== 0x7f454c46) {
    throw new Error('not an ELF file')
  }

  // e_ident[EI_CLASS]: 1 is 32-bit, 2 is 64-bit; [EI_DATA]: 1 is LE.
  const wide = ident[4] === 2
  const le = ident[5] === 1
  const u16 = (b: Buffer, at: number) =>
    le ? b.readUInt16LE(at) : b.readUInt16BE(at)
  const word = (b: Buffer, at: number) =>
    wide
      ? Number(le ? b.readBigUInt64LE(at) : b.readBigUInt64BE(at))
      : le
        ? b.readUInt32LE(at)
        : b.readUInt32BE(at)

  const phoff = word(ident, wide ? 32 : 28)
  const phentsize = u16(ident, wide ? 54 : 42)
  const phnum = u16(ident, wide ? 56 : 44)

  for (let i = 0; i < phnum; i++) {
    const ph = read(phoff + i * phentsize, phentsize)
    if (ph.length < phentsize) break
    const type = le ? ph.readUInt32LE(0) : ph.readUInt32BE(0)
    if (type !== PT_INTERP) continue

    const offset = word(ph, wide ? 8 : 4)
    const size = word(ph, wide ? 32 : 16)
    return read(offset, size).toString('latin1').replace(/\0+$/, '')
  }
  return undefined
}
