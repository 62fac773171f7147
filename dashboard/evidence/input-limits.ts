/**
 * What the verifier refuses to read at all (docs/BUNDLE.md, "Hostile
 * input"): a bundle larger than the size cap, and JSON nested deeper than
 * MAX_JSON_DEPTH, both found before any parsing so that the work and the
 * memory spent on a hostile file stay bounded by the cap. A genuine bundle
 * nests 6 levels deep; 10,000 readings make about 12 MB.
 * Pure; the CLI checks the size on the file before reading it.
 */
import { jsonTooDeep, MAX_JSON_DEPTH } from '../../ledger/tlog/index.ts'

export { MAX_JSON_DEPTH }
/** 64 MiB: about 50,000 readings. `coldproof verify --max-size <MiB>` overrides it. */
export const DEFAULT_MAX_BUNDLE_BYTES = 64 * 1024 * 1024

export interface InputRefusal {
  code: 'BUNDLE_TOO_LARGE' | 'BUNDLE_TOO_DEEP'
  message: string
}

const mib = (n: number) => `${(n / (1024 * 1024)).toFixed(n % (1024 * 1024) === 0 ? 0 : 1)} MiB`

/** A refusal when `size` bytes exceed the cap. */
export function refuseSize(size: number, maxBytes = DEFAULT_MAX_BUNDLE_BYTES): InputRefusal | null {
  if (size <= maxBytes) return null
  return {
    code: 'BUNDLE_TOO_LARGE',
    message: `the bundle is ${size} bytes (${mib(size)}), over the ${mib(maxBytes)} limit; a larger cap can be given (coldproof verify --max-size <MiB>)`,
  }
}

/** UTF-8 length of a string, without encoding it. */
function utf8Length(s: string): number {
  let n = 0
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x80) n += 1
    else if (c < 0x800) n += 2
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      n += 4
      i++
    } else n += 3
  }
  return n
}

/** The refusal of a bundle file (bytes or text) by size, then by nesting depth; null when it may be parsed. */
export function refuseInput(input: string | Uint8Array, maxBytes = DEFAULT_MAX_BUNDLE_BYTES): InputRefusal | null {
  // Every UTF-16 unit is at least one UTF-8 byte, so a long string is refused without counting.
  const size = typeof input === 'string' ? (input.length > maxBytes ? input.length : utf8Length(input)) : input.length
  const big = refuseSize(size, maxBytes)
  if (big) return big
  const deep = jsonTooDeep(input)
  return deep
    ? {
        code: 'BUNDLE_TOO_DEEP',
        message: `the bundle nests JSON deeper than ${MAX_JSON_DEPTH} levels (at ${typeof input === 'string' ? 'character' : 'byte'} ${deep.offset}); a bundle is never nested that deep`,
      }
    : null
}
