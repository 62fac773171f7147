/**
 * Every string a user sets through the API, in any field of any request body
 * (product, route, comments, reasons, names, a custom profile's texts, the
 * GS1 lot, token labels ...), is refused when it holds a control character,
 * a bidirectional formatting character or a line separator
 * (dashboard/common/unsafe-text.ts): those make text lie where it is shown later, in
 * a terminal, a PDF or a browser. Checked once for every route, after the
 * route's JSON Schema (which caps each string's length), so that a field added
 * tomorrow is covered without anyone remembering to. Passwords are exempt:
 * they are never shown, only hashed.
 */
import { describeUnsafe, firstUnsafeChar } from '../common/unsafe-text.ts'
import { MAX_JSON_DEPTH } from '../../ledger/tlog/index.ts'
import { ApiError } from './errors.ts'

const EXEMPT_KEYS = new Set(['password'])

/** The first refused string in `value`, as an ApiError naming its field; null when all are clean. */
export function unsafeTextIn(value: unknown, field: string, depth = 0): ApiError | null {
  if (typeof value === 'string') {
    const u = firstUnsafeChar(value)
    return u
      ? new ApiError(
          'ERR_TEXT_UNSAFE',
          `${field} ${describeUnsafe(u)}: control characters, bidirectional formatting characters and line separators are not allowed in text`,
          field,
        )
      : null
  }
  if (typeof value !== 'object' || value === null) return null
  // A body is at most 256 kB, but a nested custom profile could still be deep: bounded before recursing.
  if (depth >= MAX_JSON_DEPTH)
    return new ApiError('ERR_VALIDATION', `${field} nests deeper than ${MAX_JSON_DEPTH} levels`, field)
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const e = unsafeTextIn(value[i], `${field}[${i}]`, depth + 1)
      if (e) return e
    }
    return null
  }
  for (const [k, v] of Object.entries(value)) {
    if (EXEMPT_KEYS.has(k)) continue
    const keyIssue = firstUnsafeChar(k)
    if (keyIssue)
      return new ApiError('ERR_TEXT_UNSAFE', `a property name in ${field} ${describeUnsafe(keyIssue)}`, field)
    const e = unsafeTextIn(v, `${field}.${k}`, depth + 1)
    if (e) return e
  }
  return null
}
