import { AttributeDecoder } from '../attribute'
import * as check from '../validate'
import {
  CTRL_ATTR_OP_POLICY,
  CTRL_ATTR_POLICY,
  CTRL_ATTR_POLICY_DO,
  CTRL_ATTR_POLICY_DUMP,
  NL_POLICY_TYPE_ATTR_BITFIELD32_MASK,
  NL_POLICY_TYPE_ATTR_MASK,
  NL_POLICY_TYPE_ATTR_MAX_LENGTH,
  NL_POLICY_TYPE_ATTR_MAX_VALUE_S,
  NL_POLICY_TYPE_ATTR_MAX_VALUE_U,
  NL_POLICY_TYPE_ATTR_MIN_LENGTH,
  NL_POLICY_TYPE_ATTR_MIN_VALUE_S,
  NL_POLICY_TYPE_ATTR_MIN_VALUE_U,
  NL_POLICY_TYPE_ATTR_POLICY_IDX,
  NL_POLICY_TYPE_ATTR_POLICY_MAXTYPE,
  NL_POLICY_TYPE_ATTR_TYPE,
} from './constants'
import { GenericError } from './errors'
import type { GenericMessage } from './header'

/**
 * The names of `NL_ATTR_TYPE_*` values, indexed by value, as the kernel's
 * own family specifications spell them.
 */
export const ATTRIBUTE_TYPE_NAMES: readonly string[] = Object.freeze([
  'invalid',
  'flag',
  'u8',
  'u16',
  'u32',
  'u64',
  's8',
  's16',
  's32',
  's64',
  'binary',
  'string',
  'nul-string',
  'nested',
  'nested-array',
  'bitfield32',
  'sint',
  'uint',
])

/**
 * What a policy allows for one attribute type: the kind of value and
 * the limits the kernel checks. Limits the kernel did not send are left
 * out. Plain data.
 */
export interface AttributePolicy {
  /** The attribute type the entry is for. */
  attribute: number
  /** The kind of value (`NL_ATTR_TYPE_*`). */
  type: number
  /** `type` by name (`'u32'`, `'nested'`); `'type N'` when unknown. */
  typeName: string
  /** Smallest value allowed, for integers. */
  minValue?: bigint
  /** Largest value allowed, for integers. */
  maxValue?: bigint
  /** Shortest value allowed in bytes, for binary data and strings. */
  minLength?: number
  /** Longest value allowed in bytes, for binary data and strings. */
  maxLength?: number
  /** Index of the policy for the contents of a nest. */
  policy?: number
  /** Highest attribute type that nested policy knows. */
  policyMaxType?: number
  /** The bits a `bitfield32` may select. */
  bitfield32Mask?: number
  /** The bits an unsigned integer may have set. */
  mask?: bigint
  /** All of it in a few words: `'u8, 0..3'`, `'nested, policy 2'`. */
  description: string
}

/** One policy: the entries for the attribute types it knows. */
export interface PolicyTable {
  /** The policy's index in this dump; nests refer to it. */
  index: number
  /** Entries by attribute type, ascending. */
  attributes: AttributePolicy[]
}

/** The policies one command checks its requests against. */
export interface OperationPolicy {
  command: number
  /** Index of the policy for a single request, when it has one. */
  do?: number
  /** Index of the policy for a dump request, when it has one. */
  dump?: number
}

/**
 * A family's attribute policies as `CTRL_CMD_GETPOLICY` dumps them. The
 * indexes are this dump's own: another dump may number the same policy
 * differently.
 */
export interface GenericPolicy {
  /** The family's id. */
  family: number
  /** The commands dumped and the policies they use, ascending. */
  operations: OperationPolicy[]
  /** The policies by index, ascending. */
  policies: PolicyTable[]
}

/**
 * Puts together the messages of a policy dump. Throws a `GenericError`
 * for a malformed attribute or an entry without its type.
 */
export function parsePolicy(
  familyId: number,
  messages: readonly GenericMessage[],
): GenericPolicy {
  check.integer('familyId', familyId, 0, 0xffff)
  if (!Array.isArray(messages)) {
    const got = check.describe(messages)
    throw check.typeError(`messages must be an array, got ${got}`)
  }
  messages.forEach((m, i) => {
    const message = check.optionalObject(`messages[${i}]`, m)
    check.bytes(`messages[${i}].data`, message.data)
  })

  const operations = new Map<number, OperationPolicy>()
  const tables = new Map<number, Map<number, AttributePolicy>>()

  for (const m of messages) {
    const d = new AttributeDecoder(m.data)
    while (d.next()) {
      if (d.type === CTRL_ATTR_OP_POLICY) {
        d.nested((n) => readOperations(n, operations))
      } else if (d.type === CTRL_ATTR_POLICY) {
        d.nested((n) => readTables(n, tables))
      }
    }
    if (d.err !== null) {
      throw new GenericError(`policy of family ${familyId}: ${d.err.message}`, {
        cause: d.err,
      })
    }
  }

  const attributes = (table: Map<number, AttributePolicy>) =>
    ascending(table).map((a) => table.get(a)!)
  return {
    family: familyId,
    operations: ascending(operations).map((c) => operations.get(c)!),
    policies: ascending(tables).map((index) => ({
      index,
      attributes: attributes(tables.get(index)!),
    })),
  }
}

