import t from 'tap'
import { jsonTooDeep, MAX_JSON_DEPTH } from './json-depth.ts'

const utf8 = (s: string) => new TextEncoder().encode(s)

t.test('nesting up to the limit passes, one more is refused with its offset', async (t) => {
  const ok = '['.repeat(MAX_JSON_DEPTH) + ']'.repeat(MAX_JSON_DEPTH)
  t.equal(jsonTooDeep(ok), null)
  t.equal(jsonTooDeep(utf8(ok)), null)
  const deep = '{"a":' + '['.repeat(MAX_JSON_DEPTH) + ']'.repeat(MAX_JSON_DEPTH) + '}'
  t.same(jsonTooDeep(deep), { depth: MAX_JSON_DEPTH + 1, offset: 5 + MAX_JSON_DEPTH - 1 })
  t.same(jsonTooDeep(utf8(deep)), { depth: MAX_JSON_DEPTH + 1, offset: 5 + MAX_JSON_DEPTH - 1 })
})

t.test('brackets inside strings do not count, escaped quotes do not end a string', async (t) => {
  const s = JSON.stringify({ name: '['.repeat(1000) + '"' + '{'.repeat(1000), x: ['\\', '"['] })
  t.equal(jsonTooDeep(s), null)
  t.equal(jsonTooDeep(utf8(s)), null)
  t.equal(
    jsonTooDeep(utf8(JSON.stringify({ name: 'Zürich → Łódź «[[[»' }))),
    null,
    'multi-byte UTF-8 is skipped byte by byte',
  )
})

t.test('100,000 levels are refused at the first bracket past the limit, without recursion', async (t) => {
  const r = jsonTooDeep('['.repeat(100_000) + ']'.repeat(100_000))
  t.same(r, { depth: MAX_JSON_DEPTH + 1, offset: MAX_JSON_DEPTH })
  t.same(jsonTooDeep('[[[', 2), { depth: 3, offset: 2 }, 'unbalanced input: the scan stops where it went too deep')
})
