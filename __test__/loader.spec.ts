import test from 'ava'

import {
  detectLibc,
  elfInterpreter,
  parseInterpreter,
  type LibcProbe,
} from '../lib/loader/libc'
import { currentHost, loadNative } from '../lib/loader/load'
import {
  TARGETS,
  explainFailure,
  selectBinary,
  type Attempt,
  type Candidate,
  type Selection,
} from '../lib/loader/select'

function candidatesOf(selection: Selection): Candidate[] {
  if (selection.kind !== 'candidates') {
    throw new Error(`expected candidates, got ${selection.kind}`)
  }
  return selection.candidates
}

for (const target of TARGETS) {
  const title = `linux ${target.arch} with ${target.libc}`
  test(`${title} picks ${target.suffix}`, (t) => {
    const selection = selectBinary({
      platform: 'linux',
      arch: target.arch,
      libc: target.libc,
    })
    const [only, ...rest] = candidatesOf(selection)
    t.is(only.target, target)
    t.is(only.packageName, `netlink-node-${target.suffix}`)
    t.is(only.fileName, `netlink.${target.suffix}.node`)
    t.deepEqual(rest, [])
  })
}

test('an unknown C library tries the glibc build, then musl', (t) => {
  const selection = selectBinary({
    platform: 'linux',
    arch: 'arm64',
    libc: undefined,
  })
  t.deepEqual(
    candidatesOf(selection).map((c) => c.packageName),
    ['netlink-node-linux-arm64-gnu', 'netlink-node-linux-arm64-musl'],
  )
})

test('an unknown C library on a glibc-only arch tries that build', (t) => {
  const selection = selectBinary({
    platform: 'linux',
    arch: 'riscv64',
    libc: undefined,
  })
  t.deepEqual(
    candidatesOf(selection).map((c) => c.packageName),
    ['netlink-node-linux-riscv64-gnu'],
  )
})

for (const platform of ['darwin', 'win32', 'freebsd']) {
  test(`${platform} is told netlink is Linux-only`, (t) => {
    const selection = selectBinary({ platform, arch: 'x64', libc: undefined })
    t.deepEqual(selection, { kind: 'not-linux', platform })

    const failure = explainFailure(selection, [])
    t.is(failure.code, 'ERR_NETLINK_UNSUPPORTED_PLATFORM')
    t.regex(failure.message, /Linux only/)
    t.true(failure.message.includes(platform))
  })
}

const unsupported = [
  { arch: 'ia32', libc: 'glibc', suffix: 'linux-ia32-gnu' },
  { arch: 's390x', libc: 'glibc', suffix: 'linux-s390x-gnu' },
  { arch: 'riscv64', libc: 'musl', suffix: 'linux-riscv64-musl' },
  { arch: 'arm', libc: 'musl', suffix: 'linux-arm-musleabihf' },
] as const

for (const { arch, libc, suffix } of unsupported) {
  const wanted = `netlink-node-${suffix}`
  test(`linux ${arch} with ${libc} names the missing ${wanted}`, (t) => {
    const selection = selectBinary({ platform: 'linux', arch, libc })
    t.deepEqual(selection, {
      kind: 'no-target',
      packageName: wanted,
      fileName: `netlink.${suffix}.node`,
    })

    const failure = explainFailure(selection, [])
    t.is(failure.code, 'ERR_NETLINK_UNSUPPORTED_PLATFORM')
    t.true(failure.message.includes(`no package ${wanted}`))
  })
}

function notFound(candidate: Candidate): Attempt {
  const error = Object.assign(
    new Error(`Cannot find module '${candidate.packageName}'`),
    { code: 'MODULE_NOT_FOUND' },
  )
  return { from: candidate.packageName, missing: true, error }
}

test('a package that was not installed is named in the error', (t) => {
  const selection = selectBinary({
    platform: 'linux',
    arch: 'x64',
    libc: 'musl',
  })
  const attempts = candidatesOf(selection).map(notFound)

  const failure = explainFailure(selection, attempts)
  t.is(failure.code, 'ERR_NETLINK_BINARY_NOT_LOADED')
  t.true(failure.message.includes('netlink-node-linux-x64-musl'))
  t.regex(failure.message, /not installed/)
})

test('a binary that refuses to load is quoted, not called missing', (t) => {
  const selection = selectBinary({
    platform: 'linux',
    arch: 'arm64',
    libc: undefined,
  })
  const [gnu, musl] = candidatesOf(selection)
  const refused: Attempt = {
    from: `/app/${gnu.fileName}`,
    missing: false,
    error: new Error("version `GLIBC_2.28' not found\nmore detail"),
  }

  const failure = explainFailure(selection, [refused, notFound(musl)])
  t.is(failure.code, 'ERR_NETLINK_BINARY_NOT_LOADED')
  t.is(
    failure.message,
    'netlink-node cannot load /app/netlink.linux-arm64-gnu.node: ' +
      "version `GLIBC_2.28' not found",
  )
})

test('a build from source that refuses to load is quoted', (t) => {
  const selection = selectBinary({
    platform: 'linux',
    arch: 's390x',
    libc: 'glibc',
  })
  const refused: Attempt = {
    from: '/src/netlink.linux-s390x-gnu.node',
    missing: false,
    error: new Error('invalid ELF header'),
  }

  const failure = explainFailure(selection, [refused])
  t.is(failure.code, 'ERR_NETLINK_BINARY_NOT_LOADED')
  t.is(
    failure.message,
    'netlink-node cannot load /src/netlink.linux-s390x-gnu.node: ' +
      'invalid ELF header',
  )
})

function probe(facts: {
  header?: { glibcVersionRuntime?: unknown }
  interpreter?: string
  ldd?: string
}): LibcProbe {
  return {
    reportHeader: () => facts.header,
    interpreter: () => facts.interpreter,
    ldd: () => facts.ldd,
  }
}

