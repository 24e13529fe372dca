/**
 * The package as a user gets it: `npm pack` of the main package and of
 * this machine's per-platform package, both installed into an empty
 * project with no network and no source checkout, then used from there.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import test from 'ava'

import { currentHost } from '../lib/loader/load'
import { selectBinary, type Candidate } from '../lib/loader/select'
import { kernelTest } from './helpers/netns'

const ROOT = join(__dirname, '..')

/** This machine's target, when `npm run build:native` has built it. */
function builtCandidate(): Candidate | undefined {
  const selection = selectBinary(currentHost())
  if (selection.kind !== 'candidates') return undefined
  return selection.candidates.find((c) => existsSync(join(ROOT, c.fileName)))
}

/** What `npm pack --json` says of one tarball. */
interface Packed {
  filename: string
  files: { path: string }[]
}

function npm(cwd: string, args: string[]): string {
  return execFileSync('npm', args, {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  })
}

function pack(dir: string, into: string, ignoreScripts: boolean): Packed {
  const args = ['pack', '--json', '--pack-destination', into]
  if (ignoreScripts) args.push('--ignore-scripts')
  const [packed] = JSON.parse(npm(dir, args)) as Packed[]
  return packed
}

/** What a child process printed, and how it ended. */
interface Ran {
  status: number | null
  stdout: string
  stderr: string
}

/** Runs this Node.js with `args` in `cwd`, `env` added to this one's. */
function node(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}): Ran {
  const { status, stdout, stderr } = spawnSync(process.execPath, args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, ...env },
  })
  return { status, stdout, stderr }
}

const candidate = builtCandidate()

if (candidate === undefined) {
  test.skip('packaging (skipped: no local build, npm run build)', () => {})
} else {
  registerPackagingTests(candidate)
}