function ascending(map: Map<number, unknown>): number[] {
  return [...map.keys()].sort((a, b) => a - b)
}

/** Reads `CTRL_ATTR_OP_POLICY`: a nest per command with its indexes. */
function readOperations(
  d: AttributeDecoder,
  into: Map<number, OperationPolicy>,
): void {
  while (d.next()) {
    const entry = into.get(d.type) ?? { command: d.type }
    d.nested((n) => {
      while (n.next()) {
        if (n.type === CTRL_ATTR_POLICY_DO) entry.do = n.uint32()
        if (n.type === CTRL_ATTR_POLICY_DUMP) entry.dump = n.uint32()
      }
    })
    into.set(entry.command, entry)
  }
}

/** Reads `CTRL_ATTR_POLICY`: policy index, then attribute, then limits. */
function readTables(
  d: AttributeDecoder,
  into: Map<number, Map<number, AttributePolicy>>,
): void {
  while (d.next()) {
    const table = into.get(d.type) ?? new Map<number, AttributePolicy>()
    into.set(d.type, table)
    d.nested((n) => {
      while (n.next()) {
        const attribute = n.type
        n.nested((limits) => table.set(attribute, readEntry(attribute, limits)))
      }
    })
  }
}

function readEntry(attribute: number, d: AttributeDecoder): AttributePolicy {
  let type: number | undefined
  const entry: Partial<AttributePolicy> = {}
  while (d.next()) {
    switch (d.type) {
      case NL_POLICY_TYPE_ATTR_TYPE:
        type = d.uint32()
        break
      case NL_POLICY_TYPE_ATTR_MIN_VALUE_S:
        entry.minValue = d.int64()
        break
      case NL_POLICY_TYPE_ATTR_MAX_VALUE_S:
        entry.maxValue = d.int64()
        break
      case NL_POLICY_TYPE_ATTR_MIN_VALUE_U:
        entry.minValue = d.uint64()
        break
      case NL_POLICY_TYPE_ATTR_MAX_VALUE_U:
        entry.maxValue = d.uint64()
        break
      case NL_POLICY_TYPE_ATTR_MIN_LENGTH:
        entry.minLength = d.uint32()
        break
      case NL_POLICY_TYPE_ATTR_MAX_LENGTH:
        entry.maxLength = d.uint32()
        break
      case NL_POLICY_TYPE_ATTR_POLICY_IDX:
        entry.policy = d.uint32()
        break
      case NL_POLICY_TYPE_ATTR_POLICY_MAXTYPE:
        entry.policyMaxType = d.uint32()
        break
      case NL_POLICY_TYPE_ATTR_BITFIELD32_MASK:
        entry.bitfield32Mask = d.uint32()
        break
      case NL_POLICY_TYPE_ATTR_MASK:
        entry.mask = d.uint64()
        break
    }
  }
  if (d.err === null && type === undefined) {
    throw new Error(
      `attribute ${attribute} has no type` + ' (NL_POLICY_TYPE_ATTR_TYPE)',
    )
  }

  const kind = type ?? 0
  const typeName = ATTRIBUTE_TYPE_NAMES[kind] ?? `type ${kind}`
  const full = { attribute, type: kind, typeName, ...entry }
  return { ...full, description: describePolicy(full) }
}

/** Says what an entry allows in a few words. */
function describePolicy(p: Omit<AttributePolicy, 'description'>): string {
  const parts = [p.typeName]
  if (p.minValue !== undefined || p.maxValue !== undefined) {
    parts.push(`${p.minValue ?? ''}..${p.maxValue ?? ''}`)
  }
  if (p.mask !== undefined) parts.push(`mask 0x${p.mask.toString(16)}`)
  if (p.minLength !== undefined && p.maxLength !== undefined) {
    parts.push(`length ${p.minLength}..${p.maxLength}`)
  } else if (p.minLength !== undefined) {
    parts.push(`length at least ${p.minLength}`)
  } else if (p.maxLength !== undefined) {
    parts.push(`length at most ${p.maxLength}`)
  }
  if (p.policy !== undefined) {
    const max = p.policyMaxType
    parts.push(
      `policy ${p.policy}` +
        (max === undefined ? '' : ` (attributes up to ${max})`),
    )
  }
  if (p.bitfield32Mask !== undefined) {
    parts.push(`selectable bits 0x${p.bitfield32Mask.toString(16)}`)
  }
  return parts.join(', ')
}

/**
 * Prints a policy dump as indented text: each command with the policy
 * indexes it uses, then each policy with one line per attribute.
 */
export function formatPolicy(policy: GenericPolicy): string {
  const p = check.optionalObject('policy', policy)
  if (!Array.isArray(p.operations) || !Array.isArray(p.policies)) {
    throw check.typeError(
      'policy must be a GenericPolicy, with operations and policies',
    )
  }
  const lines: string[] = []
  for (const op of policy.operations) {
    const uses: string[] = []
    if (op.do !== undefined) uses.push(`do: policy ${op.do}`)
    if (op.dump !== undefined) uses.push(`dump: policy ${op.dump}`)
    lines.push(`command ${op.command}: ${uses.join(', ')}`)
  }
  for (const table of policy.policies) {
    lines.push(`policy ${table.index}:`)
    for (const a of table.attributes) {
      lines.push(`  attribute ${a.attribute}: ${a.description}`)
    }
  }
  return lines.join('\n')
}
