import t from 'tap'
import { describeUnsafe, firstUnsafeChar, jsonForTerminal, showUnsafe, terminalText } from './unsafe-text.ts'

const HOSTILE = [
  '\u0000',
  '\u0007',
  '\t',
  '\n',
  '\r',
  '\u001b',
  '\u007f',
  '\u0085',
  '\u009b',
  '\u061c',
  '\u200e',
  '\u200f',
  '\u2028',
  '\u2029',
  '\u202a',
  '\u202e',
  '\u2066',
  '\u2069',
]

t.test('every control, bidi and separator character is found, with its code point', async (t) => {
  for (const c of HOSTILE) {
    const u = firstUnsafeChar(`ok ${c} tail`)
    t.ok(u, `U+${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
    t.equal(u!.index, 3)
  }
  t.same(firstUnsafeChar('Insulin \u202egnp.exe'), { index: 8, codePoint: 'U+202E', kind: 'bidi' })
  t.equal(describeUnsafe(firstUnsafeChar('a\u001b[2J')!), 'contains a control character (U+001B) at position 1')
  for (const fine of ['Zürich → Łódź', 'Пастер', 'שלום', 'ワクチン', '2–8 °C — “quoted”', 'emoji 🧊', ''])
    t.equal(firstUnsafeChar(fine), null, JSON.stringify(fine))
})

t.test('outputs show them visibly and keep everything else', async (t) => {
  t.equal(showUnsafe('\u001b[2J\u001b[32mVERIFIED\u202e'), '[U+001B][2J[U+001B][32mVERIFIED[U+202E]')
  t.equal(showUnsafe('a\nb\tc', { keepLines: true }), 'a\nb\tc')
  t.equal(showUnsafe('a\nb\rc\u0000', { keepLines: true }), 'a\nb[U+000D]c[U+0000]')
  t.equal(terminalText('line 1 \u009b31m\nline 2'), 'line 1 [U+009B]31m\nline 2')
  const json = JSON.stringify({ p: '\u001b\u009b\u202e\u007f x', q: ['\n'] }, null, 2)
  const safe = jsonForTerminal(json)
  t.notMatch(safe, /[\u001b\u007f-\u009f\u202e]/)
  t.same(JSON.parse(safe), JSON.parse(json), 'the same JSON value')
  t.equal(safe.split('\n').length, json.split('\n').length, 'the layout is kept')
})
