/**
 * An independent reader (./tlog-reader.ts: node:crypto and node:http only,
 * no ColdProof code) walks the tiles `coldproof tiles` exports from a real
 * LevelDB ledger, served over HTTP: it verifies the checkpoint signature,
 * recomputes the root from the hash tiles and from the entry bundles, and
 * checks inclusion proofs built from the tiles. The reader itself is first
 * checked against the published RFC 6962 (transparency-dev/merkle) and
 * signed-note (C2SP, Go sumdb) vectors in ledger/tlog/testdata.
 * No published tlog-tiles vectors (tile files for a known tree) were found;
 * the tile shape is checked against the spec's own size-70,000 example in
 * ledger/tiles/tiles.test.ts.
 */
import t from 'tap'
import { readFileSync } from 'node:fs'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openLedger } from '../../store/ledger.ts'
import { simDevice } from '../../test/support.ts'
import { tilesCommand } from '../../../scripts/commands/tiles.ts'
import { tilesHandler, TILE_CACHE } from '../serve.ts'
import {
  httpGet,
  inclusionPath,
  leafHashOf,
  mth,
  parseCheckpointText,
  readTiledLog,
  verifyInclusionPath,
  verifyNote,
} from './tlog-reader.ts'

const testdata = (p: string) => JSON.parse(readFileSync(new URL(`../../tlog/testdata/${p}`, import.meta.url), 'utf8'))
const hex = (h: string) => Buffer.from(h, 'hex')

t.test('the independent reader agrees with the published RFC 6962 and signed-note vectors', async (t) => {
  const tree = testdata('rfc6962/tree.json') as { leaves: string[]; roots: string[] }
  const leaves = tree.leaves.map((l) => leafHashOf(hex(l)))
  for (let n = 0; n <= 8; n++) t.equal(mth(leaves.slice(0, n)).toString('hex'), tree.roots[n], `root of ${n}`)
  for (const f of [
    'inclusion-0-of-8.json',
    'inclusion-1-of-5.json',
    'inclusion-2-of-3.json',
    'inclusion-5-of-8.json',
  ]) {
    const v = testdata(`rfc6962/${f}`) as { leafIndex: number; size: number; root: string; proof: string[] }
    t.ok(verifyInclusionPath(leaves[v.leafIndex], v.leafIndex, v.size, v.proof.map(hex), hex(v.root)), f)
    if (v.proof.length > 1)
      t.notOk(
        verifyInclusionPath(leaves[v.leafIndex], v.leafIndex, v.size, v.proof.map(hex).reverse(), hex(v.root)),
        `${f}, proof reordered`,
      )
  }
  const c2sp = testdata('signed-note/c2sp-example.json') as { verifierKey: string; note: string; text: string }
  t.equal(verifyNote(c2sp.note, c2sp.verifierKey), c2sp.text)
  const go = testdata('signed-note/go-sumdb-note.json') as { verifierKey: string; note: string; text: string }
  t.equal(verifyNote(go.note, go.verifierKey), go.text)
  t.throws(() => verifyNote(go.note.replace('cryptography', 'cryptographY'), go.verifierKey), /does not verify/)
  t.equal(parseCheckpointText(testdata('checkpoint/c2sp-example.json').text).size, 20852163)
})

async function serve(t: { teardown(fn: () => unknown): void }, dir: string): Promise<string> {
  const server: Server = createServer(tilesHandler(dir, '/tiles/'))
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  t.teardown(() => new Promise<void>((r) => server.close(() => r())))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/tiles/`
}

async function addDevices(dir: string, from: number, count: number): Promise<string> {
  const ledger = await openLedger({ dir, checkpointIntervalMs: 0 })
  try {
    // Concurrent writes are group-committed: a few durable batches, not one per device.
    await Promise.all(
      Array.from({ length: count }, (_, i) => {
        const d = simDevice(`tile-probe-${from + i}`, 1 + ((from + i) % 250))
        return ledger.registerDevice({ deviceId: d.id, publicKey: d.publicKey, by: 'qa@example.eu', model: 'sim-1' })
      }),
    )
    await ledger.checkpoint()
    return ledger.verifierKey
  } finally {
    await ledger.close()
  }
}

t.test('tiles exported from a real ledger verify with the independent reader over HTTP', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'coldproof-tiles-ledger-'))
  const out = await mkdtemp(join(tmpdir(), 'coldproof-tiles-out-'))
  t.teardown(() => Promise.all([rm(dir, { recursive: true, force: true }), rm(out, { recursive: true, force: true })]))
  const vkey = await addDevices(dir, 0, 300)
  t.equal(await tilesCommand({ data: dir, out }), 0, 'coldproof tiles exports')
  const base = await serve(t, out)

  const check = async (what: string) => {
    const log = await readTiledLog(base, vkey)
    const { size, root } = log.checkpoint
    t.ok(size >= 300, `${what}: checkpoint of size ${size}`)
    t.ok(log.rootFromTiles.equals(root), `${what}: root from the hash tiles = the signed root`)
    t.ok(log.rootFromEntries.equals(root), `${what}: root from the entry bundles = the signed root`)
    t.ok(
      log.entries.every((e, i) => (JSON.parse(e.toString('utf8')) as { index: number }).index === i),
      `${what}: each bundled entry is the ledger entry of its index`,
    )
    for (const i of [0, 1, 255, 256, size - 1]) {
      const path = inclusionPath(log, i)
      t.ok(
        verifyInclusionPath(leafHashOf(log.entries[i]), i, size, path, root),
        `${what}: inclusion of entry ${i} from the tiles`,
      )
      if (path.length) {
        const bad = path.map((h) => Buffer.from(h))
        bad[0][0] ^= 1
        t.notOk(
          verifyInclusionPath(leafHashOf(log.entries[i]), i, size, bad, root),
          `${what}: an altered proof of ${i} fails`,
        )
      }
    }
    return log
  }
  const first = await check('first export')
  const tile = await httpGet(base, 'tile/0/000')
  t.equal(tile.headers['cache-control'], TILE_CACHE, 'full tiles are served as immutable')
  t.match((await httpGet(base, 'checkpoint')).headers['content-type'], /^text\/plain; charset=utf-8/)
  await t.rejects(httpGet(base, '../checkpoint'), /HTTP 404/, 'nothing outside the layout is served')

  await addDevices(dir, 300, 40)
  t.equal(await tilesCommand({ data: dir, out }), 0, 'the re-run exports the new entries')
  const second = await check('incremental export')
  t.ok(second.checkpoint.size > first.checkpoint.size, 'the tree grew')
  t.ok(
    second.leafHashes.slice(0, first.checkpoint.size).every((h, i) => h.equals(first.leafHashes[i])),
    'the earlier leaves are unchanged',
  )

  // A running ledger holds the LevelDB lock: the export says so instead of reading a moving database.
  const running = await openLedger({ dir, checkpointIntervalMs: 0 })
  try {
    t.equal(await tilesCommand({ data: dir, out }), 2, 'a locked (running) ledger is refused')
  } finally {
    await running.close()
  }

  // A tampered bundle is caught by a reader: its entries no longer hash to the signed root.
  const bundle = join(out, 'tile/entries/000')
  const bytes = await readFile(bundle)
  bytes[10] ^= 1
  await writeFile(bundle, bytes)
  const tampered = await readTiledLog(base, vkey)
  t.notOk(
    tampered.rootFromEntries.equals(tampered.checkpoint.root),
    'a flipped byte in an entry bundle changes the root from the entries',
  )
})
