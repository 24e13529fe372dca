/**
 * genl-ctrl-list: lists the generic netlink families the kernel has,
 * with their ids, versions, commands and multicast groups, as iproute2's
 * `genl ctrl list` does; with --policy, each command's attribute
 * policies too.
 *
 *   node examples/genl-ctrl-list.js [--netns NAME] [--policy] [FAMILY...]
 *
 * --netns NAME  list the families of the network namespace NAME
 * --policy      print the attribute policies of each family listed
 * FAMILY...     list only these families (by name)
 */
import { parseArgs } from 'node:util'
import {
  dialGeneric,
  formatPolicy,
  type GenericConn,
  type GenericFamily,
  type GenericOperation,
} from '../genetlink'

interface Options {
  netns?: string
  policy: boolean
  names: string[]
}

async function main(options: Options): Promise<void> {
  const genl = dialGeneric({ netns: options.netns })
  try {
    const families =
      options.names.length === 0
        ? await genl.listFamilies()
        : await Promise.all(options.names.map((n) => genl.getFamily(n)))

    for (const family of families) {
      console.log(describe(family))
      if (options.policy) console.log(await policyOf(genl, family))
      console.log()
    }
  } finally {
    await genl.close()
  }
}

/** A family as a heading and indented lines of commands and groups. */
function describe(f: GenericFamily): string {
  const hex = (n: number) => `0x${n.toString(16)}`
  const lines = [
    `${f.name}: id ${hex(f.id)}, version ${f.version},` +
      ` header size ${f.headerSize}, max attribute ${f.maxAttribute}`,
  ]
  if (f.operations.length > 0) {
    lines.push('  commands:')
    for (const op of f.operations) {
      lines.push(`    ${hex(op.command)}: ${capabilities(op)}`)
    }
  }
  if (f.groups.length > 0) {
    lines.push('  multicast groups:')
    for (const g of f.groups) lines.push(`    ${hex(g.id)}: ${g.name}`)
  }
  return lines.join('\n')
}

function capabilities(op: GenericOperation): string {
  const can: string[] = []
  if (op.do) can.push('do')
  if (op.dump) can.push('dump')
  if (op.hasPolicy) can.push('has policy')
  if (op.adminOnly) can.push('admin only')
  if (op.namespaceAdminOnly) can.push('namespace admin only')
  return can.length === 0 ? '-' : can.join(', ')
}

/** The family's policies, indented; a family may have none to show. */
async function policyOf(
  genl: GenericConn,
  family: GenericFamily,
): Promise<string> {
  try {
    const text = formatPolicy(await genl.getPolicy(family.id))
    return text.replace(/^/gm, '  ')
  } catch (err) {
    return `  no policy: ${err instanceof Error ? err.message : err}`
  }
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    netns: { type: 'string' },
    policy: { type: 'boolean', default: false },
  },
})
main({ ...values, names: positionals } as Options).then(
  () => process.exit(0),
  (err: unknown) => {
    const message = err instanceof Error ? err.message : String(err)
    console.error(`genl-ctrl-list: ${message}`)
    process.exit(1)
  },
)
