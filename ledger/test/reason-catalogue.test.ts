/**
 * One catalogue of refusal codes for spec and code: every code the ingest can
 * quarantine a reading with (the catalogue, the decoder's codes it passes on,
 * and every ERR_ literal in ledger/ingest/) is a row of docs/PROTOCOL.md's
 * "Why a reading is refused", and that table lists nothing else. Old names
 * stored by earlier ledgers read as the current ones.
 */
import t from 'tap'
import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import {
  currentReason,
  decodeReason,
  DECODE_REASONS,
  isReadingRefusalReason,
  PROTOCOL_ERROR_CODES,
  READING_REFUSAL_REASONS,
} from '../protocol/index.ts'
import { openLedger } from '../store/ledger.ts'
import { tempDir } from './support.ts'

const ingestDir = fileURLToPath(new URL('../ingest', import.meta.url))
const doc = readFileSync(new URL('../../docs/PROTOCOL.md', import.meta.url), 'utf8')

function tableCodes(): Set<string> {
  const from = doc.indexOf('### Why a reading is refused')
  const section = doc.slice(from, doc.indexOf('\n#', from + 10))
  return new Set([...section.matchAll(/^\| `(ERR_[A-Z_]+)` \|/gm)].map((m) => m[1]))
}

/** ERR_ literals in the ingest's sources; ERR_LEDGER_* are the store's errors it reacts to, never a reason it emits. */
function ingestLiterals(): Set<string> {
  const files = readdirSync(ingestDir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
  const out = new Set<string>()
  for (const f of files)
    for (const m of readFileSync(`${ingestDir}/${f}`, 'utf8').matchAll(/\bERR_[A-Z_]+\b/g))
      if (!m[0].startsWith('ERR_LEDGER_')) out.add(m[0])
  return out
}

t.test('every code the ingest can emit is in the spec table, and the table lists only those', async (t) => {
  const table = tableCodes()
  t.ok(table.size >= 15, `the table has its rows (${table.size})`)
  const literals = ingestLiterals()
  t.ok(literals.size >= 10, `the ingest sources name codes (${literals.size})`)
  for (const code of literals)
    t.ok(isReadingRefusalReason(code), `${code}, named in ledger/ingest/, is in the catalogue`)
  const emitted = new Set([...Object.keys(READING_REFUSAL_REASONS), ...DECODE_REASONS, ...literals])
  for (const code of emitted) t.ok(table.has(code), `${code} is listed in docs/PROTOCOL.md`)
  for (const code of table) t.ok(emitted.has(code), `${code} in the table is a code the ingest emits`)
  // Each catalogue code is reachable: named in the ingest, or passed on from the decoder.
  for (const code of Object.keys(READING_REFUSAL_REASONS))
    t.ok(literals.has(code) || (DECODE_REASONS as readonly string[]).includes(code), `${code} has a path in the ingest`)
  for (const code of DECODE_REASONS) t.ok(code in PROTOCOL_ERROR_CODES, `${code} is a decoder code`)
})

t.test('old names map to the catalogue', async (t) => {
  t.equal(currentReason('ERR_OVERSIZED'), 'ERR_READING_TOO_LARGE')
  t.equal(currentReason('ERR_BAD_SIGNATURE'), 'ERR_READING_BAD_SIGNATURE')
  t.equal(currentReason('ERR_MALFORMED', { protocolCode: 'ERR_READING_FIELD_RANGE' }), 'ERR_READING_FIELD_RANGE')
  t.equal(currentReason('ERR_MALFORMED', {}), 'ERR_READING_TRUNCATED', 'no decoder code: not a reading at all')
  t.equal(currentReason('ERR_HELD_LIMIT'), 'ERR_HELD_LIMIT', 'current names are unchanged')
  t.equal(decodeReason('ERR_KEY_SMALL_ORDER'), 'ERR_READING_TRUNCATED', 'a non-decode code is not passed on')
})

t.test('a ledger holding records and counters under the old names reads them under the new ones', async (t) => {
  const { dir, remove } = await tempDir()
  t.teardown(remove)
  const T = 1_763_971_200_000
  let ledger = await openLedger({ dir, clock: () => T, checkpointIntervalMs: 0 })
  // Written as an earlier version wrote them (the names are no longer in the type).
  const old = (reason: string, details?: Record<string, unknown>) =>
    ledger.quarantine({
      reason: reason as never,
      message: 'old',
      time: T,
      topic: 't',
      raw: 'AA==',
      rawLength: 1,
      ...(details ? { details } : {}),
    })
  await old('ERR_OVERSIZED')
  await old('ERR_MALFORMED', { protocolCode: 'ERR_READING_UNKNOWN_FIELD' })
  await old('ERR_MALFORMED', { protocolCode: 'ERR_READING_FIELD_RANGE', field: 'seq' })
  await old('ERR_BAD_SIGNATURE')
  await ledger.close()
  ledger = await openLedger({ dir, clock: () => T, checkpointIntervalMs: 0 })
  t.teardown(() => ledger.close())
  const q = await ledger.quarantined({ limit: 10 })
  t.same(
    q.map((r) => r.reason),
    ['ERR_READING_TOO_LARGE', 'ERR_READING_UNKNOWN_FIELD', 'ERR_READING_FIELD_RANGE', 'ERR_READING_BAD_SIGNATURE'],
    'records read under the new names',
  )
  t.same(
    ledger.stats().quarantineByReason,
    {
      ERR_READING_TOO_LARGE: 1,
      ERR_READING_UNKNOWN_FIELD: 1,
      ERR_READING_FIELD_RANGE: 1,
      ERR_READING_BAD_SIGNATURE: 1,
    },
    'counters too, split by the kept decoder codes',
  )
})
