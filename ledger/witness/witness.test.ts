/**
 * The witness over real HTTP (coldproof witness's server on 127.0.0.1:0):
 * it cosigns a log's checkpoints as long as each extends the last one by a
 * valid consistency proof, and refuses a split view (another root at the
 * cosigned size, or a larger tree of another history) with 409/422, never
 * cosigning it, also after a restart from its state file. The submitter
 * learns a witness's size from its 409 and stores the cosignatures.
 * The cosignature format itself is checked round trip, with altered lines.
 */
import t from 'tap'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { consistencyProof, leafHash, nodeReaderFromLeaves, rootAt } from '../tlog/merkle.ts'
import { formatCheckpoint, parseCheckpoint } from '../tlog/checkpoint.ts'
import { parseNote, signNote, verifierKey, verifyNote } from '../tlog/note.ts'
import { nobleSign, noblePublicKey } from '../protocol/test/support.ts'
import { fromBase64, toBase64, utf8 } from '../protocol/bytes.ts'
import { startWitness } from '../../scripts/commands/witness.ts'
import {
  addSignatureLines,
  cosignatureLine,
  parseWitnessKey,
  verifyCosignature,
  witnessVerifierKey,
} from '../tlog/cosignature.ts'
import { postCheckpoint, WitnessSubmitter } from './submit.ts'
import { withCosignatures } from './cosignature-store.ts'

const ORIGIN = 'coldproof.test/witnessed'
const logSeed = new Uint8Array(32).fill(3),
  logPub = noblePublicKey(logSeed)
const LOG_VKEY = verifierKey(ORIGIN, logPub)

/** A log of `n` synthetic entries, or another history that differs from entry `forkAt` on. */
function history(n: number, forkAt = Infinity) {
  const leaves = Array.from({ length: n }, (_, i) => leafHash(utf8(i >= forkAt ? `other ${i}` : `entry ${i}`)))
  const reader = nodeReaderFromLeaves(leaves)
  return {
    note: async (size: number, origin = ORIGIN) =>
      signNote(
        formatCheckpoint({ origin, size, rootHash: await rootAt(size, reader) }),
        origin,
        (m) => nobleSign(m, logSeed),
        logPub,
      ),
    proof: (a: number, b: number) => consistencyProof(a, b, reader),
  }
}

async function tmp(t: { teardown(fn: () => unknown): void }): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'coldproof-witness-'))
  t.teardown(() => rm(d, { recursive: true, force: true }))
  return d
}

t.test('cosignature/v1 lines: round trip, altered, missing, wrong key type', async (t) => {
  const seed = new Uint8Array(32).fill(5),
    pub = noblePublicKey(seed)
  const vkey = witnessVerifierKey('witness.test/w1', pub)
  t.equal(fromBase64(vkey.split('+')[2])[0], 4, 'key type byte 0x04')
  t.same(parseWitnessKey(vkey).publicKey, pub)
  const note = await history(10).note(10)
  const text = parseNote(note).text
  const line = cosignatureLine(
    text,
    { name: 'witness.test/w1', publicKey: pub },
    (m) => nobleSign(m, seed),
    1_700_000_000,
  )
  const cosigned = addSignatureLines(note, line)
  t.same(await verifyCosignature(cosigned, vkey), { timestamp: 1_700_000_000 })
  t.equal((await verifyNote(cosigned, LOG_VKEY)).text, text, 'the log signature still verifies beside the cosignature')
  const raw = fromBase64(line.trim().split(' ')[2])
  raw[20] ^= 1
  await t.rejects(
    verifyCosignature(addSignatureLines(note, `\u2014 witness.test/w1 ${toBase64(raw)}\n`), vkey),
    { code: 'ERR_COSIGNATURE_INVALID' },
    'an altered cosignature',
  )
  const ts = fromBase64(line.trim().split(' ')[2])
  ts[11] ^= 1
  await t.rejects(
    verifyCosignature(addSignatureLines(note, `\u2014 witness.test/w1 ${toBase64(ts)}\n`), vkey),
    { code: 'ERR_COSIGNATURE_INVALID' },
    'an altered timestamp',
  )
  await t.rejects(
    verifyCosignature(addSignatureLines(await history(11).note(11), line), vkey),
    { code: 'ERR_COSIGNATURE_INVALID' },
    'moved onto another checkpoint',
  )
  await t.rejects(verifyCosignature(note, vkey), { code: 'ERR_COSIGNATURE_MISSING' })
  t.throws(
    () => parseWitnessKey(LOG_VKEY),
    { code: 'ERR_COSIGNATURE_BAD_KEY' },
    'a log key (type 0x01) is not a witness key',
  )
})

