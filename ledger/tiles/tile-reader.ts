/**
 * Reading a tiled log back: entry bundles, hash tiles, and a Merkle
 * NodeReader over the tiles of one tree size, so the ledger's own RFC 6962
 * code (rootAt, inclusionProof, consistencyProof) runs over static files.
 * Pure: the caller supplies how a path is fetched (file system, HTTP).
 */
import { HASH_SIZE, nodeHash, type NodeReader } from '../tlog/index.ts'
import { hashTilePath, TILE_HEIGHT, TILE_WIDTH, TilesError, tilesForSize } from './tile-path.ts'

/** The largest entry a bundle's big-endian uint16 length prefix can hold. */
export const MAX_BUNDLE_ENTRY = 0xffff

/** Entry bundle: each entry as big-endian uint16 length || bytes (tlog-tiles "Log entries"). */
export function encodeEntryBundle(entries: Uint8Array[], firstIndex = 0): Uint8Array {
  let total = 0
  entries.forEach((e, i) => {
    if (e.length > MAX_BUNDLE_ENTRY)
      throw new TilesError(
        'ERR_TILES_ENTRY_TOO_LARGE',
        `entry ${firstIndex + i} is ${e.length} bytes; an entry bundle holds entries of at most ${MAX_BUNDLE_ENTRY} bytes`,
        { index: firstIndex + i, length: e.length },
      )
    total += 2 + e.length
  })
  const out = new Uint8Array(total)
  let at = 0
  for (const e of entries) {
    out[at] = e.length >> 8
    out[at + 1] = e.length & 0xff
    out.set(e, at + 2)
    at += 2 + e.length
  }
  return out
}

export function parseEntryBundle(bytes: Uint8Array, what = 'entry bundle'): Uint8Array[] {
  const out: Uint8Array[] = []
  for (let at = 0; at < bytes.length; ) {
    if (at + 2 > bytes.length)
      throw new TilesError('ERR_TILES_BAD_TILE', `${what}: a length prefix is cut off at byte ${at}`, { offset: at })
    const n = (bytes[at] << 8) | bytes[at + 1]
    if (at + 2 + n > bytes.length)
      throw new TilesError(
        'ERR_TILES_BAD_TILE',
        `${what}: entry ${out.length} claims ${n} bytes, only ${bytes.length - at - 2} remain`,
        { offset: at },
      )
    out.push(bytes.subarray(at + 2, at + 2 + n))
    at += 2 + n
  }
  return out
}

/** Splits a hash tile into its hashes, checking it is `width` hashes long. */
export function parseHashTile(bytes: Uint8Array, width: number, what = 'hash tile'): Uint8Array[] {
  if (bytes.length !== width * HASH_SIZE)
    throw new TilesError(
      'ERR_TILES_BAD_TILE',
      `${what}: ${bytes.length} bytes, expected ${width} hashes (${width * HASH_SIZE} bytes)`,
      { length: bytes.length, width },
    )
  return Array.from({ length: width }, (_, i) => bytes.subarray(i * HASH_SIZE, (i + 1) * HASH_SIZE))
}

/** RFC 6962 root of a perfect (power-of-two) run of hashes. */
export function perfectRoot(hashes: Uint8Array[]): Uint8Array {
  let level = hashes
  while (level.length > 1) {
    const up: Uint8Array[] = []
    for (let i = 0; i < level.length; i += 2) up.push(nodeHash(level[i], level[i + 1]))
    level = up
  }
  return level[0]
}

/**
 * A NodeReader (ledger/tlog/merkle.ts) over the tiles of a tree of `size`: the
 * perfect subtree at (level, index) is hashed up from the 2^(level mod 8)
 * hashes it spans in tile level floor(level / 8). Full tiles are read where
 * the tree has them, else the partial tile this size requires.
 */
export function tileNodeReader(size: number, fetchTile: (path: string) => Promise<Uint8Array>): NodeReader {
  const shape = tilesForSize(size)
  const cache = new Map<string, Promise<Uint8Array[]>>()
  const tile = (level: number, n: number): Promise<Uint8Array[]> => {
    const s = shape[level]
    if (!s || n > s.full || (n === s.full && s.partial === 0))
      throw new TilesError('ERR_TILES_BAD_TILE', `a tree of size ${size} has no tile ${level}/${n}`, {
        level,
        index: n,
        size,
      })
    const width = n < s.full ? TILE_WIDTH : s.partial
    const path = hashTilePath(level, n, width)
    let p = cache.get(path)
    if (!p) {
      p = fetchTile(path).then((b) => parseHashTile(b, width, path))
      cache.set(path, p)
    }
    return p
  }
  return async (level, index) => {
    const L = Math.floor(level / TILE_HEIGHT),
      span = 2 ** (level % TILE_HEIGHT)
    const first = index * span
    const hashes = await tile(L, Math.floor(first / TILE_WIDTH))
    const off = first % TILE_WIDTH
    if (off + span > hashes.length)
      throw new TilesError('ERR_TILES_BAD_TILE', `node (${level}, ${index}) is not inside the tree of size ${size}`, {
        level,
        index,
        size,
      })
    return perfectRoot(hashes.slice(off, off + span))
  }
}
