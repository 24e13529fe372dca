/**
 * check-workflow: the CI workflow cannot run on a developer's machine, so
 * this checks by reading that it agrees with the package. Every target in
 * package.json's `napi.targets` must have a build job with the right
 * toolchain, an npm/ package whose os, cpu and libc match, an optional
 * dependency, and an entry in the loader's table; the tests must run on
 * x64 and arm64 and in Alpine; publishing must happen on tags only, with
 * provenance; the glibc floors the builds check must be the README's;
 * and the package must run nothing at install.
 *
 *   node scripts/check-workflow.js   (after npm run build:test)
 *
 * Prints each problem found and exits 1, or prints nothing and exits 0.
 */
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'

import { TARGETS, type Target } from '../lib/loader/select'

/** What the check reads: parsed files, keyed as they are on disk. */
export interface Project {
  readonly packageJson: PackageJson
  /** npm/<dir>/package.json, by dir. */
  readonly npmPackages: Readonly<Record<string, PackageJson>>
  readonly workflow: Workflow
  /** The loader's table of targets. */
  readonly loaderTargets: readonly Target[]
  /** README.md, which promises the glibc floor the builds check. */
  readonly readme: string
}

/** The fields of a package.json the check reads. */
export interface PackageJson {
  name?: string
  version?: string
  main?: string
  files?: string[]
  os?: string[]
  cpu?: string[]
  libc?: string[]
  engines?: Record<string, string>
  scripts?: Record<string, string>
  exports?: Record<string, unknown>
  optionalDependencies?: Record<string, string>
  napi?: { binaryName?: string; targets?: string[] }
}

/** A GitHub Actions workflow, as far as the check reads it. */
export interface Workflow {
  on?: unknown
  jobs?: Record<string, Job>
}

/** One job of a workflow. */
export interface Job {
  'runs-on'?: string
  if?: string
  needs?: string | string[]
  permissions?: Record<string, string>
  strategy?: { matrix?: Record<string, unknown> }
  steps?: { run?: string; uses?: string }[]
}

/** The entry points the package exports, each as ESM and CommonJS. */
export const ENTRY_POINTS = ['.', './testing', './genetlink', './rtnetlink']

/** Lifecycle scripts npm runs when a package is installed. */
const INSTALL_SCRIPTS = ['preinstall', 'install', 'postinstall']

/** Node's `process.arch` for the first part of a Rust target triple. */
const RUST_ARCH: Record<string, string> = {
  x86_64: 'x64',
  aarch64: 'arm64',
  armv7: 'arm',
  riscv64gc: 'riscv64',
}

/**
 * What a Rust target triple means for npm: the napi-rs suffix
 * (`linux-arm-gnueabihf`), `cpu` and `libc`. Undefined for a triple that
 * is not Linux.
 */
export function describeTriple(
  triple: string,
): { suffix: string; cpu: string; libc: string } | undefined {
  const [rustArch, , os, abi] = triple.split('-')
  if (os !== 'linux' || abi === undefined) return undefined

  const cpu = RUST_ARCH[rustArch] ?? rustArch
  const libc = abi.startsWith('musl') ? 'musl' : 'glibc'
  return { suffix: `linux-${cpu}-${abi}`, cpu, libc }
}

/**
 * Checks `project` and returns one sentence per problem; an empty list
 * means the workflow, the npm/ packages and package.json agree.
 */
export function checkProject(project: Project): string[] {
  return [
    ...checkTargets(project),
    ...checkTests(project.workflow),
    ...checkPublish(project.workflow),
    ...checkPackage(project.packageJson),
    ...checkGlibcFloor(project),
  ]
}

/**
 * The README's promise (`glibc X or later`, the first such phrase) is
 * the floor of the glibc builds, and every other floor is named there.
 */
function checkGlibcFloor(project: Project): string[] {
  const promise = /glibc (\d+\.\d+) or later/.exec(project.readme)
  if (promise === null) return ['the README promises no glibc floor']

  const problems: string[] = []
  const floors = buildEntries(project.workflow)
    .map((b) => b.glibc)
    .filter((f): f is string => f !== undefined)
  if (!floors.includes(promise[1])) {
    problems.push(`no build checks the README's glibc ${promise[1]}`)
  }
  for (const floor of floors) {
    if (!project.readme.includes(floor)) {
      problems.push(`the README does not name the glibc floor ${floor}`)
    }
  }
  return problems
}

