/**
 * The tlog-tiles export: path encoding, the tile shape of the spec's own
 * example (size 70,000), roots and proofs recomputed from the written files
 * against the in-memory Merkle code, incremental re-runs, and the refusals
 * (another log's directory, a checkpoint the entries do not match, an entry
 * too long for a bundle).
 */
import t from 'tap'
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  inclusionProof,
  consistencyProof,
  leafHash,
  nodeReaderFromLeaves,
  rootAt,
  rootFromLeaves,
} from '../tlog/merkle.ts'
import { formatCheckpoint } from '../tlog/checkpoint.ts'
import { signNote, verifierKey } from '../tlog/note.ts'
import { nobleSign, noblePublicKey } from '../protocol/test/support.ts'
import { toBase64, utf8 } from '../protocol/bytes.ts'
import { encodeTileIndex, entryBundlePath, hashTilePath, parseTilePath, tilesForSize } from './tile-path.ts'
import { parseEntryBundle, tileNodeReader } from './tile-reader.ts'
import { exportTiles, type TileSource } from './export.ts'

const ORIGIN = 'coldproof.test/tiles'
const seed = new Uint8Array(32).fill(9),
  publicKey = noblePublicKey(seed)
const VKEY = verifierKey(ORIGIN, publicKey)
const entry = (i: number) => utf8(`{"index":${i},"filler":"${'x'.repeat(i % 50)}"}`)
const ENTRIES = Array.from({ length: 70_000 }, (_, i) => entry(i))
const LEAVES = ENTRIES.map((e) => leafHash(e))
const memReader = nodeReaderFromLeaves(LEAVES)

async function source(
  size: number,
  opts: { origin?: string; root?: Uint8Array; entries?: Uint8Array[] } = {},
): Promise<TileSource> {
  const origin = opts.origin ?? ORIGIN,
    pub = publicKey
  const rootHash = opts.root ?? (await rootAt(size, memReader))
  const note = signNote(formatCheckpoint({ origin, size, rootHash }), origin, (m) => nobleSign(m, seed), pub)
  const entries = opts.entries ?? ENTRIES
  return { note, verifierKey: verifierKey(origin, pub), entryBytes: async (i) => entries[i] }
}

