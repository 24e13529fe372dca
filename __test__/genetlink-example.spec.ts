/**
 * The generic netlink example, run on a namespace of its own: it lists
 * what the controller reports there.
 */
import { resolve } from 'node:path'
import { dialGeneric } from '../genetlink'
import { runScript } from './helpers/child'
import { kernelTest, uniqueName } from './helpers/netns'

const EXAMPLE = resolve(__dirname, '..', 'examples', 'genl-ctrl-list.js')

/** Runs the compiled example with `args`. */
function genlCtrlList(...args: string[]) {
  return runScript(`require(${JSON.stringify(EXAMPLE)})`, { args })
}

kernelTest(
  'genl-ctrl-list prints every family with its id and groups',
  async (t, ns) => {
    const genl = dialGeneric({ netns: ns })
    t.teardown(() => genl.close())
    const families = await genl.listFamilies()

    const r = await genlCtrlList('--netns', ns)

    t.is(r.code, 0, r.stderr)
    const headings = r.stdout.match(/^\S.*$/gm) ?? []
    t.deepEqual(
      headings.map((h) => h.split(':')[0]),
      families.map((f) => f.name),
    )
    for (const f of families) {
      const heading = headings.find((h) => h.startsWith(`${f.name}:`))
      t.true(heading?.includes(`id 0x${f.id.toString(16)}`), heading)
      for (const g of f.groups) {
        t.true(r.stdout.includes(`0x${g.id.toString(16)}: ${g.name}`))
      }
    }
  },
)

kernelTest(
  'genl-ctrl-list --policy prints the policies of the family named',
  async (t, ns) => {
    const r = await genlCtrlList('--netns', ns, '--policy', 'ethtool')

    t.is(r.code, 0, r.stderr)
    t.regex(r.stdout, /^ethtool: id 0x[0-9a-f]+/)
    t.regex(r.stdout, /^ {2}command 2: do: policy \d+/m)
    t.regex(r.stdout, /^ {4}attribute 2: nul-string, length at most \d+$/m)
  },
)

kernelTest(
  'genl-ctrl-list fails with one line and code 1 for an unknown family',
  async (t, ns) => {
    const name = uniqueName('nope')

    const r = await genlCtrlList('--netns', ns, name)

    t.is(r.code, 1)
    t.is(
      r.stderr,
      `genl-ctrl-list: getFamily ENOENT: no generic netlink family named` +
        ` ${name}\n`,
    )
  },
)
