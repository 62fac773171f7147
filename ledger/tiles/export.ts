/**
 * Exports a ledger as C2SP tlog-tiles static files (docs/PROTOCOL.md,
 * "Tiles for readers"): `checkpoint`, `tile/<L>/<N>[.p/<W>]` and
 * `tile/entries/<N>[.p/<W>]`, which any web server, object store or CDN can
 * serve. Each entry bundle holds the exact stored entry bytes (canonical
 * JSON) whose RFC 6962 leaf hashes make the level-0 tile.
 *
 * Incremental and crash-safe: a tile file, once written, is never rewritten
 * (full tiles are immutable; a partial tile names its width), so a re-run
 * writes only the tiles the new size adds. Each file is written to a temp
 * name and renamed. The checkpoint is written last, and only after the root
 * recomputed from the written tiles equals its signed root, so a reader never
 * sees a checkpoint whose tiles are missing.
 */
import { mkdir, readFile, stat } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { consistencyProof, leafHash, rootAt, verifyConsistency } from '../tlog/index.ts'
import { parseCheckpoint, verifyCheckpoint, type Checkpoint } from '../tlog/index.ts'
import { parseNote, parseVerifierKey, type SignatureVerifier } from '../tlog/index.ts'
import { toBase64 } from '../protocol/index.ts'
import { writeFileAtomic } from '../protocol/atomic-file.ts'
import { entryBundlePath, hashTilePath, TILE_WIDTH, TilesError, tilesForSize } from './tile-path.ts'
import { encodeEntryBundle, parseHashTile, perfectRoot, tileNodeReader } from './tile-reader.ts'

export const CHECKPOINT_FILE = 'checkpoint'

export interface TileSource {
  /** The signed checkpoint note to publish: the tiles of its tree size are written. */
  note: string
  /** The log's verifier key; the note must verify under it. */
  verifierKey: string
  /** Stored entry bytes, for entry indexes below the checkpoint size. */
  entryBytes(index: number): Promise<Uint8Array>
}

export interface TilesExport {
  size: number
  rootHash: string
  /** Size of the checkpoint the directory held before (0 when new). */
  previousSize: number
  hashTilesWritten: number
  entryBundlesWritten: number
}

const exists = async (path: string, length?: number): Promise<boolean> => {
  try {
    const s = await stat(path)
    if (length !== undefined && s.size !== length)
      throw new TilesError(
        'ERR_TILES_BAD_TILE',
        `${path} is ${s.size} bytes, a full tile is ${length}: remove it and export again`,
        { path },
      )
    return true
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false
    throw e
  }
}

async function writeAtomic(path: string, bytes: Uint8Array | string): Promise<void> {
  await mkdir(dirname(path), { recursive: true })
  // Not fsynced: an export lost in a crash is exported again from the ledger.
  await writeFileAtomic(path, bytes, { durable: false })
}

async function previousCheckpoint(out: string, origin: string): Promise<Checkpoint | null> {
  let note: string
  try {
    note = await readFile(join(out, CHECKPOINT_FILE), 'utf8')
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw e
  }
  let cp: Checkpoint
  try {
    cp = parseCheckpoint(parseNote(note).text)
  } catch (e) {
    throw new TilesError(
      'ERR_TILES_OTHER_LOG',
      `${join(out, CHECKPOINT_FILE)} is not a checkpoint (${(e as Error).message}); export into an empty directory`,
    )
  }
  if (cp.origin !== origin)
    throw new TilesError(
      'ERR_TILES_OTHER_LOG',
      `${out} holds the tiles of log ${JSON.stringify(cp.origin)}, not ${JSON.stringify(origin)}; export into another directory`,
      { origin: cp.origin },
    )
  return cp
}

