/**
 * Loads the native module. In a source checkout a local build
 * (`netlink.<suffix>.node` at the package's root, from `npm run
 * build:native`) comes first; an installed package carries no such file
 * and loads its binary from the per-platform package npm installed as an
 * optional dependency.
 */
import { existsSync } from 'node:fs'
import { isAbsolute, join } from 'node:path'
import { debuglog } from 'node:util'

import { detectLibc } from './libc'
import {
  explainFailure,
  selectBinary,
  type Attempt,
  type Host,
  type Selection,
} from './select'

const log = debuglog('netlink')

/** The package's root: this file is lib/loader/load.js below it. */
const ROOT = join(__dirname, '..', '..')

/**
 * The facts about this process that choose a binary. The C library is
 * only looked for on Linux, where it matters.
 */
export function currentHost(): Host {
  const platform = process.platform
  const libc = platform === 'linux' ? detectLibc() : undefined
  return { platform, arch: process.arch, libc }
}

/**
 * Loads and returns the native module for this machine. Called once, when
 * `binding.js` is first required; Node's module cache keeps the result.
 * Throws one `Error` with `code` `ERR_NETLINK_UNSUPPORTED_PLATFORM` or
 * `ERR_NETLINK_BINARY_NOT_LOADED` and the underlying errors as `cause`.
 */
export function loadNative(host: Host = currentHost()): unknown {
  const selection = selectBinary(host)
  const attempts: Attempt[] = []

  for (const specifier of specifiers(selection)) {
    if (isAbsolute(specifier) && !existsSync(specifier)) continue
    const loaded = tryRequire(specifier, attempts)
    if (loaded !== undefined) return loaded
  }

  const failure = explainFailure(selection, attempts)
  const causes = attempts.map((a) => a.error)
  const cause = causes.length === 1 ? causes[0] : new AggregateError(causes)
  const err = new Error(
    failure.message,
    causes.length === 0 ? undefined : { cause },
  )
  throw Object.assign(err, { code: failure.code })
}

/**
 * What to require, in order: for each candidate a local build, then its
 * package. On a machine with no prebuilt binary only a build from source
 * can serve.
 */
function specifiers(selection: Selection): string[] {
  switch (selection.kind) {
    case 'candidates':
      return selection.candidates.flatMap((c) => [
        join(ROOT, c.fileName),
        c.packageName,
      ])
    case 'no-target':
      return [join(ROOT, selection.fileName)]
    case 'not-linux':
      return []
  }
}

/**
 * Requires `specifier`; on failure records why and returns undefined. A
 * package that is not installed is `missing`; a binary that is there but
 * fails to load (wrong libc, too old a glibc) is not.
 */
function tryRequire(specifier: string, attempts: Attempt[]): unknown {
  try {
    const native: unknown = require(specifier)
    log('native module %s', require.resolve(specifier))
    return native
  } catch (thrown) {
    const error = thrown instanceof Error ? thrown : new Error(String(thrown))
    const code = (error as NodeJS.ErrnoException).code
    const missing =
      code === 'MODULE_NOT_FOUND' && error.message.includes(specifier)
    attempts.push({ from: specifier, missing, error })
    return undefined
  }
}