const libcCases = [
  {
    name: "the report's glibcVersionRuntime means glibc",
    facts: { header: { glibcVersionRuntime: '2.36' } },
    want: 'glibc',
  },
  {
    name: 'a musl program interpreter means musl',
    facts: { header: {}, interpreter: '/lib/ld-musl-aarch64.so.1' },
    want: 'musl',
  },
  {
    name: 'a glibc program interpreter means glibc',
    facts: { interpreter: '/lib/ld-linux-armhf.so.3' },
    want: 'glibc',
  },
  {
    name: "musl's ldd means musl when node is static",
    facts: { header: {}, ldd: '#!/bin/sh\nexec /lib/ld-musl-x86_64.so.1' },
    want: 'musl',
  },
  {
    name: "glibc's ldd means glibc when nothing else tells",
    facts: { ldd: '# This file is part of the GNU C Library.' },
    want: 'glibc',
  },
  {
    name: 'a report without glibc alone is not taken as musl',
    facts: { header: {} },
    want: undefined,
  },
  { name: 'no source at all tells nothing', facts: {}, want: undefined },
] as const

for (const { name, facts, want } of libcCases) {
  test(name, (t) => {
    t.is(detectLibc(probe(facts)), want)
  })
}

test('a program interpreter settles it without making a report', (t) => {
  const libc = detectLibc({
    interpreter: () => '/lib/ld-musl-x86_64.so.1',
    reportHeader: () => t.fail('the report was made') as undefined,
    ldd: () => t.fail('ldd was read') as undefined,
  })
  t.is(libc, 'musl')
})

/**
 * A minimal ELF file: a header and one PT_INTERP program header pointing
 * at `interp`, in the given class and byte order.
 */
function elf(interp: string, wide: boolean, le: boolean): Buffer {
  const ehsize = wide ? 64 : 52
  const phentsize = wide ? 56 : 32
  const text = Buffer.from(interp + '\0', 'latin1')
  const file = Buffer.alloc(ehsize + phentsize + text.length)

  file.writeUInt32BE(0x7f454c46, 0)
  file[4] = wide ? 2 : 1
  file[5] = le ? 1 : 2
  const u16 = (v: number, at: number) =>
    le ? file.writeUInt16LE(v, at) : file.writeUInt16BE(v, at)
  const u32 = (v: number, at: number) =>
    le ? file.writeUInt32LE(v, at) : file.writeUInt32BE(v, at)
  const word = (v: number, at: number) =>
    wide
      ? le
        ? file.writeBigUInt64LE(BigInt(v), at)
        : file.writeBigUInt64BE(BigInt(v), at)
      : u32(v, at)

  word(ehsize, wide ? 32 : 28)
  u16(phentsize, wide ? 54 : 42)
  u16(1, wide ? 56 : 44)

  const ph = ehsize
  u32(3, ph)
  word(ehsize + phentsize, ph + (wide ? 8 : 4))
  word(text.length, ph + (wide ? 32 : 16))
  text.copy(file, ehsize + phentsize)
  return file
}

const reader = (file: Buffer) => (offset: number, length: number) =>
  file.subarray(offset, offset + length)

for (const wide of [true, false]) {
  for (const le of [true, false]) {
    const shape = `${wide ? 64 : 32}-bit ${le ? 'little' : 'big'}-endian`
    test(`the interpreter of a ${shape} ELF file is read`, (t) => {
      const file = elf('/lib/ld-musl-armhf.so.1', wide, le)
      t.is(parseInterpreter(reader(file)), '/lib/ld-musl-armhf.so.1')
    })
  }
}

test('an ELF file without PT_INTERP has no interpreter', (t) => {
  const file = elf('/lib/ld-linux.so.2', true, true)
  file.writeUInt32LE(1, 64) // PT_LOAD instead
  t.is(parseInterpreter(reader(file)), undefined)
})

test('a file that is not ELF is refused', (t) => {
  const script = Buffer.from('#!/bin/sh\nexec true\n'.padEnd(80, ' '))
  t.throws(() => parseInterpreter(reader(script)), {
    message: 'not an ELF file',
  })
})

test('the interpreter of this node names a dynamic loader', (t) => {
  const interp = elfInterpreter(process.execPath)
  if (interp === undefined) {
    t.pass('this node is statically linked')
    return
  }
  t.regex(interp, /\/ld-(linux|musl)/)
})

test('loadNative on macOS throws the Linux-only error', (t) => {
  const err = t.throws(() =>
    loadNative({ platform: 'darwin', arch: 'arm64', libc: undefined }),
  )
  const code = (err as NodeJS.ErrnoException).code
  t.is(code, 'ERR_NETLINK_UNSUPPORTED_PLATFORM')
  t.regex(err!.message, /Linux only/)
})

test('loadNative names a per-platform package that is not installed', (t) => {
  // riscv64 is a served target whose binary is neither built nor
  // installed on other machines.
  const host = { platform: 'linux', arch: 'riscv64', libc: 'glibc' } as const
  if (process.arch === 'riscv64') {
    t.pass('this machine is riscv64: its binary may be present')
    return
  }

  const err = t.throws(() => loadNative(host))
  t.is((err as NodeJS.ErrnoException).code, 'ERR_NETLINK_BINARY_NOT_LOADED')
  t.true(err!.message.includes('netlink-node-linux-riscv64-gnu'))
  t.truthy(err!.cause)
})

test('loadNative loads the binding on this machine', (t) => {
  const native = loadNative(currentHost()) as Record<string, unknown>
  t.is(typeof native.NativeConn, 'function')
  t.is(typeof native.errnoMessage, 'function')
})
