/**
 * The error-code catalogues of the integrity modules and docs/ARCHITECTURE.md
 * stay in sync (one catalogue of codes per part, listed in the docs).
 */
import t from 'tap'
import { readFileSync } from 'node:fs'
import { FSCK_ERROR_CODES } from './fsck.ts'
import { MERKLE_ERROR_CODES } from '../tlog/merkle.ts'
import { NOTE_ERROR_CODES } from '../tlog/note.ts'
import { CHECKPOINT_ERROR_CODES } from '../tlog/checkpoint.ts'
import { ENTRY_ERROR_CODES } from '../tlog/entry-codec.ts'

const doc = readFileSync(new URL('../../docs/ARCHITECTURE.md', import.meta.url), 'utf8')
const codes = [
  FSCK_ERROR_CODES,
  MERKLE_ERROR_CODES,
  NOTE_ERROR_CODES,
  CHECKPOINT_ERROR_CODES,
  ENTRY_ERROR_CODES,
].flatMap(Object.keys)
for (const code of [...codes, 'ERR_TLOG_PROOF_MALFORMED']) t.ok(doc.includes(`\`${code}\``), `${code} is documented`)
const documented = new Set(
  [...doc.matchAll(/`(ERR_(?:FSCK|MERKLE|NOTE|CHECKPOINT|ENTRY|TLOG_PROOF)_[A-Z_]+)`/g)].map((m) => m[1]),
)
for (const code of documented)
  t.ok(codes.includes(code) || code === 'ERR_TLOG_PROOF_MALFORMED', `documented ${code} exists`)
