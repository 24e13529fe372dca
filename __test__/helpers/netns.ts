/**
 * Network namespaces for kernel tests. Every test that talks to the kernel
 * gets a namespace of its own, so it never sees or changes the host's
 * interfaces, and tests in one file can run at the same time.
 */
import { execFile, execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readdirSync } from 'node:fs'
import { promisify } from 'node:util'
import test, { type ExecutionContext } from 'ava'

const execFileAsync = promisify(execFile)

/** Where `ip netns add` mounts a namespace. */
export const NETNS_DIR = '/var/run/netns'

/** Namespaces this process created and has not deleted yet. */
const created = new Set<string>()

/** Why kernel tests cannot run here, or undefined when they can. */
let unavailable: string | undefined
let probed = false

/** Returns a name no other test or run is using: `nlt-` and 8 hex digits. */
export function uniqueName(prefix = 'nlt-'): string {
  return prefix + randomBytes(4).toString('hex')
}

/**
 * Runs `ip` with `args` and returns what it printed. Throws with `ip`'s
 * own message when it fails.
 */
export function ip(args: string[], input?: string): string {
  try {
    return execFileSync('ip', args, {
      input,
      encoding: 'utf8',
      stdio: ['pipe', 'pipe', 'pipe'],
    })
  } catch (err) {
    throw ipError(args, err)
  }
}

/** Runs `ip -n ns args...`. */
export function ipIn(ns: string, ...args: string[]): string {
  return ip(['-n', ns, ...args])
}

/** Runs each line of `lines` as one `ip -n ns -batch -` command. */
export function ipBatch(ns: string, lines: string[]): void {
  ip(['-n', ns, '-batch', '-'], lines.join('\n') + '\n')
}

/**
 * Like `ipBatch`, but in the background: the event loop keeps running
 * while `ip` works through the lines.
 */
export async function ipBatchAsync(ns: string, lines: string[]): Promise<void> {
  const args = ['-n', ns, '-batch', '-']
  const child = execFileAsync('ip', args, { maxBuffer: 1 << 24 })

  child.child.stdin?.end(lines.join('\n') + '\n')
  try {
    await child
  } catch (err) {
    throw ipError(args, err)
  }
}

function ipError(args: string[], err: unknown): Error {
  const stderr = (err as { stderr?: Buffer | string }).stderr
  const detail = String(stderr ?? '').trim() || String(err)

  return new Error(`ip ${args.join(' ')}: ${detail}`)
}

/**
 * Creates a namespace with a unique name and returns the name. A kernel
 * test deletes its namespace when it ends; whatever is left is deleted
 * after the file's last test. The name carries this process's ID, so
 * that a later run can tell the leftovers of a killed one.
 */
export function createNetns(): string {
  const name = uniqueName(`nlt-${process.pid}-`)

  ip(['netns', 'add', name])
  created.add(name)
  return name
}

/** Deletes a namespace made by `createNetns`, with every link in it. */
export function deleteNetns(name: string): void {
  if (!created.delete(name)) {
    return
  }
  ip(['netns', 'delete', name])
}

function deleteAll(): void {
  for (const name of [...created]) {
    try {
      deleteNetns(name)
    } catch {
      // One that cannot be deleted must not keep the others.
    }
  }
}

test.after.always('delete the namespaces this file created', deleteAll)

/**
 * Deletes namespaces left by test processes that no longer exist: ava
 * kills a test file that times out before its after hooks run.
 */
function deleteLeftovers(): void {
  let names: string[]
  try {
    names = readdirSync(NETNS_DIR)
  } catch {
    return
  }

  for (const name of names) {
    const pid = /^nlt-(\d+)-[0-9a-f]{8}$/.exec(name)?.[1]
    if (pid !== undefined && !isRunning(Number(pid))) {
      ip(['netns', 'delete', name])
    }
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH'
  }
}

/**
 * Tells whether kernel tests can run here. They need root (to create a
 * namespace) and the `ip` command; the reason says which is missing.
 */
export function canUseKernel(): { ok: boolean; reason?: string } {
  if (!probed) {
    probed = true
    unavailable = probeKernel()
  }
  return unavailable === undefined
    ? { ok: true }
    : { ok: false, reason: unavailable }
}

function probeKernel(): string | undefined {
  if (process.platform !== 'linux') {
    return 'netlink exists only on Linux'
  }
  if (process.getuid?.() !== 0) {
    return 'creating a network namespace needs root'
  }
  try {
    execFileSync('ip', ['-V'], { stdio: 'ignore' })
  } catch {
    return 'the ip command (iproute2) is not installed'
  }
  try {
    deleteLeftovers()
    deleteNetns(createNetns())
  } catch (err) {
    return `cannot create a network namespace: ${(err as Error).message}`
  }
  return undefined
}

/**
 * Tells whether `ip -n NS args...` succeeds in a fresh namespace, for
 * features an older kernel or iproute2 lacks. Returns the reason it
 * does not, or undefined.
 */
export function probeIp(...args: string[]): string | undefined {
  const kernel = canUseKernel()
  if (!kernel.ok) {
    return kernel.reason
  }

  const ns = createNetns()
  try {
    ipIn(ns, ...args)
    return undefined
  } catch (err) {
    return `\`ip ${args.join(' ')}\` fails here: ${(err as Error).message}`
  } finally {
    deleteNetns(ns)
  }
}

/** The body of a kernel test: its context and the namespace it owns. */
export type KernelImpl = (
  t: ExecutionContext,
  ns: string,
) => void | Promise<void>

function register(title: string, impl: KernelImpl, reason?: string): void {
  const why = reason ?? canUseKernel().reason
  if (why !== undefined) {
    test.skip(`${title} (skipped: ${why})`, (t) => t.pass())
    return
  }

  test(title, async (t) => {
    const ns = createNetns()
    t.teardown(() => deleteNetns(ns))
    await impl(t, ns)
  })
}

/**
 * Registers a test that runs against the kernel in a namespace of its
 * own, or a skipped test whose title gives the reason when kernel tests
 * cannot run here.
 */
export function kernelTest(title: string, impl: KernelImpl): void {
  register(title, impl)
}

/**
 * `kernelTest` for a test that also needs a feature: `reason`, when
 * given, is why the feature is missing and the test is skipped.
 */
kernelTest.requiring = (
  reason: string | undefined,
  title: string,
  impl: KernelImpl,
): void => {
  register(title, impl, reason)
}
