import t from 'tap'
import { readFileSync } from 'node:fs'
import { build } from 'esbuild'
import { COMPLIANCE_ERROR_CODES } from './errors.ts'
import { ALARM_KINDS } from './engine.ts'

const doc = readFileSync(new URL('../../docs/COMPLIANCE.md', import.meta.url), 'utf8')

t.test('docs/COMPLIANCE.md lists every error code, event kind and reason code', async (t) => {
  for (const [code, meaning] of Object.entries(COMPLIANCE_ERROR_CODES))
    t.ok(doc.includes(`| \`${code}\` | ${meaning} |`), code)
  const kinds = [...ALARM_KINDS, 'excursion_started', 'excursion_ended']
  for (const k of kinds) t.ok(doc.includes(`| \`${k}\` |`), k)
  const verdictSrc = readFileSync(new URL('./verdict.ts', import.meta.url), 'utf8')
  const codes = [...verdictSrc.matchAll(/'([A-Z_]{6,})'/g)]
    .map((m) => m[1])
    .filter((c) => !c.startsWith('PASS') && c !== 'FAIL' && c !== 'INCOMPLETE_EVIDENCE')
  t.ok(codes.length >= 15)
  for (const c of new Set(codes)) t.ok(doc.includes(`\`${c}\``), c)
})

t.test('the engine bundles for the browser: no Node built-ins', async (t) => {
  const out = await build({
    entryPoints: [new URL('./index.ts', import.meta.url).pathname],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    write: false,
    logLevel: 'silent',
  })
  const js = out.outputFiles[0].text
  t.ok(js.length > 1000)
  t.notMatch(js, /\bfrom ["']node:|require\(["'](fs|crypto|path|node:)/)
})