function registerPackagingTests(built: Candidate): void {
  const work = mkdtempSync(join(tmpdir(), 'netlink-pack-'))
  const app = join(work, 'app')
  const bare = join(work, 'bare')
  const platform = join(work, built.packageName)
  let main: Packed
  let binary: Packed
  let installLog: string

  test.before(() => {
    // The main package, as `npm publish` would pack it.
    main = pack(ROOT, work, true)

    // The per-platform package with the binary built here.
    mkdirSync(platform)
    const source = join(ROOT, 'npm', built.target.suffix)
    for (const file of readdirSync(source)) {
      copyFileSync(join(source, file), join(platform, file))
    }
    copyFileSync(join(ROOT, built.fileName), join(platform, built.fileName))
    binary = pack(platform, work, false)

    // An empty project, and an empty cache: --offline then fails on
    // anything that is not in the two tarballs.
    installLog = installOffline(app, [main, binary])

    // One more without the platform package, as --omit=optional leaves it.
    installOffline(bare, [main])
  })

  function installOffline(dir: string, tarballs: Packed[]): string {
    mkdirSync(dir)
    writeFileSync(join(dir, 'package.json'), '{"private":true}\n')
    return npm(dir, [
      'install',
      '--offline',
      '--no-audit',
      '--no-fund',
      '--foreground-scripts',
      '--cache',
      join(work, 'cache'),
      ...tarballs.map((t) => join(work, t.filename)),
    ])
  }

  test.after.always(() => {
    rmSync(work, { recursive: true, force: true })
  })

  test('the main tarball holds built JS, types and ESM entries only', (t) => {
    const paths = main.files.map((f) => f.path)
    for (const wanted of [
      'package.json',
      'README.md',
      'LICENSE',
      'index.js',
      'index.d.ts',
      'binding.js',
      'binding.d.ts',
      'esm/index.mjs',
      'esm/index.d.mts',
      'lib/loader/load.js',
    ]) {
      t.true(paths.includes(wanted), `${wanted} is packed`)
    }

    const sources = paths.filter(
      (p) => p.endsWith('.ts') && !/\.d\.m?ts$/.test(p),
    )
    t.deepEqual(sources, [], 'no TypeScript sources')
    t.deepEqual(
      paths.filter((p) => p.endsWith('.node')),
      [],
      'no binary: it comes from the per-platform package',
    )
    t.deepEqual(
      paths.filter((p) => /^(crates|__test__|bench|target)\//.test(p)),
      [],
      'no Rust, tests or benchmarks',
    )
  })

  test('the platform tarball holds its binary and package.json', (t) => {
    const paths = binary.files.map((f) => f.path).sort()
    t.deepEqual(paths, ['README.md', built.fileName, 'package.json'].sort())
  })

  test('installing the tarballs offline runs no script of the package', (t) => {
    // --foreground-scripts prints "> name@version script" for each run.
    t.false(installLog.includes('> netlink-node@'), installLog)

    const installed = join(app, 'node_modules', 'netlink-node')
    const top = readdirSync(installed)
    t.false(top.includes('target'), 'nothing was compiled')
    t.deepEqual(
      top.filter((f) => f.endsWith('.node')),
      [],
    )
  })

  test("the installed package loads its platform package's binary", (t) => {
    const ran = node(app, ['-e', "require('netlink-node')"], {
      NODE_DEBUG: 'netlink',
    })
    t.is(ran.status, 0, ran.stderr)

    const file = join(app, 'node_modules', built.packageName, built.fileName)
    t.true(ran.stderr.includes(`native module ${file}`), ran.stderr)
  })

  test('without its platform package it names the package to install', (t) => {
    const ran = node(bare, ['-e', "require('netlink-node')"])
    t.not(ran.status, 0)
    t.true(ran.stderr.includes('ERR_NETLINK_BINARY_NOT_LOADED'), ran.stderr)
    t.true(ran.stderr.includes(`needs the package ${built.packageName}`))
  })

  for (const entry of ['', '/testing', '/genetlink', '/rtnetlink']) {
    const name = `netlink-node${entry}`
    test(`${name} loads as CommonJS and as an ES module alike`, (t) => {
      const keys = "Object.keys(m).filter((k) => k !== '__esModule')"
      const required = node(app, [
        '-e',
        `const m = require('${name}'); console.log(${keys}.sort().join())`,
      ])
      const imported = node(app, [
        '--input-type=module',
        '-e',
        `const m = await import('${name}'); ` +
          `console.log(${keys}.sort().join())`,
      ])

      t.is(required.status, 0, required.stderr)
      t.is(imported.status, 0, imported.stderr)
      t.not(required.stdout.trim(), '')
      t.is(imported.stdout, required.stdout)
    })
  }

  test('each entry point has types for import and for require', (t) => {
    const entries = ['', '/testing', '/genetlink', '/rtnetlink']
    const esm = entries.map(
      (e, i) => `import * as m${i} from 'netlink-node${e}'\n`,
    )
    const cjs = entries.map(
      (e, i) => `import m${i} = require('netlink-node${e}')\n`,
    )
    const use =
      'export const route: number = m0.Family.ROUTE\n' +
      'export const fake: Function = m1.dialFake\n'
    writeFileSync(join(app, 'check.mts'), esm.join('') + use)
    writeFileSync(join(app, 'check.cts'), cjs.join('') + use)
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'nodenext',
          strict: true,
          noEmit: true,
          // As tsc --init sets it: the check is that every entry point's
          // types resolve, not the declarations' own consistency.
          skipLibCheck: true,
          typeRoots: [join(ROOT, 'node_modules', '@types')],
          types: ['node'],
        },
        files: ['check.mts', 'check.cts'],
      }),
    )

    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')
    const ran = node(app, [tsc, '-p', 'tsconfig.json'])
    t.is(ran.status, 0, ran.stdout + ran.stderr)
  })

  kernelTest("the installed package lists its namespace's links", (t, ns) => {
    writeFileSync(join(app, 'links.js'), LIST_LINKS)
    const ran = node(app, ['links.js', ns])
    t.is(ran.status, 0, ran.stderr)
    t.deepEqual(JSON.parse(ran.stdout), ['lo'])
  })

  const objdump = spawnSync('objdump', ['--version']).status === 0
  const title = 'the binary needs no newer glibc than promised'
  if (!objdump) {
    test.skip(`${title} (skipped: no objdump here)`, () => {})
    return
  }
  test(title, (t) => {
    const symbols = execFileSync(
      'objdump',
      ['-T', join(ROOT, built.fileName)],
      { encoding: 'utf8' },
    )
    const needed = highestGlibc(symbols)
    if (built.target.libc === 'musl') {
      t.is(needed, undefined, 'a musl binary asks for no glibc symbol')
      return
    }

    // CI-built binaries (napi-rs's cross toolchain) are held to what the
    // README promises; a local build links against this machine's glibc,
    // so it is held to that.
    const promised = process.env.NETLINK_PREBUILT
      ? readmeGlibcFloor()
      : hostGlibc()
    t.log(`needs glibc ${needed}; promised ${promised}`)
    t.not(needed, undefined)
    t.true(
      compareVersions(needed!, promised) <= 0,
      `needs glibc ${needed}, newer than ${promised}`,
    )
  })
}

