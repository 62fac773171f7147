/**
 * Characters that make text lie about itself where it is shown: C0 controls
 * (NUL, ESC starting a terminal escape sequence, CR/LF faking a new line), DEL,
 * C1 controls (U+009B is a one-character CSI on some terminals), the Unicode
 * bidirectional formatting characters (embeddings, overrides, isolates and
 * marks: U+202E turns "gpj.exe" into "exe.jpg" on screen) and the line and
 * paragraph separators. No product name, route, reason or comment needs them.
 *
 * The API refuses them in every string a user sets (firstUnsafeChar); every
 * output shows them visibly as "[U+202E]" (showUnsafe), because evidence
 * bundles come from anywhere and old ledger entries may hold them.
 * Pure; runs in browsers.
 */

const UNSAFE_SOURCE =
  '[\\u0000-\\u001f\\u007f-\\u009f\\u061c\\u200e\\u200f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069]'
const UNSAFE = new RegExp(UNSAFE_SOURCE, 'g')
/** The same set less TAB and LF: for outputs where our own line breaks are layout (the web UI's <pre>). */
const UNSAFE_KEEP_LINES =
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g

export interface UnsafeChar {
  /** UTF-16 offset in the string. */
  index: number
  /** "U+001B" */
  codePoint: string
  kind: 'control' | 'bidi' | 'separator'
}

const hex = (c: string) => `U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`

function kindOf(c: string): UnsafeChar['kind'] {
  const n = c.charCodeAt(0)
  if (n <= 0x9f) return 'control'
  return n === 0x2028 || n === 0x2029 ? 'separator' : 'bidi'
}

/** The first character of `s` that the API refuses, or null. */
export function firstUnsafeChar(s: string): UnsafeChar | null {
  const m = new RegExp(UNSAFE_SOURCE).exec(s)
  return m ? { index: m.index, codePoint: hex(m[0]), kind: kindOf(m[0]) } : null
}

/** Why a character is refused, for an error message. */
export function describeUnsafe(u: UnsafeChar): string {
  const what =
    u.kind === 'control'
      ? 'a control character'
      : u.kind === 'bidi'
        ? 'a bidirectional formatting character'
        : 'a line or paragraph separator'
  return `contains ${what} (${u.codePoint}) at position ${u.index}`
}

/**
 * `s` with every unsafe character replaced by its visible code point,
 * "[U+001B]"; `keepLines` keeps TAB and LF (for text whose line breaks are
 * layout, not data).
 */
export function showUnsafe(s: string, { keepLines = false } = {}): string {
  return s.replace(keepLines ? UNSAFE_KEEP_LINES : UNSAFE, (c) => `[${hex(c)}]`)
}

/**
 * JSON text (from JSON.stringify) safe to print on a terminal: JSON.stringify
 * already escapes C0 controls inside strings; this escapes DEL, C1 and the
 * bidi and separator characters as \uXXXX too (outside strings JSON has
 * none of them, so the text stays the same JSON value).
 */
export function jsonForTerminal(json: string): string {
  // C0 is left alone: inside strings JSON.stringify has escaped it already, outside them it is layout (LF, spaces).
  return json.replace(
    /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  )
}

/** Multi-line text for a terminal: each line's unsafe characters made visible, the line breaks kept. */
export function terminalText(text: string): string {
  return text
    .split('\n')
    .map((l) => showUnsafe(l))
    .join('\n')
}
