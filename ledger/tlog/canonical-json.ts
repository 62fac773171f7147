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

function write(v: unknown, path: string, out: string[]): void {
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
      if (!Number.isSafeInteger(v)) throw new CanonicalJsonError(path, `numbers must be safe integers, got ${v}`)
      out.push(String(v))
      return
    case 'object': {
      if (Array.isArray(v)) {
        out.push('[')
        v.forEach((x, i) => {
          if (i) out.push(',')
          write(x, `${path}[${i}]`, out)
        })
        out.push(']')
        return
      }
      const o = v as Record<string, unknown>
      const keys = Object.keys(o)
        .filter((k) => o[k] !== undefined)
        .sort()
      out.push('{')
      keys.forEach((k, i) => {
        if (i) out.push(',')
        out.push(JSON.stringify(k), ':')
        write(o[k], `${path}.${k}`, out)
      })
      out.push('}')
      return
    }
    default:
      throw new CanonicalJsonError(path, `${typeof v} is not JSON`)
  }
}

/** Canonical JSON text of `v`. Object properties whose value is undefined are omitted. */
export function canonicalJson(v: unknown): string {
  const out: string[] = []
  write(v, '$', out)
  return out.join('')
}

export function canonicalJsonBytes(v: unknown): Uint8Array {
  return new TextEncoder().encode(canonicalJson(v))
}
