/**
 * The API's error codes, the source and docs/API.md agree: every ERR_ code
 * the server can answer (the catalogue in errors.ts, every 'ERR_…' literal in
 * dashboard/server, the codes the ledger's refusals map to) is in the docs'
 * Errors table with its status, and every code the table lists exists. A few
 * real requests check fastify's own errors come out as catalogue codes.
 */
import t from 'tap'
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { API_ERROR_CODES } from '../server/errors.ts'
import { harness } from './support.ts'

const here = dirname(fileURLToPath(import.meta.url))
const serverDir = join(here, '..', 'server')
const doc = readFileSync(join(here, '..', '..', 'docs', 'API.md'), 'utf8')

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f)
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') && !p.endsWith('.test.ts') ? [p] : []
  })
}

/** code → status, from the docs' "Errors" table (a row may list several codes). */
function documented(): Map<string, number> {
  const section = doc.slice(doc.indexOf('## Errors'), doc.indexOf('\n## ', doc.indexOf('## Errors') + 5))
  const out = new Map<string, number>()
  for (const line of section.split('\n')) {
    const m = /^\| (.+?) \| (\d{3}) \|/.exec(line)
    if (!m) continue
    for (const c of m[1].matchAll(/`(ERR_[A-Z0-9_]+)`/g)) out.set(c[1], Number(m[2]))
  }
  return out
}

t.test('every code the server can answer is documented with its status, and nothing else is', async (t) => {
  const fromSource = new Set<string>()
  for (const f of files(serverDir)) {
    for (const m of readFileSync(f, 'utf8').matchAll(/'(ERR_[A-Z0-9_]+)'/g)) {
      // ERR_LEDGER_* literals are the ledger's own codes, mapped onto API codes in app.ts.
      if (!m[1].startsWith('ERR_LEDGER_') || m[1] === 'ERR_LEDGER_UNAVAILABLE') fromSource.add(m[1])
    }
  }
  const catalogue = new Set(Object.keys(API_ERROR_CODES))
  for (const c of fromSource) t.ok(catalogue.has(c), `${c} (used in dashboard/server) is in the catalogue of errors.ts`)
  const docs = documented()
  t.ok(docs.size >= 30, `the docs' table lists ${docs.size} codes`)
  for (const [code, status] of Object.entries(API_ERROR_CODES)) {
    t.equal(docs.get(code), status, `${code}: documented with status ${status}`)
  }
  for (const code of docs.keys()) t.ok(catalogue.has(code), `${code} (docs) exists in the catalogue`)
})

t.test("fastify's own refusals answer with catalogue codes", async (t) => {
  const h = await harness(t)
  const cookie = await h.cookie('operator')
  const badJson = await h.app.inject({
    method: 'POST',
    url: '/api/login',
    headers: { 'content-type': 'application/json' },
    payload: '{"username":',
  })
  t.equal(badJson.statusCode, 400)
  t.equal(badJson.json().code, 'ERR_BAD_JSON')
  const media = await h.app.inject({
    method: 'POST',
    url: '/api/tokens',
    headers: { cookie, 'content-type': 'application/xml' },
    payload: '<label>x</label>',
  })
  t.equal(media.statusCode, 415)
  t.equal(media.json().code, 'ERR_MEDIA_TYPE')
  const huge = await h.app.inject({
    method: 'POST',
    url: '/api/tokens',
    headers: { cookie, 'content-type': 'application/json' },
    payload: JSON.stringify({ label: 'x'.repeat(300 * 1024) }),
  })
  t.equal(huge.statusCode, 413)
  t.equal(huge.json().code, 'ERR_BODY_TOO_LARGE')
  const none = await h.app.inject({ url: '/api/nothing-here', headers: { cookie } })
  t.equal(none.json().code, 'ERR_NOT_FOUND')
  for (const r of [badJson, media, huge, none]) {
    const b = r.json()
    t.equal(
      API_ERROR_CODES[b.code as keyof typeof API_ERROR_CODES],
      r.statusCode,
      `${b.code}: the status the catalogue names`,
    )
    t.type(b.message, 'string')
  }
})