t.test('a witness cosigns a growing log and refuses a split view, before and after a restart', async (t) => {
  const dir = await tmp(t)
  const opts = {
    key: join(dir, 'witness.key'),
    name: 'witness.test/w1',
    log: [LOG_VKEY],
    state: join(dir, 'state.json'),
    port: '0',
    host: '127.0.0.1',
  }
  let w = await startWitness(opts)
  t.teardown(() => w.close())
  const real = history(300),
    forked = history(300, 150)
  const post = (old: number, proof: Uint8Array[], note: string) => postCheckpoint(w.url, old, proof, note)

  const first = await post(0, [], await real.note(100))
  t.equal(first.status, 200, 'first checkpoint cosigned')
  t.ok(await verifyCosignature(addSignatureLines(await real.note(100), first.body), w.verifierKey))
  t.equal((await post(0, [], await real.note(200))).status, 409, 'old size 0 is not the cosigned size')
  const c = await post(0, [], await real.note(200))
  t.equal(c.contentType, 'text/x.tlog.size')
  t.equal(c.body, '100\n', "409 names the witness's size")
  const grown = await post(100, await real.proof(100, 200), await real.note(200))
  t.equal(grown.status, 200, 'a consistent larger checkpoint is cosigned')

  // The split view: another history (diverging at entry 150) shown to someone else.
  const sameSize = await post(200, [], await forked.note(200))
  t.equal(sameSize.status, 409, 'another root at the cosigned size: 409')
  t.equal(sameSize.body, '200\n')
  t.equal((await post(0, [], await forked.note(200))).status, 409, 'the same, claiming to be new')
  const larger = await post(200, await forked.proof(200, 300), await forked.note(300))
  t.equal(
    larger.status,
    422,
    'a larger checkpoint of the other history: its proof from the cosigned tree does not verify',
  )
  t.equal(
    (await post(100, await forked.proof(100, 300), await forked.note(300))).status,
    409,
    'an older base is refused',
  )
  t.same(
    JSON.parse(await readFile(opts.state, 'utf8')).logs[ORIGIN],
    { size: 200, rootHash: toBase64(parseCheckpoint(parseNote(await real.note(200)).text).rootHash) },
    'the state file holds the cosigned size and root, nothing of the fork',
  )

  // Other refusals of the spec.
  t.equal((await post(0, [], await real.note(10, 'coldproof.test/unknown'))).status, 404, 'unknown log')
  const forged = (await real.note(250)).replace(/ [A-Za-z0-9+/=]+\n$/, ` ${toBase64(new Uint8Array(68))}\n`)
  t.equal((await post(200, await real.proof(200, 250), forged)).status, 403, 'no valid signature by the log')
  t.equal((await post(260, [], await real.note(250))).status, 400, 'old size above the checkpoint size')
  t.equal((await postCheckpoint(w.url, 0, [], 'not a checkpoint\n')).status, 400, 'malformed')

  // Restart: the state is durable, the fork is still refused and the real log still grows.
  await w.close()
  w = await startWitness(opts)
  t.equal((await post(200, [], await forked.note(200))).status, 409, 'after a restart the split view is still refused')
  t.equal(
    (await post(200, await real.proof(200, 300), await real.note(300))).status,
    200,
    'and the real log still grows',
  )

  // A witness that lost its memory could be made to cosign the fork: a damaged state file stops it.
  await w.close()
  await writeFile(opts.state, '{"format":"coldproof-witness-state","version":1,"lo')
  await t.rejects(startWitness(opts), { code: 'ERR_WITNESS_STATE' })
})

t.test('the submitter learns the witness size from a 409 and stores the cosignatures beside the ledger', async (t) => {
  const dir = await tmp(t)
  const w = await startWitness({
    key: join(dir, 'w.key'),
    log: [LOG_VKEY],
    state: join(dir, 'state.json'),
    port: '0',
    host: '127.0.0.1',
  })
  t.teardown(() => w.close())
  const log = history(64)
  t.equal(
    (await postCheckpoint(w.url, 0, [], await log.note(20))).status,
    200,
    'another process had the witness cosign size 20',
  )
  const ledgerDir = join(dir, 'ledger')
  const sub = new WitnessSubmitter(ledgerDir, log.proof, [{ url: w.url, vkey: w.verifierKey }])
  const note = await log.note(64)
  const [r] = await sub.submit(note)
  t.match(r, { ok: true, status: 200 })
  const carried = await withCosignatures(ledgerDir, note)
  t.ok(await verifyCosignature(carried, w.verifierKey), 'the stored cosignature verifies on the checkpoint')
  t.equal(await withCosignatures(ledgerDir, await log.note(63)), await log.note(63), 'another checkpoint carries none')
  const [again] = await new WitnessSubmitter(ledgerDir, history(64, 30).proof, [
    { url: w.url, vkey: w.verifierKey },
  ]).submit(await history(64, 30).note(64))
  t.match(again, { ok: false, status: 409 }, 'a submitter of another history is refused')
})
