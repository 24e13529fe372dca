import { join } from 'node:path'

import test from 'ava'

import {
  checkProject,
  describeTriple,
  readProject,
  type Project,
} from '../scripts/check-workflow'

const ROOT = join(__dirname, '..')

/** A copy of the real project that a test may change. */
function project(): Project {
  return structuredClone(readProject(ROOT))
}

function buildSettings(p: Project): { target: string; flags: string }[] {
  return p.workflow.jobs!.build.strategy!.matrix!.settings as {
    target: string
    flags: string
  }[]
}

test('the workflow, the npm/ packages and package.json agree', (t) => {
  t.deepEqual(checkProject(readProject(ROOT)), [])
})

const triples = [
  ['x86_64-unknown-linux-gnu', 'linux-x64-gnu', 'x64', 'glibc'],
  ['armv7-unknown-linux-gnueabihf', 'linux-arm-gnueabihf', 'arm', 'glibc'],
  ['aarch64-unknown-linux-musl', 'linux-arm64-musl', 'arm64', 'musl'],
  ['riscv64gc-unknown-linux-gnu', 'linux-riscv64-gnu', 'riscv64', 'glibc'],
] as const

for (const [triple, suffix, cpu, libc] of triples) {
  test(`${triple} is packaged as ${suffix}`, (t) => {
    t.deepEqual(describeTriple(triple), { suffix, cpu, libc })
  })
}

test('a target without a build job is reported', (t) => {
  const p = project()
  const settings = buildSettings(p)
  settings.splice(
    settings.findIndex((s) => s.target === 'aarch64-unknown-linux-musl'),
    1,
  )
  t.true(
    checkProject(p).includes(
      'aarch64-unknown-linux-musl: no build job in the workflow',
    ),
  )
})

test('a musl target built without zig is reported', (t) => {
  const p = project()
  const musl = buildSettings(p).find(
    (s) => s.target === 'x86_64-unknown-linux-musl',
  )!
  musl.flags = ''
  t.true(
    checkProject(p).includes(
      'x86_64-unknown-linux-musl: a musl build must use zig (--cross-compile)',
    ),
  )
})

test('an npm/ package with the wrong libc is reported', (t) => {
  const p = project()
  ;(p.npmPackages as Record<string, { libc?: string[] }>)[
    'linux-arm-gnueabihf'
  ].libc = ['musl']
  t.true(
    checkProject(p).includes(
      'npm/linux-arm-gnueabihf: libc is ["musl"], not ["glibc"]',
    ),
  )
})

test('a target without an npm/ package is reported', (t) => {
  const p = project()
  delete (p.npmPackages as Record<string, unknown>)['linux-riscv64-gnu']
  t.true(
    checkProject(p).includes(
      'riscv64gc-unknown-linux-gnu: no package npm/linux-riscv64-gnu',
    ),
  )
})

test('a platform package not in optionalDependencies is reported', (t) => {
  const p = project()
  delete p.packageJson.optionalDependencies!['netlink-node-linux-x64-musl']
  t.true(
    checkProject(p).includes(
      'netlink-node-linux-x64-musl is not an optional dependency at the ' +
        'version',
    ),
  )
})

test('a target the loader does not know is reported', (t) => {
  const p = { ...project(), loaderTargets: [] }
  t.true(
    checkProject(p).includes(
      "x86_64-unknown-linux-gnu: the loader's table does not list it so",
    ),
  )
})

test('an Alpine container that is not privileged is reported', (t) => {
  const p = project()
  for (const step of p.workflow.jobs!['test-musl'].steps!) {
    if (step.run) step.run = step.run.replace('--privileged', '')
  }
  t.true(
    checkProject(p).includes(
      'the Alpine container is not privileged (no netns tests)',
    ),
  )
})

test('no arm64 test runner is reported', (t) => {
  const p = project()
  const matrix = p.workflow.jobs!['test-glibc'].strategy!.matrix!
  matrix.platform = (matrix.platform as { runner: string }[]).filter(
    (x) => x.runner !== 'ubuntu-24.04-arm',
  )
  t.true(
    checkProject(p).includes(
      'no test of aarch64-unknown-linux-gnu natively on ubuntu-24.04-arm',
    ),
  )
})

test('npm publish without provenance is reported', (t) => {
  const p = project()
  for (const step of p.workflow.jobs!.publish.steps!) {
    if (step.run) step.run = step.run.replaceAll(' --provenance', '')
  }
  const problems = checkProject(p)
  t.true(problems.some((x) => x.startsWith('npm publish without')))
})

test('publishing without id-token: write is reported', (t) => {
  const p = project()
  delete p.workflow.jobs!.publish.permissions!['id-token']
  t.true(checkProject(p).includes('publish lacks id-token: write (provenance)'))
})

test('an install script is reported', (t) => {
  const p = project()
  p.packageJson.scripts = { ...p.packageJson.scripts, postinstall: 'x' }
  t.true(
    checkProject(p).includes('package.json has an install script: postinstall'),
  )
})

test('an entry point without types is reported', (t) => {
  const p = project()
  const exports = p.packageJson.exports as Record<
    string,
    Record<string, Record<string, string>>
  >
  delete exports['./genetlink'].import.types
  t.true(
    checkProject(p).includes(
      'exports["./genetlink"].import lacks types or default',
    ),
  )
})

test('a glibc floor the README does not promise is reported', (t) => {
  const p = project()
  const riscv = buildSettings(p).find((s) => s.target.startsWith('riscv64'))
  ;(riscv as { glibc?: string }).glibc = '2.31'
  t.true(
    checkProject(p).includes('the README does not name the glibc floor 2.31'),
  )
})

test('a README without a glibc promise is reported', (t) => {
  const p = { ...project(), readme: '# netlink-node\n' }
  t.true(checkProject(p).includes('the README promises no glibc floor'))
})
