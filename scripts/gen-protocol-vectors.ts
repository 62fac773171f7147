/**
 * Writes the wire-protocol test vectors:
 *   ledger/protocol/testdata/vectors/<name>.json       readings, auth token, refused payloads
 *   ledger/protocol/testdata/ed25519-edge/<name>.json  Wycheproof-style Ed25519 edge cases
 * and the generated "Test vectors" block of docs/PROTOCOL.md.
 *
 *   npx tsx scripts/gen-protocol-vectors.ts          # rewrite the files
 *   npx tsx scripts/gen-protocol-vectors.ts --check  # exit 1 if any file differs
 *
 * The output is deterministic; ledger/protocol/vectors.test.ts checks that the
 * committed files equal what this script would write.
 */
import { mkdirSync, readFileSync, readdirSync, writeFileSync, existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import {
  buildEdgeCases,
  buildProtocolVectors,
  renderVectorsMarkdown,
  DOC_VECTORS_BEGIN,
  DOC_VECTORS_END,
} from '../ledger/protocol/test/vectors.ts'

const root = new URL('../', import.meta.url)
const check = process.argv.includes('--check')
const diffs: string[] = []

function emit(dir: URL, files: Record<string, unknown>): void {
  if (!check) mkdirSync(dir, { recursive: true })
  const want = new Set(Object.keys(files).map((n) => `${n}.json`))
  for (const [name, data] of Object.entries(files)) {
    const file = new URL(`${name}.json`, dir)
    const text = JSON.stringify(data, null, 2) + '\n'
    const have = existsSync(file) ? readFileSync(file, 'utf8') : undefined
    if (have === text) continue
    diffs.push(fileURLToPath(file))
    if (!check) writeFileSync(file, text)
  }
  if (existsSync(dir)) {
    for (const f of readdirSync(dir))
      if (f.endsWith('.json') && !want.has(f))
        diffs.push(`${fileURLToPath(new URL(f, dir))} (stale: no longer generated, delete it)`)
  }
}

const vectors = buildProtocolVectors()
emit(new URL('ledger/protocol/testdata/vectors/', root), vectors)
emit(new URL('ledger/protocol/testdata/ed25519-edge/', root), buildEdgeCases())

const doc = new URL('docs/PROTOCOL.md', root)
if (existsSync(doc)) {
  const text = readFileSync(doc, 'utf8')
  const a = text.indexOf(DOC_VECTORS_BEGIN),
    b = text.indexOf(DOC_VECTORS_END)
  if (a < 0 || b < a) {
    diffs.push(`${fileURLToPath(doc)} (no generated-vectors markers)`)
  } else {
    const next = text.slice(0, a) + renderVectorsMarkdown(vectors) + text.slice(b + DOC_VECTORS_END.length)
    if (next !== text) {
      diffs.push(fileURLToPath(doc))
      if (!check) writeFileSync(doc, next)
    }
  }
}

if (check) {
  if (diffs.length) {
    console.error(
      `protocol vectors are out of date:\n  ${diffs.join('\n  ')}\nrun: npx tsx scripts/gen-protocol-vectors.ts`,
    )
    process.exit(1)
  }
  console.log('protocol vectors are up to date')
} else {
  console.log(diffs.length ? `wrote:\n  ${diffs.join('\n  ')}` : 'protocol vectors were already up to date')
}
