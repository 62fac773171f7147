/** Small byte helpers, shared by the codecs. No I/O, runs in Node and browsers. */

/** Asserts `value` is a Uint8Array (optionally of an exact length) and returns it. */
export function abytes(value: unknown, length?: number, title = 'value'): Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new TypeError(`"${title}" expected Uint8Array, got ${value === null ? 'null' : typeof value}`)
  }
  if (length !== undefined && value.length !== length) {
    throw new RangeError(`"${title}" expected Uint8Array of length ${length}, got length=${value.length}`)
  }
  return value
}

/** Asserts `value` is a non-null object (a record of fields) and returns it. */
export function aobject<T extends object>(value: T, title = 'value'): T {
  if (typeof value !== 'object' || value === null) {
    throw new TypeError(`"${title}" expected an object, got ${value === null ? 'null' : typeof value}`)
  }
  return value
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let n = 0
  for (const p of parts) n += p.length
  const out = new Uint8Array(n)
  let o = 0
  for (const p of parts) {
    out.set(p, o)
    o += p.length
  }
  return out
}

const HEX = '0123456789abcdef'
export function toHex(b: Uint8Array): string {
  // Node's native encoder where there is one: the loop builds a string per byte (the ingest hexes every prevHash).
  const B = (globalThis as { Buffer?: typeof Buffer }).Buffer
  if (B) return B.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')
  let s = ''
  for (let i = 0; i < b.length; i++) s += HEX[b[i] >> 4] + HEX[b[i] & 15]
  return s
}

export function fromHex(hex: string): Uint8Array {
  if (typeof hex !== 'string' || hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new TypeError(
      `"hex" expected an even-length hexadecimal string, got ${JSON.stringify(String(hex).slice(0, 20))}`,
    )
  }
  const out = new Uint8Array(hex.length / 2)
  // From the character codes (checked above): no substring per byte.
  for (let i = 0; i < out.length; i++) out[i] = (nibble(hex.charCodeAt(2 * i)) << 4) | nibble(hex.charCodeAt(2 * i + 1))
  return out
}

/** The value of one hexadecimal digit's character code: 0-9, a-f or A-F. */
const nibble = (c: number): number => (c <= 0x39 ? c - 0x30 : (c | 0x20) - 0x57)

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  let d = 0
  for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i]
  return d === 0
}

export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s)

export function toBase64(b: Uint8Array): string {
  // Node's native encoder where there is one: the ingest encodes every reading (7x faster than the loop).
  const B = (globalThis as { Buffer?: typeof Buffer }).Buffer
  if (B) return B.from(b.buffer, b.byteOffset, b.byteLength).toString('base64')
  let bin = ''
  for (let i = 0; i < b.length; i++) bin += String.fromCharCode(b[i])
  return btoa(bin)
}

export function fromBase64(s: string): Uint8Array {
  const bin = atob(s)
  const out = new Uint8Array(bin.length)
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i)
  return out
}

export function toBase64Url(b: Uint8Array): string {
  return toBase64(b).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

export function fromBase64Url(s: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]*$/.test(s)) throw new TypeError('"base64url" has characters outside the base64url alphabet')
  const b = s.replace(/-/g, '+').replace(/_/g, '/')
  return fromBase64(b + '='.repeat((4 - (b.length % 4)) % 4))
}
