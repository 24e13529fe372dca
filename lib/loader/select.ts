/**
 * Which native module serves a machine, and what to tell the user when
 * none does. Everything here is a pure function of the facts passed in,
 * so every platform can be tested on any machine.
 */

/** The C library a Linux binary is linked against. */
export type Libc = 'glibc' | 'musl'

/**
 * A platform with a prebuilt binary: its napi-rs suffix (the per-platform
 * package is `netlink-node-<suffix>`, the file `netlink.<suffix>.node`),
 * the Rust target it is built for, and Node's `process.arch` for it.
 */
export interface Target {
  readonly suffix: string
  readonly triple: string
  readonly arch: string
  readonly libc: Libc
}

/** The name every per-platform package starts with. */
export const PACKAGE_NAME = 'netlink-node'

/**
 * The targets built and published, in the order of `napi.targets` in
 * package.json; `scripts/check-workflow.ts` keeps the two in step.
 */
export const TARGETS: readonly Target[] = [
  target('linux-x64-gnu', 'x86_64-unknown-linux-gnu', 'x64', 'glibc'),
  target('linux-arm64-gnu', 'aarch64-unknown-linux-gnu', 'arm64', 'glibc'),
  target(
    'linux-arm-gnueabihf',
    'armv7-unknown-linux-gnueabihf',
    'arm',
    'glibc',
  ),
  target('linux-x64-musl', 'x86_64-unknown-linux-musl', 'x64', 'musl'),
  target('linux-arm64-musl', 'aarch64-unknown-linux-musl', 'arm64', 'musl'),
  target(
    'linux-riscv64-gnu',
    'riscv64gc-unknown-linux-gnu',
    'riscv64',
    'glibc',
  ),
]

function target(
  suffix: string,
  triple: string,
  arch: string,
  libc: Libc,
): Target {
  return { suffix, triple, arch, libc }
}

/**
 * The facts about the running process that choose a binary:
 * `process.platform`, `process.arch`, and the C library, `undefined` when
 * it could not be told.
 */
export interface Host {
  readonly platform: string
  readonly arch: string
  readonly libc: Libc | undefined
}

/** One binary to try: a local build's file name, or else its package. */
export interface Candidate {
  readonly target: Target
  readonly packageName: string
  readonly fileName: string
}

/**
 * What `selectBinary` decided: binaries to try in order, or why there is
 * none. `not-linux` says which system this is; `no-target` names the
 * package that would serve this machine if it existed, and the file a
 * build from source makes here, which the loader still looks for.
 */
export type Selection =
  | { readonly kind: 'candidates'; readonly candidates: Candidate[] }
  | { readonly kind: 'not-linux'; readonly platform: string }
  | {
      readonly kind: 'no-target'
      readonly packageName: string
      readonly fileName: string
    }

/**
 * Chooses the binaries that can serve `host`, most likely first. With the
 * C library unknown, both the glibc and the musl build of the architecture
 * are candidates, glibc first: loading the wrong one fails cleanly.
 */
export function selectBinary(host: Host): Selection {
  if (host.platform !== 'linux') {
    return { kind: 'not-linux', platform: host.platform }
  }

  const matching = TARGETS.filter(
    (t) =>
      t.arch === host.arch && (host.libc === undefined || t.libc === host.libc),
  )
  if (matching.length === 0) {
    const suffix = napiSuffix(host)
    return {
      kind: 'no-target',
      packageName: `${PACKAGE_NAME}-${suffix}`,
      fileName: `netlink.${suffix}.node`,
    }
  }

  const byLibc = [...matching].sort(
    (a, b) => Number(a.libc === 'musl') - Number(b.libc === 'musl'),
  )
  return { kind: 'candidates', candidates: byLibc.map(candidate) }
}

function candidate(t: Target): Candidate {
  return {
    target: t,
    packageName: `${PACKAGE_NAME}-${t.suffix}`,
    fileName: `netlink.${t.suffix}.node`,
  }
}

/**
 * The suffix napi-rs gives a build for this Linux host, for the package
 * that does not exist and the file a build from source makes.
 */
function napiSuffix(host: Host): string {
  const abi = host.libc === 'musl' ? 'musl' : 'gnu'
  return `linux-${host.arch}-${host.arch === 'arm' ? `${abi}eabihf` : abi}`
}

/**
 * One failed try: the local file or the package it loaded from, and what
 * `require` threw. `missing` means there was nothing there to load, as
 * opposed to a binary that was found and refused to load.
 */
export interface Attempt {
  readonly from: string
  readonly missing: boolean
  readonly error: Error
}

/** The error the loader throws: a message and a code for programs. */
export interface Failure {
  readonly code: string
  readonly message: string
}

/**
 * Says why no binary could be loaded: Linux only on other systems, the
 * package that does not exist for an unsupported architecture, the
 * package to install when none was there, or the loader's own error when
 * a binary was found but refused to load (too old a glibc, say).
 */
export function explainFailure(
  selection: Selection,
  attempts: readonly Attempt[],
): Failure {
  if (selection.kind === 'not-linux') {
    return {
      code: 'ERR_NETLINK_UNSUPPORTED_PLATFORM',
      message:
        'netlink-node runs on Linux only: netlink is a Linux kernel ' +
        `interface, and this is ${selection.platform}`,
    }
  }

  const refused = attempts.find((a) => !a.missing)
  if (refused !== undefined) {
    return {
      code: 'ERR_NETLINK_BINARY_NOT_LOADED',
      message:
        `netlink-node cannot load ${refused.from}: ` +
        firstLine(refused.error.message),
    }
  }

  if (selection.kind === 'no-target') {
    return {
      code: 'ERR_NETLINK_UNSUPPORTED_PLATFORM',
      message:
        'netlink-node has no prebuilt binary for this machine: there is ' +
        `no package ${selection.packageName}; build from source with ` +
        'cargo (see the README)',
    }
  }

  const names = selection.candidates.map((c) => c.packageName)
  return {
    code: 'ERR_NETLINK_BINARY_NOT_LOADED',
    message:
      `netlink-node needs the package ${names.join(' or ')}, which is ` +
      'not installed; reinstall without --omit=optional or ' +
      '--no-optional, on the machine that runs it',
  }
}

function firstLine(text: string): string {
  const end = text.indexOf('\n')
  return end === -1 ? text : text.slice(0, end)
}
