import t from 'tap'
import { safeNextPath } from './safe-next.ts'

// Test names with raw control or line-separator characters would break the TAP stream.
const name = (s: string) =>
  JSON.stringify(s).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)

t.test('same-origin paths are followed', async (t) => {
  for (const p of ['/', '/#/shipment/SHP-1', '/index.html?x=1', '/%23/devices', '/a/b/c?d=%2F'])
    t.equal(safeNextPath(p), p, p)
})

t.test('anything that could leave the origin goes to /', async (t) => {
  const hostile = [
    '/\\evil.example/phish',
    '//evil.example',
    '///evil.example',
    '/\\/evil.example',
    '\\\\evil.example',
    '/%5Cevil.example',
    '/%5cevil.example',
    '/%2Fevil.example',
    '/%2fevil.example',
    '%2F%2Fevil.example',
    '/%255Cevil.example',
    '/%252F%252Fevil', // encoded twice
    'https://evil.example',
    'http:evil.example',
    'javascript:alert(1)',
    'JaVaScRiPt:alert(1)',
    'data:text/html,x',
    '/\t/evil.example',
    '/\n/evil.example',
    '/\r/evil.example',
    '\t//evil.example',
    ' /evil',
    '/ /evil',
    '/%09/evil.example',
    '/%0a/evil.example',
    '/%00',
    '/a\\b',
    '/\u2028',
    '/é',
    'evil.example',
    '',
    '/%E0%A4%A',
    '/' + 'a'.repeat(3000),
  ]
  for (const p of hostile) t.equal(safeNextPath(p), '/', name(p))
  t.equal(safeNextPath(null), '/')
  t.equal(safeNextPath(undefined), '/')
  t.equal(safeNextPath(['/x']), '/')
})
