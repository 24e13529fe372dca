/**
 * Child Node.js processes for what a test cannot see from inside its
 * own process: whether the process exits, and what an unprivileged user
 * is allowed.
 */
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

/** The package's compiled entry point, for children to require. */
export const PACKAGE = resolve(__dirname, '..', '..', 'index.js')

/** What a child process did. */
export interface ChildResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

export interface ChildOptions {
  /** Arguments after the script's path. */
  args?: string[]
  /** Run the child inside this namespace (`ip netns exec`). */
  netns?: string
  /** Kill the child after this many milliseconds; it must not hang. */
  killAfter?: number
  /** Options for Node.js itself, before the script (`--expose-gc`). */
  nodeArgs?: string[]
  /** Variables added to the child's environment. */
  env?: Record<string, string>
}

/**
 * Writes `source` (CommonJS) to a temporary file, runs it with this
 * Node.js binary and resolves with how it ended. A child that is still
 * running after `killAfter` is killed, so a hang fails the test instead
 * of stalling it.
 */
export async function runScript(
  source: string,
  options: ChildOptions = {},
): Promise<ChildResult> {
  const dir = mkdtempSync(join(tmpdir(), 'nlt-'))
  const file = join(dir, 'child.cjs')
  writeFileSync(file, source)

  const node = [
    process.execPath,
    ...(options.nodeArgs ?? []),
    file,
    ...(options.args ?? []),
  ]
  const argv = options.netns
    ? ['ip', 'netns', 'exec', options.netns, ...node]
    : node
  const env = { ...process.env, ...options.env }
  try {
    return await run(argv, options.killAfter ?? 60_000, env)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

function run(
  argv: string[],
  killAfter: number,
  env: NodeJS.ProcessEnv,
): Promise<ChildResult> {
  return new Promise((done) => {
    execFile(
      argv[0],
      argv.slice(1),
      { timeout: killAfter, killSignal: 'SIGKILL', env, maxBuffer: 1 << 24 },
      (err, stdout, stderr) => {
        const e = err as (Error & { code?: unknown; signal?: string }) | null
        done({
          code: e === null ? 0 : typeof e.code === 'number' ? e.code : null,
          signal: (e?.signal as NodeJS.Signals | undefined) ?? null,
          stdout: String(stdout),
          stderr: String(stderr),
        })
      },
    )
  })
}
