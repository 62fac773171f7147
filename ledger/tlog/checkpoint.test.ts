/**
 * tlog-checkpoint bodies and tlog-proofs: the C2SP example parses, a ledger
 * checkpoint signed with one engine verifies with the other, and a proof for
 * each leaf of a real tree verifies end to end while altered ones fail.
 */
import t from 'tap'
import { readFileSync } from 'node:fs'
import { fromBase64, toBase64, utf8 } from '../protocol/bytes.ts'
import { nobleSign, noblePublicKey, nodeVerify } from '../protocol/test/support.ts'
import { formatCheckpoint, parseCheckpoint, verifyCheckpoint } from './checkpoint.ts'
import { formatTlogProof, parseTlogProof, verifyTlogProof, TLOG_PROOF_HEADER } from './tlog-proof.ts'
import { inclusionProof, leafHash, nodeReaderFromLeaves, rootAt } from './merkle.ts'
import { signNote, verifierKey, type SignatureVerifier } from './note.ts'

const ex = JSON.parse(readFileSync(new URL('./testdata/checkpoint/c2sp-example.json', import.meta.url), 'utf8')) as {
  source: string
  text: string
  origin: string
  size: number
  rootHashBase64: string
}
const nodeNoteVerify: SignatureVerifier = nodeVerify
const origin = 'coldproof.example/ledger'
const seed = new Uint8Array(32).fill(3),
  pub = noblePublicKey(seed),
  vkey = verifierKey(origin, pub)
const sign = (text: string) => signNote(text, origin, (m) => nobleSign(m, seed), pub)

t.test('C2SP tlog-checkpoint example', async (t) => {
  t.match(ex.source, /c2sp\.org\/tlog-checkpoint/)
  const c = parseCheckpoint(ex.text)
  t.equal(c.origin, ex.origin)
  t.equal(c.size, ex.size)
  t.equal(toBase64(c.rootHash), ex.rootHashBase64)
  t.equal(formatCheckpoint(c), ex.text, 'formats back byte for byte')
})

t.test('checkpoint body rules', async (t) => {
  const root = new Uint8Array(32).fill(1)
  const text = formatCheckpoint({ origin, size: 0, rootHash: root })
  t.equal(text, `${origin}\n0\n${toBase64(root)}\n`)
  t.same(
    parseCheckpoint(`${origin}\n5\n${toBase64(root)}\next one\n`).extensions,
    ['ext one'],
    'extension lines are kept',
  )
  for (const [bad, why] of [
    [`${origin}\n05\n${toBase64(root)}\n`, 'leading zero'],
    [`${origin}\n-1\n${toBase64(root)}\n`, 'negative size'],
    [`${origin}\n1e3\n${toBase64(root)}\n`, 'exponent'],
    [`${origin}\n5\n${toBase64(root.subarray(1))}\n`, '31-byte root'],
    [`${origin}\n5\n${toBase64(root).replace(/=$/, '')}\n`, 'unpadded base64'],
    [`${origin}\n5\n${toBase64(root)}`, 'no final newline'],
    [`\n5\n${toBase64(root)}\n`, 'empty origin'],
    [`${origin}\n5\n`, 'no root line'],
    [`${origin}\n5\n${toBase64(root)}\n\n`, 'empty extension line'],
    [`${origin}\n99999999999999999\n${toBase64(root)}\n`, 'size beyond 2^53'],
  ] as const)
    t.throws(() => parseCheckpoint(bad), { code: 'ERR_CHECKPOINT_MALFORMED' }, why)
})

t.test('signed checkpoint: noble signs, Node verifies; origin checked', async (t) => {
  const root = new Uint8Array(32).fill(5)
  const note = sign(formatCheckpoint({ origin, size: 42, rootHash: root }))
  const c = await verifyCheckpoint(note, vkey, { origin, verify: nodeNoteVerify })
  t.equal(c.size, 42)
  t.same(c.rootHash, root)
  await t.rejects(verifyCheckpoint(note, vkey, { origin: 'other.example/log' }), { code: 'ERR_CHECKPOINT_ORIGIN' })
  await t.rejects(
    verifyCheckpoint(note.replace('\n42\n', '\n43\n'), vkey),
    { code: 'ERR_NOTE_BAD_SIGNATURE' },
    'a changed size breaks the signature',
  )
})

t.test('tlog-proof: every leaf of a 13-leaf tree, end to end', async (t) => {
  const entries = Array.from({ length: 13 }, (_, i) => utf8(`entry ${i}`))
  const leaves = entries.map(leafHash),
    read = nodeReaderFromLeaves(leaves)
  const note = sign(formatCheckpoint({ origin, size: 13, rootHash: await rootAt(13, read) }))
  for (let i = 0; i < 13; i++) {
    const text = formatTlogProof(i, await inclusionProof(i, 13, read), note)
    t.ok(text.startsWith(`${TLOG_PROOF_HEADER}\nindex ${i}\n`), `proof ${i} header`)
    const r = await verifyTlogProof(text, leaves[i], vkey, { origin, verify: nodeNoteVerify })
    t.equal(r.index, i)
    await t.rejects(
      verifyTlogProof(text, leaves[(i + 1) % 13], vkey, { origin }),
      { code: 'ERR_MERKLE_ROOT_MISMATCH' },
      `another leaf fails at ${i}`,
    )
  }
  const p = formatTlogProof(4, await inclusionProof(4, 13, read), note, utf8('extra'))
  const parsed = parseTlogProof(p)
  t.same(parsed.extra, utf8('extra'))
  t.equal(parsed.index, 4)
  t.equal(parsed.checkpoint, note)
  t.equal(parsed.proof.length, 4)
  await t.rejects(
    verifyTlogProof(p.replace('index 4', 'index 5'), leaves[4], vkey),
    { code: 'ERR_MERKLE_ROOT_MISMATCH' },
    'wrong index',
  )
  const lines = p.split('\n')
  lines[3] = toBase64(fromBase64(lines[3]).map((b, j) => (j === 0 ? b ^ 1 : b)))
  await t.rejects(
    verifyTlogProof(lines.join('\n'), leaves[4], vkey),
    { code: 'ERR_MERKLE_ROOT_MISMATCH' },
    'flipped bit in a proof hash',
  )
  await t.rejects(
    verifyTlogProof(p.replace('index 4', 'index 04'), leaves[4], vkey),
    { code: 'ERR_TLOG_PROOF_MALFORMED' },
    'leading zero',
  )
  await t.rejects(
    verifyTlogProof(p.replace(TLOG_PROOF_HEADER, 'c2sp.org/tlog-proof@v2'), leaves[4], vkey),
    { code: 'ERR_TLOG_PROOF_MALFORMED' },
    'other version',
  )
  await t.rejects(
    verifyTlogProof(p.replace('\n\n', '\n'), leaves[4], vkey),
    { code: 'ERR_TLOG_PROOF_MALFORMED' },
    'no empty line',
  )
})
