/**
 * Runs one tool's work in a child process inside the benchmark's
 * namespace (`ip netns exec`) and reads its figures: the native baseline
 * directly, the Node.js tools through `worker.js`. A child that crashes,
 * fails or overstays its time is that tool's failure, reported with the
 * reason.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import { createInterface } from 'node:readline'

import type { Namespace } from './namespace'

/** A run's figures, or why there are none. */
export type Outcome<T> =
  { ok: true; figures: T | null } | { ok: false; reason: string }

/** The tools, by the names the table shows. */
export const TOOLS = ['baseline', 'library', 'npm-netlink'] as const
export type ToolName = (typeof TOOLS)[number]

/** Longest a single run may take. */
const RUN_TIMEOUT_MS = 120_000

const WORKER = join(__dirname, 'worker.js')

/** What the baseline binary calls each piece of work. */
const NATIVE_WORK: Record<string, string | undefined> = {
  routes: 'routes',
  'first-routes': 'routes',
  links: 'links',
  execute: 'execute',
  listen: 'listen',
}

/** Starts the child that does `work` with `tool`, or undefined. */
function start(
  ns: Namespace,
  baseline: string,
  tool: ToolName,
  work: string,
  count: number,
): ChildProcess | undefined {
  let command: string[]
  if (tool === 'baseline') {
    const native = NATIVE_WORK[work]
    if (native === undefined) return undefined
    command = [baseline, native, String(count)]
  } else {
    command = workerCommand(tool, work, count)
  }
  return spawnIn(ns, command)
}

/** `worker.js` doing `work` with `tool` (or `idle`). */
function workerCommand(tool: string, work: string, count: number): string[] {
  return [process.execPath, '--expose-gc', WORKER, tool, work, String(count)]
}

function spawnIn(ns: Namespace, command: string[]): ChildProcess {
  return spawn('ip', ['netns', 'exec', ns.name, ...command], {
    stdio: ['pipe', 'pipe', 'pipe'],
  })
}

/** Runs the idle process (`worker.js idle`) for `ms` milliseconds. */
export function runIdle<T>(ns: Namespace, ms: number): Promise<Outcome<T>> {
  const child = spawnIn(ns, workerCommand('idle', 'quiet', ms))
  child.stdin?.end()
  return finish<T>(child)
}

/** Runs the idle process while `burst` makes the burst. */
export function runIdleDuring<T>(
  ns: Namespace,
  burst: () => Promise<void>,
): Promise<Outcome<T>> {
  const child = spawnIn(ns, workerCommand('idle', 'burst', 0))
  return throughBursts<T>(child, [burst])
}

/** Runs `work` with `tool` and returns its figures. */
export function runWork<T>(
  ns: Namespace,
  baseline: string,
  tool: ToolName,
  work: string,
  count: number,
): Promise<Outcome<T>> {
  const child = start(ns, baseline, tool, work, count)
  if (child === undefined) {
    return Promise.resolve({ ok: true, figures: null })
  }
  child.stdin?.end()
  return finish<T>(child)
}

/**
 * Runs a listener with `tool` through `bursts`, each made once the
 * listener says it is ready, and returns its figures.
 */
export function runListener<T>(
  ns: Namespace,
  baseline: string,
  tool: ToolName,
  expected: number,
  bursts: (() => Promise<void>)[],
): Promise<Outcome<T>> {
  const child = start(ns, baseline, tool, 'listen', expected)
  if (child === undefined) {
    return Promise.resolve({ ok: true, figures: null })
  }
  return throughBursts<T>(child, bursts)
}

/**
 * Makes each of `bursts` once `child` says it is ready for it, up to the
 * first it does not wait for, and returns the child's figures.
 */
async function throughBursts<T>(
  child: ChildProcess,
  bursts: (() => Promise<void>)[],
): Promise<Outcome<T>> {
  const finished = finish<T>(child)
  const said = lines(child)
  for (const burst of bursts) {
    if (!(await burstWhenReady(child, said, burst))) break
  }
  child.stdin?.end()
  return finished
}

/**
 * Waits for `child` to say it is ready, makes the burst with `burst` and
 * tells the child it was sent; false when the child ended first.
 */
async function burstWhenReady(
  child: ChildProcess,
  said: (line: string) => Promise<boolean>,
  burst: () => Promise<void>,
): Promise<boolean> {
  if (!(await said('ready'))) return false
  try {
    await burst()
  } finally {
    child.stdin?.write('sent\n')
  }
  return true
}

/**
 * Follows what `child` prints: the function returned resolves true once
 * the child printed a line that is `line`, after the lines already waited
 * for, and false when it ends without. One wait at a time.
 */
function lines(child: ChildProcess): (line: string) => Promise<boolean> {
  const printed = child.stdout
    ? createInterface({ input: child.stdout })[Symbol.asyncIterator]()
    : undefined
  return async (line) => {
    for (;;) {
      const next = await printed?.next()
      if (next === undefined || next.done) return false
      if (next.value === line) return true
    }
  }
}

function finish<T>(child: ChildProcess): Promise<Outcome<T>> {
  let stdout = ''
  let stderr = ''
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  child.stdin?.on('error', () => {})
  const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS)

  return new Promise((resolve) => {
    child.once('close', (code, signal) => {
      clearTimeout(timer)
      if (signal !== null) {
        resolve({ ok: false, reason: `killed by ${signal}` })
        return
      }
      if (code !== 0) {
        const why = firstLine(stderr) || `exit code ${code}`
        resolve({ ok: false, reason: why })
        return
      }
      try {
        resolve({ ok: true, figures: JSON.parse(lastLine(stdout)) as T })
      } catch {
        resolve({ ok: false, reason: 'printed no figures' })
      }
    })
  })
}

function firstLine(text: string): string {
  return text.trim().split('\n')[0] ?? ''
}

function lastLine(text: string): string {
  const lines = text.trim().split('\n')
  return lines[lines.length - 1] ?? ''
}