/** The build matrix: each entry's target and the flags it builds with. */
function buildEntries(
  workflow: Workflow,
): { target: string; flags: string; glibc?: string }[] {
  const settings = workflow.jobs?.build?.strategy?.matrix?.settings
  return Array.isArray(settings) ? settings : []
}

function checkTargets(project: Project): string[] {
  const problems: string[] = []
  const root = project.packageJson
  const targets = root.napi?.targets ?? []
  const builds = buildEntries(project.workflow)
  const binary = root.napi?.binaryName ?? 'netlink'
  if (targets.length === 0) problems.push('package.json has no napi.targets')

  for (const triple of targets) {
    const meaning = describeTriple(triple)
    if (meaning === undefined) {
      problems.push(`${triple}: not a Linux target`)
      continue
    }
    const { suffix, cpu, libc } = meaning
    const name = `${root.name}-${suffix}`

    // The build job, with napi-rs's glibc 2.17 toolchain or zig.
    const build = builds.find((b) => b.target === triple)
    if (build === undefined) {
      problems.push(`${triple}: no build job in the workflow`)
    } else if (libc === 'musl' && !/--cross-compile|-x\b/.test(build.flags)) {
      problems.push(`${triple}: a musl build must use zig (--cross-compile)`)
    } else if (libc === 'glibc' && build.glibc === undefined) {
      problems.push(`${triple}: the build states no glibc floor`)
    } else if (
      libc === 'glibc' &&
      !build.flags.includes('--use-napi-cross') &&
      !build.flags.includes('--cross-compile')
    ) {
      problems.push(`${triple}: a glibc build must use a cross toolchain`)
    }

    // The npm/ package and the optional dependency on it.
    const pkg = project.npmPackages[suffix]
    if (pkg === undefined) {
      problems.push(`${triple}: no package npm/${suffix}`)
    } else {
      const file = `${binary}.${suffix}.node`
      const want: [string, unknown, unknown][] = [
        ['name', pkg.name, name],
        ['version', pkg.version, root.version],
        ['os', pkg.os, ['linux']],
        ['cpu', pkg.cpu, [cpu]],
        ['libc', pkg.libc, [libc]],
        ['main', pkg.main, file],
        ['files', pkg.files, [file]],
      ]
      for (const [field, got, wanted] of want) {
        if (JSON.stringify(got) !== JSON.stringify(wanted)) {
          problems.push(
            `npm/${suffix}: ${field} is ${JSON.stringify(got)}, ` +
              `not ${JSON.stringify(wanted)}`,
          )
        }
      }
    }
    if (root.optionalDependencies?.[name] !== root.version) {
      problems.push(`${name} is not an optional dependency at the version`)
    }

    // The loader must know the target, with the same meaning.
    const known = project.loaderTargets.find((t) => t.triple === triple)
    if (
      known === undefined ||
      known.suffix !== suffix ||
      known.arch !== cpu ||
      known.libc !== libc
    ) {
      problems.push(`${triple}: the loader's table does not list it so`)
    }
  }

  // Nothing built or packaged that package.json does not name.
  for (const build of builds) {
    if (!targets.includes(build.target)) {
      problems.push(`build job for ${build.target}, not in napi.targets`)
    }
  }
  const suffixes = targets.map((t) => describeTriple(t)?.suffix)
  for (const dir of Object.keys(project.npmPackages)) {
    if (!suffixes.includes(dir)) {
      problems.push(`npm/${dir} is not a target in napi.targets`)
    }
  }
  for (const t of project.loaderTargets) {
    if (!targets.includes(t.triple)) {
      problems.push(`the loader lists ${t.triple}, not in napi.targets`)
    }
  }
  return problems
}

/** The targets a test job's matrix runs on, with their runners. */
function testPlatforms(job: Job | undefined): {
  runner: string
  target: string
}[] {
  const platforms = job?.strategy?.matrix?.platform
  return Array.isArray(platforms) ? platforms : []
}

