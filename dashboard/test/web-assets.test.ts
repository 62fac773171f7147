/**
 * The browser bundle is built at install time; `coldproof start` only checks it
 * (dashboard/build-web.ts, checkWebAssets): present and built from the sources as they are.
 */
import t from 'tap'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { buildWeb, checkWebAssets } from '../build-web.ts'

t.test('a fresh build passes; a changed source or a missing bundle is refused with the fix', async (t) => {
  const outdir = t.testdir()
  t.same(checkWebAssets(outdir), {
    ok: false,
    code: 'ERR_WEB_ASSETS_MISSING',
    message: `the dashboard's browser bundle is missing from ${outdir}; run \`npm run build\` (npm install runs it too)`,
  })
  const r = await buildWeb({ outdir })
  t.ok(r.files.includes('sources.json'), 'the build records its sources')
  t.same(checkWebAssets(outdir), { ok: true }, 'a fresh build passes')
  const manifest = join(outdir, 'sources.json')
  const m = JSON.parse(readFileSync(manifest, 'utf8')) as { inputs: Record<string, string> }
  const login = Object.keys(m.inputs).find((p) => p.endsWith('dashboard/web/login.ts'))!
  t.ok(login, 'login.ts is among the sources')
  writeFileSync(manifest, JSON.stringify({ inputs: { ...m.inputs, [login]: '0'.repeat(64) } }))
  const stale = checkWebAssets(outdir)
  t.equal(stale.ok, false)
  t.match(stale, {
    code: 'ERR_WEB_ASSETS_STALE',
    message: /is older than dashboard\/web\/login\.ts; run `npm run build`/,
  })
  rmSync(join(outdir, 'app.js'))
  t.match(checkWebAssets(outdir), { code: 'ERR_WEB_ASSETS_MISSING' })
})
