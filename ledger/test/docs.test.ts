/** The code catalogues of the store and the ingest stay in sync with their tables in docs/ARCHITECTURE.md. */
import t from 'tap'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { LEDGER_ERROR_CODES } from '../store/errors.ts'
import { QUARANTINE_REASONS } from '../store/state-types.ts'

t.test('every ledger error code and quarantine reason has a row in docs/ARCHITECTURE.md', async (t) => {
  const doc = await readFile(fileURLToPath(new URL('../../docs/ARCHITECTURE.md', import.meta.url)), 'utf8')
  const rows = new Set([...doc.matchAll(/^\| `(ERR_[A-Z_]+)` \|/gm)].map((m) => m[1]))
  for (const code of [...Object.keys(LEDGER_ERROR_CODES), ...Object.keys(QUARANTINE_REASONS)])
    t.ok(rows.has(code), `${code} is documented`)
})
