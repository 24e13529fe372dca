/**
 * Table-driven attribute fields: one table per nest says which attribute
 * holds which named field and how its value is written, and serves both
 * directions, so what a decoder returns can be passed back to an encoder.
 */
import type { AttributeDecoder, AttributeEncoder } from '../attribute'
import * as check from '../validate'
import { numberOf } from './enum'
import { formatIP, parseIP } from './ip'
import { rawAttribute, type RawAttribute } from './request'

/** How a field's value is written in its attribute. */
export type FieldType =
  'u8' | 'u16' | 'u32' | 'be16' | 'bool' | 'flag' | 'string' | 'ip' | 'enum'

/** One named field: its attribute type and value type. */
export interface FieldSpec {
  name: string
  type: number
  as: FieldType
  /** For `enum`: the names of the values, by number. */
  names?: Record<number, string>
  /** For `enum`: bytes of the value, 4 when left out. */
  width?: 1 | 4
  /** For `ip`: the only address size this attribute holds (4 or 16). */
  size?: 4 | 16
}

/** Decoded fields, plus the attributes no field claimed. */
export type Fields = Record<string, unknown> & { attributes?: RawAttribute[] }

/**
 * Decodes every attribute of `d` by `specs`; an attribute no spec names
 * is kept raw in `attributes`. Errors are left on `d`.
 */
export function decodeFields(
  d: AttributeDecoder,
  specs: readonly FieldSpec[],
): Fields {
  const out: Fields = {}
  const raw: RawAttribute[] = []

  while (d.next()) {
    const spec = specOf(specs, d.type)
    if (spec === undefined) {
      raw.push(rawAttribute(d))
      continue
    }
    out[spec.name] = readField(d, spec)
  }
  if (raw.length > 0) out.attributes = raw
  return out
}

/** The first spec of attribute `type`, without a closure per attribute. */
function specOf(
  specs: readonly FieldSpec[],
  type: number,
): FieldSpec | undefined {
  for (let i = 0; i < specs.length; i++) {
    if (specs[i].type === type) return specs[i]
  }
  return undefined
}

function readField(d: AttributeDecoder, spec: FieldSpec): unknown {
  switch (spec.as) {
    case 'u8':
      return d.uint8()
    case 'u16':
      return d.uint16()
    case 'u32':
      return d.uint32()
    case 'be16': {
      const b = d.bytes()
      return b.length === 2 ? b.readUInt16BE(0) : d.uint16()
    }
    case 'bool':
      return d.uint8() !== 0
    case 'flag':
      return true
    case 'string':
      return d.string()
    case 'ip':
      return formatIP(d.bytes())
    case 'enum': {
      const n = d.bytes().length === 1 ? d.uint8() : d.uint32()
      return spec.names?.[n] ?? n
    }
  }
}

/**
 * Encodes the fields of `value` that `specs` name; `where` names the
 * object in errors. Throws a TypeError or RangeError for a field whose
 * value does not fit, and for a field `specs` does not know.
 */
export function encodeFields(
  e: AttributeEncoder,
  where: string,
  value: Record<string, unknown>,
  specs: readonly FieldSpec[],
): void {
  for (const [key, v] of Object.entries(value)) {
    if (v === undefined || key === 'attributes') continue
    const spec = specFor(specs, key, v)
    if (spec === undefined) {
      throw check.typeError(`${where} has an unknown field ${key}`)
    }
    writeField(e, `${where}.${key}`, v, spec)
  }
}

/**
 * The spec that writes `key`: the first of that name, or for an address
 * the one whose size fits it (IPv4 and IPv6 often sit in two attributes).
 */
function specFor(
  specs: readonly FieldSpec[],
  key: string,
  v: unknown,
): FieldSpec | undefined {
  const named = specs.filter((s) => s.name === key)
  if (named.length < 2 || named[0].as !== 'ip') return named[0]

  const size = parseIP(key, v).bytes.length
  return named.find((s) => s.size === undefined || s.size === size)
}

function writeField(
  e: AttributeEncoder,
  name: string,
  v: unknown,
  spec: FieldSpec,
): void {
  switch (spec.as) {
    case 'u8':
      e.uint8(spec.type, check.integer(name, v, 0, 0xff))
      return
    case 'u16':
      e.uint16(spec.type, check.integer(name, v, 0, 0xffff))
      return
    case 'u32':
      e.uint32(spec.type, check.integer(name, v, 0, 0xffffffff))
      return
    case 'be16': {
      const b = Buffer.alloc(2)
      b.writeUInt16BE(check.integer(name, v, 0, 0xffff))
      e.bytes(spec.type, b)
      return
    }
    case 'bool':
      e.uint8(spec.type, check.optionalBoolean(name, v, false) ? 1 : 0)
      return
    case 'flag':
      e.flag(spec.type, check.optionalBoolean(name, v, false))
      return
    case 'string':
      if (typeof v !== 'string') {
        throw check.typeError(
          `${name} must be a string, got ${check.describe(v)}`,
        )
      }
      e.string(spec.type, v)
      return
    case 'ip':
      e.bytes(spec.type, parseIP(name, v).bytes)
      return
    case 'enum': {
      const max = spec.width === 1 ? 0xff : 0xffffffff
      const n = numberOf(name, spec.names ?? {}, v, max)
      if (spec.width === 1) e.uint8(spec.type, n)
      else e.uint32(spec.type, n)
      return
    }
  }
}
