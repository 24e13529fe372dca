/**
 * The kind-specific part of a link (`IFLA_INFO_DATA`): bridge, vxlan,
 * macvlan, vlan and bond settings by name, from `<linux/if_link.h>`.
 * Kinds not listed here keep their data as raw attributes.
 */
import type { AttributeDecoder, AttributeEncoder } from '../attribute'
import {
  decodeFields,
  encodeFields,
  type FieldSpec,
  type Fields,
} from './fields'
import { rawAttribute } from './request'

/** Bridge settings (`IFLA_BR_*`). Times are in hundredths of seconds. */
export interface BridgeInfo {
  forwardDelay?: number
  helloTime?: number
  maxAge?: number
  ageingTime?: number
  stpState?: number
  priority?: number
  vlanFiltering?: boolean
  vlanProtocol?: number
  vlanDefaultPvid?: number
  multicastSnooping?: boolean
}

/** VXLAN settings (`IFLA_VXLAN_*`). */
export interface VxlanInfo {
  /** The VXLAN network identifier (VNI). */
  id?: number
  /** Multicast group or remote address (IPv4 or IPv6). */
  group?: string
  /** Local address (IPv4 or IPv6). */
  local?: string
  /** Index of the underlying link. */
  link?: number
  ttl?: number
  tos?: number
  learning?: boolean
  ageing?: number
  limit?: number
  /** UDP destination port. */
  port?: number
}

/** macvlan and macvtap settings (`IFLA_MACVLAN_*`). */
export interface MacvlanInfo {
  mode?: 'private' | 'vepa' | 'bridge' | 'passthru' | 'source' | number
  flags?: number
}

/** VLAN settings (`IFLA_VLAN_*`). */
export interface VlanInfo {
  id?: number
  /** The tag protocol, 0x8100 (802.1Q) or 0x88a8 (802.1ad). */
  protocol?: number
}

/** Bond settings (`IFLA_BOND_*`). */
export interface BondInfo {
  mode?: string | number
  miimon?: number
  updelay?: number
  downdelay?: number
}

const BRIDGE: FieldSpec[] = [
  { name: 'forwardDelay', type: 1, as: 'u32' },
  { name: 'helloTime', type: 2, as: 'u32' },
  { name: 'maxAge', type: 3, as: 'u32' },
  { name: 'ageingTime', type: 4, as: 'u32' },
  { name: 'stpState', type: 5, as: 'u32' },
  { name: 'priority', type: 6, as: 'u16' },
  { name: 'vlanFiltering', type: 7, as: 'bool' },
  { name: 'vlanProtocol', type: 8, as: 'be16' },
  { name: 'multicastSnooping', type: 23, as: 'bool' },
  { name: 'vlanDefaultPvid', type: 39, as: 'u16' },
]

const VXLAN: FieldSpec[] = [
  { name: 'id', type: 1, as: 'u32' },
  { name: 'group', type: 2, as: 'ip', size: 4 },
  { name: 'group', type: 16, as: 'ip', size: 16 },
  { name: 'link', type: 3, as: 'u32' },
  { name: 'local', type: 4, as: 'ip', size: 4 },
  { name: 'local', type: 17, as: 'ip', size: 16 },
  { name: 'ttl', type: 5, as: 'u8' },
  { name: 'tos', type: 6, as: 'u8' },
  { name: 'learning', type: 7, as: 'bool' },
  { name: 'ageing', type: 8, as: 'u32' },
  { name: 'limit', type: 9, as: 'u32' },
  { name: 'port', type: 15, as: 'be16' },
]

const MACVLAN_MODES = {
  1: 'private',
  2: 'vepa',
  4: 'bridge',
  8: 'passthru',
  16: 'source',
}

const MACVLAN: FieldSpec[] = [
  { name: 'mode', type: 1, as: 'enum', names: MACVLAN_MODES },
  { name: 'flags', type: 2, as: 'u16' },
]

const VLAN: FieldSpec[] = [
  { name: 'id', type: 1, as: 'u16' },
  { name: 'protocol', type: 5, as: 'be16' },
]

const BOND_MODES = {
  0: 'balance-rr',
  1: 'active-backup',
  2: 'balance-xor',
  3: 'broadcast',
  4: '802.3ad',
  5: 'balance-tlb',
  6: 'balance-alb',
}

const BOND: FieldSpec[] = [
  { name: 'mode', type: 1, as: 'enum', names: BOND_MODES, width: 1 },
  { name: 'miimon', type: 3, as: 'u32' },
  { name: 'updelay', type: 4, as: 'u32' },
  { name: 'downdelay', type: 5, as: 'u32' },
]

/** The field tables of the kinds this module models, by kind. */
const KINDS: Record<string, FieldSpec[]> = {
  bridge: BRIDGE,
  vxlan: VXLAN,
  macvlan: MACVLAN,
  macvtap: MACVLAN,
  vlan: VLAN,
  bond: BOND,
}

/**
 * Decodes the `IFLA_INFO_DATA` nest of a link of `kind`: named fields for
 * the kinds above, raw attributes (in `attributes`) for everything else.
 */
export function decodeInfo(kind: string, d: AttributeDecoder): Fields {
  const specs = KINDS[kind]
  if (specs !== undefined) return decodeFields(d, specs)

  const attributes = []
  while (d.next()) attributes.push(rawAttribute(d))
  return { attributes }
}

/**
 * Whether `kind` has settings this module can write. Kinds without a
 * table accept no `info` but their own `attributes`.
 */
export function hasInfoFields(kind: string): boolean {
  return KINDS[kind] !== undefined
}

/** Encodes `info` for a link of `kind` into `e` (the data nest). */
export function encodeInfo(
  e: AttributeEncoder,
  kind: string,
  info: Record<string, unknown>,
): void {
  encodeFields(e, 'link.info', info, KINDS[kind] ?? [])
}