function checkTests(workflow: Workflow): string[] {
  const problems: string[] = []
  const glibc = testPlatforms(workflow.jobs?.['test-glibc'])
  const musl = testPlatforms(workflow.jobs?.['test-musl'])
  const builds = buildEntries(workflow).map((b) => b.target)

  const wanted = [
    { list: glibc, runner: 'ubuntu-24.04', target: 'x86_64-unknown-linux-gnu' },
    {
      list: glibc,
      runner: 'ubuntu-24.04-arm',
      target: 'aarch64-unknown-linux-gnu',
    },
    { list: musl, runner: 'ubuntu-24.04', target: 'x86_64-unknown-linux-musl' },
    {
      list: musl,
      runner: 'ubuntu-24.04-arm',
      target: 'aarch64-unknown-linux-musl',
    },
  ]
  for (const { list, runner, target } of wanted) {
    if (!list.some((p) => p.runner === runner && p.target === target)) {
      problems.push(`no test of ${target} natively on ${runner}`)
    }
  }
  for (const { target } of [...glibc, ...musl]) {
    if (!builds.includes(target)) {
      problems.push(`a test job runs ${target}, which is not built`)
    }
  }

  const alpine = (workflow.jobs?.['test-musl']?.steps ?? [])
    .map((s) => s.run ?? '')
    .find((run) => run.includes('-alpine'))
  if (alpine === undefined) {
    problems.push('the musl tests do not run in an Alpine container')
  } else if (!alpine.includes('--privileged')) {
    problems.push('the Alpine container is not privileged (no netns tests)')
  }
  return problems
}

function checkPublish(workflow: Workflow): string[] {
  const problems: string[] = []
  const job = workflow.jobs?.publish
  if (job === undefined) return ['no publish job']

  if (!job.if?.includes("startsWith(github.ref, 'refs/tags/v')")) {
    problems.push('publish does not run on version tags only')
  }
  if (job.permissions?.['id-token'] !== 'write') {
    problems.push('publish lacks id-token: write (provenance)')
  }
  const needs = typeof job.needs === 'string' ? [job.needs] : (job.needs ?? [])
  for (const wanted of ['build', 'test-glibc', 'test-musl']) {
    if (!needs.includes(wanted)) {
      problems.push(`publish does not need ${wanted}`)
    }
  }
  const publishes = (job.steps ?? [])
    .map((s) => s.run ?? '')
    .flatMap((run) => run.split('\n'))
    .filter((line) => /\bnpm publish\b/.test(line))
  if (publishes.length === 0) problems.push('publish never runs npm publish')
  for (const line of publishes) {
    if (!line.includes('--provenance')) {
      problems.push(`npm publish without --provenance: ${line.trim()}`)
    }
  }
  return problems
}

function checkPackage(pkg: PackageJson): string[] {
  const problems: string[] = []
  for (const script of INSTALL_SCRIPTS) {
    if (pkg.scripts?.[script] !== undefined) {
      problems.push(`package.json has an install script: ${script}`)
    }
  }
  if (pkg.engines?.node === undefined) {
    problems.push('package.json declares no engines.node')
  }

  for (const entry of ENTRY_POINTS) {
    const conditions = pkg.exports?.[entry] as
      Record<string, Record<string, string>> | undefined
    for (const kind of ['import', 'require']) {
      const target = conditions?.[kind]
      if (target?.types === undefined || target.default === undefined) {
        problems.push(`exports["${entry}"].${kind} lacks types or default`)
      }
    }
  }
  return problems
}

/** Reads the project at `root` from disk. */
export function readProject(root: string): Project {
  const json = (path: string) =>
    JSON.parse(readFileSync(join(root, path), 'utf8')) as PackageJson

  const npmPackages: Record<string, PackageJson> = {}
  for (const dir of readdirSync(join(root, 'npm'))) {
    npmPackages[dir] = json(join('npm', dir, 'package.json'))
  }
  const workflowText = readFileSync(
    join(root, '.github', 'workflows', 'ci.yml'),
    'utf8',
  )
  return {
    packageJson: json('package.json'),
    npmPackages,
    workflow: parse(workflowText) as Workflow,
    loaderTargets: TARGETS,
    readme: readFileSync(join(root, 'README.md'), 'utf8'),
  }
}

if (require.main === module) {
  const problems = checkProject(readProject(join(__dirname, '..')))
  for (const problem of problems) console.error(problem)
  process.exitCode = problems.length === 0 ? 0 : 1
}
