/**
 * A nesting-depth guard for JSON text, run before JSON.parse. Deeply nested
 * input costs a parser (and every recursive walk after it) stack and memory
 * out of all proportion to its size: 100,000 opening brackets are 100 kB.
 * The scan is linear and allocates nothing; it counts `[` and `{` outside
 * strings (skipping escaped characters inside them), so it works on the raw
 * UTF-8 bytes as well as on text (no multi-byte UTF-8 sequence contains an
 * ASCII byte). It does not validate the JSON: the parser still does.
 * Pure; runs in browsers.
 */

/** No ColdProof document (log entry, evidence bundle, rule profile) nests deeper than this. */
export const MAX_JSON_DEPTH = 32

export interface TooDeep {
  /** The depth reached (max + 1). */
  depth: number
  /** Offset of the bracket that went too deep (bytes for byte input, UTF-16 units for text). */
  offset: number
}

const QUOTE = 0x22,
  BACKSLASH = 0x5c,
  OPEN_BRACKET = 0x5b,
  OPEN_BRACE = 0x7b,
  CLOSE_BRACKET = 0x5d,
  CLOSE_BRACE = 0x7d

/** The first place where `json` nests deeper than `max`, or null. */
export function jsonTooDeep(json: string | Uint8Array, max = MAX_JSON_DEPTH): TooDeep | null {
  const text = typeof json === 'string'
  const n = json.length
  let depth = 0
  let inString = false
  for (let i = 0; i < n; i++) {
    const c = text ? (json as string).charCodeAt(i) : (json as Uint8Array)[i]
    if (inString) {
      if (c === BACKSLASH) i++
      else if (c === QUOTE) inString = false
    } else if (c === QUOTE) {
      inString = true
    } else if (c === OPEN_BRACKET || c === OPEN_BRACE) {
      if (++depth > max) return { depth, offset: i }
    } else if (c === CLOSE_BRACKET || c === CLOSE_BRACE) {
      depth--
    }
  }
  return null
}
