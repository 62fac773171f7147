/**
 * JSON for contexts where it could meet HTML (a mis-sniffed response, an SSE
 * frame pasted into a page): < > & and the JS line separators become \uXXXX escapes.
 */
const JSON_HTML_ESCAPES: Record<string, string> = {
  '<': '\\u003c',
  '>': '\\u003e',
  '&': '\\u0026',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
}

/** JSON text with < > & U+2028 U+2029 as \u escapes (they only occur inside strings, where the escape is equivalent). */
export function escapeJsonForHtml(json: string): string {
  return json.replace(/[<>&\u2028\u2029]/g, (c) => JSON_HTML_ESCAPES[c])
}
