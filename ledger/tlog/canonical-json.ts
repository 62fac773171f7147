/**
 * Canonical JSON: the one byte encoding of log entries and rule profiles.
 * Object keys sorted by UTF-16 code units (as JSON.stringify-compatible RFC 8785
 * does for ASCII keys), no whitespace, integers only (no floats in evidence),
 * no undefined, no non-finite numbers. Pure; runs in Node and browsers.
 */
export type Json = null | boolean | number | string | Json[] | { [k: string]: Json }

export class CanonicalJsonError extends Error {
  readonly code = 'ERR_CANONICAL_JSON'
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`${path}: ${message}`)
    this.name = 'CanonicalJsonError'
  }
}

/**
 * The path of the value being written ("$.body.seq", "$.a[2]"), kept as a stack
 * of keys and indices and formatted only when an error names it: building the
 * string for every value cost more than the JSON itself on the append path.
 */
type PathStack = (string | number)[]
const formatPath = (path: PathStack): string =>
  path.reduce<string>((s, k) => (typeof k === 'number' ? `${s}[${k}]` : `${s}.${k}`), '$')

/** Quoted object keys: entries and profiles repeat a handful of key names. Bounded, keys may come from any input. */
const quotedKeys = new Map<string, string>()
const MAX_QUOTED_KEYS = 1024
function quotedKey(k: string): string {
  let q = quotedKeys.get(k)
  if (q === undefined) {
    q = `${JSON.stringify(k)}:`
    if (quotedKeys.size < MAX_QUOTED_KEYS) quotedKeys.set(k, q)
  }
  return q
}

/**
 * Sorts keys in place by UTF-16 code units (what the default sort does for
 * strings). Objects here have a few keys: an insertion sort allocates nothing,
 * where Array.prototype.sort copies into a work array on every call.
 */
function sortKeys(keys: string[]): void {
  if (keys.length > 16) {
    keys.sort()
    return
  }
  for (let i = 1; i < keys.length; i++) {
    const k = keys[i]
    let j = i - 1
    while (j >= 0 && keys[j] > k) {
      keys[j + 1] = keys[j]
      j--
    }
    keys[j + 1] = k
  }
}

function write(v: unknown, path: PathStack, out: string[]): void {
  if (v === null) {
    out.push('null')
    return
  }
  switch (typeof v) {
    case 'boolean':
      out.push(v ? 'true' : 'false')
      return
    case 'string':
      out.push(JSON.stringify(v))
      return
    case 'number':
      if (!Number.isSafeInteger(v))
        throw new CanonicalJsonError(formatPath(path), `numbers must be safe integers, got ${v}`)
      out.push(String(v))
      return
    case 'object': {
      if (Array.isArray(v)) {
        out.push('[')
        for (let i = 0; i < v.length; i++) {
          if (i) out.push(',')
          path.push(i)
          write(v[i], path, out)
          path.pop()
        }
        out.push(']')
        return
      }
      const o = v as Record<string, unknown>
      const keys = Object.keys(o)
      sortKeys(keys)
      out.push('{')
      let first = true
      for (const k of keys) {
        if (o[k] === undefined) continue
        if (!first) out.push(',')
        first = false
        out.push(quotedKey(k))
        path.push(k)
        write(o[k], path, out)
        path.pop()
      }
      out.push('}')
      return
    }
    default:
      throw new CanonicalJsonError(formatPath(path), `${typeof v} is not JSON`)
  }
}

/** Canonical JSON text of `v`. Object properties whose value is undefined are omitted. */
export function canonicalJson(v: unknown): string {
  const out: string[] = []
  write(v, [], out)
  return out.join('')
}

const encoder = new TextEncoder()

export function canonicalJsonBytes(v: unknown): Uint8Array {
  return encoder.encode(canonicalJson(v))
}