/**
 * A program run in the installed project: the links of the namespace
 * named by its argument, by name, as JSON.
 */
const LIST_LINKS = `
const { AttributeDecoder, Family, HeaderFlags, dial } = require('netlink-node')
const RTM_GETLINK = 18
const IFLA_IFNAME = 3

async function main() {
  const conn = dial(Family.ROUTE, { netns: process.argv[2] })
  try {
    const links = await conn.execute({
      header: { type: RTM_GETLINK, flags: HeaderFlags.Dump },
      data: Buffer.alloc(16),
    })
    const names = []
    for (const m of links) {
      const d = new AttributeDecoder(m.data.subarray(16))
      while (d.next()) if (d.type === IFLA_IFNAME) names.push(d.string())
    }
    console.log(JSON.stringify(names))
  } finally {
    await conn.close()
  }
}
main().catch((err) => {
  console.error(err)
  process.exitCode = 1
})
`

/** The highest `GLIBC_x.y` version in `objdump -T` output, if any. */
export function highestGlibc(objdumpOutput: string): string | undefined {
  const versions = [...objdumpOutput.matchAll(/GLIBC_(\d+(?:\.\d+)+)/g)]
  return versions
    .map((m) => m[1])
    .sort(compareVersions)
    .at(-1)
}

/** Orders dotted versions numerically: 2.3 comes before 2.17. */
export function compareVersions(a: string, b: string): number {
  const x = a.split('.').map(Number)
  const y = b.split('.').map(Number)
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0)
    if (d !== 0) return d
  }
  return 0
}

/** The glibc version the README promises prebuilt binaries need. */
function readmeGlibcFloor(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
  const match = /glibc (\d+\.\d+) or later/.exec(readme)
  if (match === null) throw new Error('the README promises no glibc floor')
  return match[1]
}

/** This machine's glibc version, from Node's diagnostic report. */
function hostGlibc(): string {
  const report = process.report?.getReport() as {
    header?: { glibcVersionRuntime?: string }
  }
  const version = report?.header?.glibcVersionRuntime
  if (version === undefined) throw new Error('this machine has no glibc')
  return version
}

test('glibc versions compare numerically', (t) => {
  t.true(compareVersions('2.17', '2.3') > 0)
  t.true(compareVersions('2.17', '2.17.1') < 0)
  t.is(compareVersions('2.27', '2.27'), 0)
})

test('the highest glibc version is read from objdump -T', (t) => {
  const output = [
    '0000 DF *UND* 0000 (GLIBC_2.2.5) memcpy',
    '0000 DF *UND* 0000 (GLIBC_2.17) clock_gettime',
    '0000 DF *UND* 0000 (GLIBC_2.3.2) pthread_cond_wait',
    '0000 DF *UND* 0000 (GCC_4.2.0) _Unwind_Resume',
  ].join('\n')
  t.is(highestGlibc(output), '2.17')
  t.is(highestGlibc('0000 DF *UND* 0000 free'), undefined)
})
