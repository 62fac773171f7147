/**
 * A small, strict checker for the JSON Schema subset the rule profile uses
 * (type, properties, required, additionalProperties: false, items, maxItems,
 * minimum, maximum, minLength, maxLength, pattern, enum, const). Written by
 * hand so the engine stays dependency-free and runs unchanged in a browser;
 * a schema keyword outside the subset is a programming error and throws.
 * The first violation is reported with its JSON path (`$.zones[0].limitCentiC`).
 */
export type SchemaType = 'object' | 'array' | 'string' | 'integer' | 'boolean' | 'null'

export interface Schema {
  readonly type: SchemaType | readonly SchemaType[]
  readonly description?: string
  readonly properties?: { readonly [k: string]: Schema }
  readonly required?: readonly string[]
  readonly additionalProperties?: false
  readonly items?: Schema
  readonly maxItems?: number
  readonly minimum?: number
  readonly maximum?: number
  readonly minLength?: number
  readonly maxLength?: number
  readonly pattern?: string
  readonly enum?: readonly (string | number)[]
  readonly const?: string | number
}

export interface SchemaViolation {
  path: string
  message: string
  value: unknown
}

const KNOWN = new Set([
  'type',
  'description',
  'properties',
  'required',
  'additionalProperties',
  'items',
  'maxItems',
  'minimum',
  'maximum',
  'minLength',
  'maxLength',
  'pattern',
  'enum',
  'const',
])

function typeOf(v: unknown): SchemaType | 'number' | 'other' {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'array'
  if (typeof v === 'number') return Number.isSafeInteger(v) ? 'integer' : 'number'
  if (typeof v === 'string' || typeof v === 'boolean') return typeof v as 'string' | 'boolean'
  if (typeof v === 'object') return 'object'
  return 'other'
}

function show(v: unknown): string {
  if (v === undefined) return 'undefined'
  try {
    const s = JSON.stringify(v)
    return s.length > 60 ? s.slice(0, 57) + '...' : s
  } catch {
    return String(v)
  }
}

/** Returns the first violation of `schema` by `value`, or null when it conforms. */
export function checkSchema(schema: Schema, value: unknown, path = '$'): SchemaViolation | null {
  for (const k of Object.keys(schema))
    if (!KNOWN.has(k)) throw new Error(`schema keyword "${k}" at ${path} is outside the supported subset`)
  const types: readonly SchemaType[] = typeof schema.type === 'string' ? [schema.type] : schema.type
  const t = typeOf(value)
  if (!types.includes(t as SchemaType)) {
    return {
      path,
      message: `expected ${types.join(' or ')}, got ${t === 'number' ? 'a non-integer number' : t} ${show(value)}`,
      value,
    }
  }
  if (schema.const !== undefined && value !== schema.const)
    return { path, message: `must be ${show(schema.const)}, got ${show(value)}`, value }
  if (schema.enum && !schema.enum.includes(value as string | number))
    return { path, message: `must be one of ${schema.enum.map(show).join(', ')}, got ${show(value)}`, value }
  if (t === 'integer') {
    const n = value as number
    if (schema.minimum !== undefined && n < schema.minimum)
      return { path, message: `must be >= ${schema.minimum}, got ${n}`, value }
    if (schema.maximum !== undefined && n > schema.maximum)
      return { path, message: `must be <= ${schema.maximum}, got ${n}`, value }
  }
  if (t === 'string') {
    const s = value as string
    if (schema.minLength !== undefined && s.length < schema.minLength)
      return { path, message: `must have at least ${schema.minLength} characters`, value }
    if (schema.maxLength !== undefined && s.length > schema.maxLength)
      return { path, message: `must have at most ${schema.maxLength} characters, got ${s.length}`, value }
    if (schema.pattern !== undefined && !new RegExp(schema.pattern).test(s))
      return { path, message: `must match ${schema.pattern}, got ${show(s)}`, value }
  }
  if (t === 'array') {
    const a = value as unknown[]
    if (schema.maxItems !== undefined && a.length > schema.maxItems)
      return { path, message: `must have at most ${schema.maxItems} items, got ${a.length}`, value }
    if (schema.items) {
      for (let i = 0; i < a.length; i++) {
        const v = checkSchema(schema.items, a[i], `${path}[${i}]`)
        if (v) return v
      }
    }
  }
  if (t === 'object') {
    const o = value as Record<string, unknown>
    const props = schema.properties ?? {}
    if (schema.additionalProperties === false) {
      for (const k of Object.keys(o)) {
        if (!Object.hasOwn(props, k)) return { path: `${path}.${k}`, message: `unknown field "${k}"`, value: o[k] }
      }
    }
    for (const k of schema.required ?? []) {
      if (!Object.hasOwn(o, k) || o[k] === undefined)
        return { path: `${path}.${k}`, message: `required field "${k}" is missing`, value: undefined }
    }
    for (const [k, s] of Object.entries(props)) {
      if (Object.hasOwn(o, k) && o[k] !== undefined) {
        const v = checkSchema(s, o[k], `${path}.${k}`)
        if (v) return v
      }
    }
  }
  return null
}