/** Writes the tiles of `src.note`'s tree into `out` (creating it), then the checkpoint. */
export async function exportTiles(
  src: TileSource,
  out: string,
  opts: { verify?: SignatureVerifier } = {},
): Promise<TilesExport> {
  const key = parseVerifierKey(src.verifierKey)
  const cp = await verifyCheckpoint(src.note, src.verifierKey, { origin: key.name, verify: opts.verify })
  const { size } = cp
  const fetchTile = async (path: string) => new Uint8Array(await readFile(join(out, path)))
  const prev = await previousCheckpoint(out, cp.origin)
  if (prev) {
    if (prev.size > size)
      throw new TilesError(
        'ERR_TILES_OTHER_LOG',
        `${out} already holds a checkpoint of size ${prev.size}, newer than the ledger's ${size}`,
        { previous: prev.size, size },
      )
    // The tiles there must be this log's history: their root at the old size is the old signed root.
    const old = await rootAt(prev.size, tileNodeReader(prev.size, fetchTile)).catch((e: Error) => {
      throw new TilesError(
        'ERR_TILES_OTHER_LOG',
        `the tiles in ${out} for its checkpoint of size ${prev.size} cannot be read: ${e.message}`,
      )
    })
    if (toBase64(old) !== toBase64(prev.rootHash))
      throw new TilesError(
        'ERR_TILES_OTHER_LOG',
        `the tiles in ${out} do not match its own checkpoint of size ${prev.size}`,
        { previous: prev.size },
      )
  }
  await mkdir(out, { recursive: true })
  const result: TilesExport = {
    size,
    rootHash: toBase64(cp.rootHash),
    previousSize: prev?.size ?? 0,
    hashTilesWritten: 0,
    entryBundlesWritten: 0,
  }

  // Roots of full tiles, by "level/index", as this run learns them (the hashes of the level above).
  const roots = new Map<string, Uint8Array>()
  const fullTileRoot = async (level: number, n: number): Promise<Uint8Array> => {
    const known = roots.get(`${level}/${n}`)
    if (known) return known
    const path = hashTilePath(level, n)
    return perfectRoot(parseHashTile(await fetchTile(path), TILE_WIDTH, path))
  }
  const writeLevel0 = async (n: number, width: number): Promise<void> => {
    const tilePath = join(out, hashTilePath(0, n, width)),
      bundlePath = join(out, entryBundlePath(n, width))
    const full = width === TILE_WIDTH
    const [haveTile, haveBundle] = [
      await exists(tilePath, full ? TILE_WIDTH * 32 : undefined),
      await exists(bundlePath),
    ]
    if (haveTile && haveBundle) return
    const entries: Uint8Array[] = []
    for (let i = 0; i < width; i++) entries.push(await src.entryBytes(n * TILE_WIDTH + i))
    const hashes = entries.map((e) => leafHash(e))
    if (!haveBundle) {
      await writeAtomic(bundlePath, encodeEntryBundle(entries, n * TILE_WIDTH))
      result.entryBundlesWritten++
    }
    if (!haveTile) {
      await writeAtomic(tilePath, concat(hashes))
      result.hashTilesWritten++
    }
    if (full) roots.set(`0/${n}`, perfectRoot(hashes))
  }
  const writeUpper = async (level: number, n: number, width: number): Promise<void> => {
    const path = join(out, hashTilePath(level, n, width))
    if (await exists(path, width === TILE_WIDTH ? TILE_WIDTH * 32 : undefined)) return
    const hashes: Uint8Array[] = []
    for (let i = 0; i < width; i++) hashes.push(await fullTileRoot(level - 1, n * TILE_WIDTH + i))
    await writeAtomic(path, concat(hashes))
    result.hashTilesWritten++
    if (width === TILE_WIDTH) roots.set(`${level}/${n}`, perfectRoot(hashes))
  }

  // Bottom-up, so every tile's hashes (roots of full tiles below) are on disk or in `roots`.
  for (const { level, full, partial } of tilesForSize(size)) {
    // Full tiles wholly inside the previous export exist already (checked by the root above).
    const from = prev ? Math.floor(prev.size / TILE_WIDTH ** (level + 1)) : 0
    for (let n = from; n < full; n++)
      await (level === 0 ? writeLevel0(n, TILE_WIDTH) : writeUpper(level, n, TILE_WIDTH))
    if (partial > 0) await (level === 0 ? writeLevel0(full, partial) : writeUpper(level, full, partial))
  }

  const root = await rootAt(size, tileNodeReader(size, fetchTile))
  if (toBase64(root) !== result.rootHash) {
    throw new TilesError(
      'ERR_TILES_ROOT_MISMATCH',
      `the tiles written give root ${toBase64(root)} at size ${size}; the checkpoint signs ${result.rootHash}: the ledger's entries do not match its checkpoint (run coldproof verify-ledger)`,
      { size },
    )
  }
  if (prev) {
    // The directory's old checkpoint must be a prefix of this tree, or the directory holds another history.
    const tiles = tileNodeReader(size, fetchTile)
    try {
      verifyConsistency(prev.size, size, prev.rootHash, root, await consistencyProof(prev.size, size, tiles))
    } catch {
      throw new TilesError(
        'ERR_TILES_OTHER_LOG',
        `the checkpoint of size ${prev.size} in ${out} is not consistent with the ledger's tree of size ${size}: the directory holds another history; export into an empty directory`,
        { previous: prev.size, size },
      )
    }
  }
  await writeAtomic(join(out, CHECKPOINT_FILE), src.note)
  return result
}

function concat(hashes: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(hashes.length * 32)
  hashes.forEach((h, i) => out.set(h, i * 32))
  return out
}