async function outDir(t: { teardown(fn: () => unknown): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'coldproof-tiles-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

const fsFetch = (dir: string) => async (p: string) => new Uint8Array(await readFile(join(dir, p)))

async function listFiles(dir: string, base = ''): Promise<string[]> {
  const out: string[] = []
  for (const d of await readdir(join(dir, base), { withFileTypes: true })) {
    const rel = base ? `${base}/${d.name}` : d.name
    if (d.isDirectory()) out.push(...(await listFiles(dir, rel)))
    else out.push(rel)
  }
  return out.sort()
}

t.test('tile paths: x-prefixed 3-digit groups, partial suffix, strict parse', async (t) => {
  t.equal(encodeTileIndex(0), '000')
  t.equal(encodeTileIndex(5), '005')
  t.equal(encodeTileIndex(1000), 'x001/000')
  t.equal(encodeTileIndex(1234067), 'x001/x234/067')
  t.equal(hashTilePath(1, 1234067, 17), 'tile/1/x001/x234/067.p/17')
  t.equal(entryBundlePath(273, 112), 'tile/entries/273.p/112')
  t.same(parseTilePath('tile/2/x001/x234/067'), { kind: 'hash', level: 2, index: 1234067, width: 256 })
  t.same(parseTilePath('tile/entries/000.p/1'), { kind: 'entries', index: 0, width: 1 })
  for (const bad of [
    'tile/0/x000/001',
    'tile/0/1',
    'tile/01/000',
    'tile/0/000.p/256',
    'tile/0/000.p/0',
    'tile/0/000.p/07',
    'tile/64/000',
    'tile/0/../000',
    '/tile/0/000',
  ]) {
    t.throws(() => parseTilePath(bad), { code: 'ERR_TILES_BAD_PATH' }, bad)
  }
  t.same(
    tilesForSize(256),
    [
      { level: 0, full: 1, partial: 0 },
      { level: 1, full: 0, partial: 1 },
    ],
    "size 256: a full tile and a level-1 tile of width 1 (the spec's example)",
  )
})

t.test(
  "size 70,000 gives the spec's tiles; roots and proofs from the files equal the in-memory tree; re-runs add only new tiles",
  async (t) => {
    const out = await outDir(t)
    const first = await exportTiles(await source(300), out)
    t.match(
      first,
      { size: 300, previousSize: 0, hashTilesWritten: 3, entryBundlesWritten: 2 },
      'size 300: tile/0/000, tile/0/001.p/44, tile/1/000.p/1 and two bundles',
    )
    const again = await exportTiles(await source(300), out)
    t.match(again, { hashTilesWritten: 0, entryBundlesWritten: 0 }, 'the same size again writes nothing')

    const r = await exportTiles(await source(70_000), out)
    t.equal(r.previousSize, 300)
    const files = await listFiles(out)
    const level = (l: number) => files.filter((f) => f.startsWith(`tile/${l}/`))
    t.equal(level(0).filter((f) => !f.includes('.p/')).length, 273, '273 full level-0 tiles')
    t.ok(files.includes('tile/0/273.p/112'), 'partial level-0 tile of width 112')
    t.ok(
      files.includes('tile/1/000') && files.includes('tile/1/001.p/17'),
      'one full level-1 tile and a partial of width 17',
    )
    t.ok(files.includes('tile/2/000.p/1'), 'a partial level-2 tile of width 1')
    t.ok(
      files.includes('tile/0/001.p/44') && files.includes('tile/1/000.p/1'),
      'the partial tiles of the earlier checkpoint stay (its readers still need them)',
    )
    t.equal(r.entryBundlesWritten, 273 - 1 + 1, 'bundles 001..272 and the partial 273 (000 was written at size 300)')
    t.equal((await stat(join(out, 'tile/0/000'))).size, 8192)

    const bundle = parseEntryBundle(await readFile(join(out, 'tile/entries/273.p/112')))
    t.equal(bundle.length, 112)
    t.equal(toBase64(bundle[5]), toBase64(ENTRIES[273 * 256 + 5]), 'a bundle holds the exact entry bytes')
    t.equal(
      await readFile(join(out, 'checkpoint'), 'utf8'),
      (await source(70_000)).note,
      'the published checkpoint is the signed note itself',
    )

    const tiles = tileNodeReader(70_000, fsFetch(out))
    t.equal(
      toBase64(await rootAt(70_000, tiles)),
      toBase64(rootFromLeaves(LEAVES)),
      'root from tiles = RFC 6962 root of the leaves',
    )
    for (const i of [0, 255, 256, 65_535, 65_536, 69_999])
      t.same(
        await inclusionProof(i, 70_000, tiles),
        await inclusionProof(i, 70_000, memReader),
        `inclusion proof of ${i}`,
      )
    t.same(
      await consistencyProof(300, 70_000, tiles),
      await consistencyProof(300, 70_000, memReader),
      'consistency proof 300 -> 70,000',
    )
    const older = tileNodeReader(300, fsFetch(out))
    t.equal(
      toBase64(await rootAt(300, older)),
      toBase64(rootFromLeaves(LEAVES.slice(0, 300))),
      "the old checkpoint's tree is still readable",
    )
  },
)

t.test(
  'refusals: another log, entries that do not match the checkpoint, a newer directory, an entry too long',
  async (t) => {
    const out = await outDir(t)
    await exportTiles(await source(10), out)
    await t.rejects(exportTiles(await source(20, { origin: 'coldproof.test/other' }), out), {
      code: 'ERR_TILES_OTHER_LOG',
    })
    await t.rejects(
      exportTiles(await source(5), out),
      { code: 'ERR_TILES_OTHER_LOG' },
      'a smaller checkpoint than the directory holds',
    )

    const forged = await outDir(t)
    await t.rejects(exportTiles(await source(10, { root: new Uint8Array(32) }), forged), {
      code: 'ERR_TILES_ROOT_MISMATCH',
    })
    await t.rejects(
      stat(join(forged, 'checkpoint')),
      { code: 'ENOENT' },
      'no checkpoint is published over tiles that do not match it',
    )

    const diverged = ENTRIES.slice(0, 20)
    diverged[3] = utf8('{"other":true}')
    const other = await outDir(t)
    await exportTiles(
      {
        ...(await source(10, {
          entries: diverged,
          root: rootFromLeaves(diverged.slice(0, 10).map((e) => leafHash(e))),
        })),
      },
      other,
    )
    await t.rejects(
      exportTiles(await source(20), other),
      { code: 'ERR_TILES_OTHER_LOG' },
      'tiles of a diverging history are not extended',
    )

    const big = ENTRIES.slice(0, 2).concat([new Uint8Array(70_000)])
    await t.rejects(
      exportTiles(
        await source(3, { entries: big, root: rootFromLeaves(big.map((e) => leafHash(e))) }),
        await outDir(t),
      ),
      { code: 'ERR_TILES_ENTRY_TOO_LARGE' },
    )
    t.equal(VKEY.startsWith(ORIGIN), true)
  },
)

t.test('every tiles and witness error code has its row in docs/PROTOCOL.md', async (t) => {
  const { TILES_ERROR_CODES } = await import('./tile-path.ts')
  const { COSIGNATURE_ERROR_CODES } = await import('../tlog/cosignature.ts')
  const doc = await readFile(new URL('../../docs/PROTOCOL.md', import.meta.url), 'utf8')
  const rows = new Map([...doc.matchAll(/^\| `(ERR_[A-Z_]+)` \| (.+) \|$/gm)].map((m) => [m[1], m[2]]))
  for (const [code, meaning] of Object.entries({ ...TILES_ERROR_CODES, ...COSIGNATURE_ERROR_CODES }))
    t.equal(rows.get(code), meaning, code)
  t.ok(rows.has('ERR_WITNESS_STATE'))
})
