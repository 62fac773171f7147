/**
 * C2SP tlog-tiles (https://c2sp.org/tlog-tiles) geometry and resource paths.
 * Tiles are 8 levels of the Merkle tree tall, so a full tile holds 256
 * hashes; tile level L holds the hashes of tree level 8L. Pure.
 */
export const TILE_HEIGHT = 8
export const TILE_WIDTH = 256
/** tlog-tiles: levels are 0..63. */
export const MAX_TILE_LEVEL = 63

export const TILES_ERROR_CODES = {
  ERR_TILES_BAD_PATH:
    'a tile path is not tile/<L>/<N>[.p/<W>] or tile/entries/<N>[.p/<W>] with the x-prefixed 3-digit index groups of tlog-tiles',
  ERR_TILES_ENTRY_TOO_LARGE:
    'an entry is longer than 65,535 bytes, which the uint16 length prefix of an entry bundle cannot hold',
  ERR_TILES_BAD_TILE: 'a tile or entry bundle file has the wrong length or cannot be parsed',
  ERR_TILES_OTHER_LOG:
    'the output directory holds the tiles of another log, or of a newer or diverging tree, than the one being exported',
  ERR_TILES_ROOT_MISMATCH: 'the root recomputed from the written tiles is not the root of the signed checkpoint',
  ERR_TILES_NO_CHECKPOINT: 'the ledger has no signed checkpoint to export',
} as const
export type TilesErrorCode = keyof typeof TILES_ERROR_CODES

export class TilesError extends Error {
  readonly code: TilesErrorCode
  readonly details: Readonly<Record<string, unknown>>
  constructor(code: TilesErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(message)
    this.name = 'TilesError'
    this.code = code
    this.details = details
  }
}

/** Index N as zero-padded 3-digit groups, all but the last prefixed with "x": 1234067 -> x001/x234/067. */
export function encodeTileIndex(n: number): string {
  if (!Number.isSafeInteger(n) || n < 0)
    throw new TilesError('ERR_TILES_BAD_PATH', `tile index must be a non-negative safe integer, got ${n}`)
  const groups: string[] = []
  do {
    groups.unshift(String(n % 1000).padStart(3, '0'))
    n = Math.floor(n / 1000)
  } while (n > 0)
  return groups.map((g, i) => (i < groups.length - 1 ? `x${g}` : g)).join('/')
}

const widthSuffix = (width: number): string => {
  if (width === TILE_WIDTH) return ''
  if (!Number.isInteger(width) || width < 1 || width > TILE_WIDTH)
    throw new TilesError('ERR_TILES_BAD_PATH', `tile width must be 1..${TILE_WIDTH}, got ${width}`)
  return `.p/${width}`
}

/** tile/<L>/<N>[.p/<W>] (W = 256 is a full tile: no suffix). */
export function hashTilePath(level: number, index: number, width = TILE_WIDTH): string {
  if (!Number.isInteger(level) || level < 0 || level > MAX_TILE_LEVEL)
    throw new TilesError('ERR_TILES_BAD_PATH', `tile level must be 0..${MAX_TILE_LEVEL}, got ${level}`)
  return `tile/${level}/${encodeTileIndex(index)}${widthSuffix(width)}`
}

/** tile/entries/<N>[.p/<W>]. */
export function entryBundlePath(index: number, width = TILE_WIDTH): string {
  return `tile/entries/${encodeTileIndex(index)}${widthSuffix(width)}`
}

export type TileRef =
  | { kind: 'hash'; level: number; index: number; width: number }
  | { kind: 'entries'; index: number; width: number }

/** Parses a tile resource path (relative, no leading slash); throws ERR_TILES_BAD_PATH. */
export function parseTilePath(path: string): TileRef {
  const m = /^tile\/(entries|0|[1-9][0-9]?)\/((?:x[0-9]{3}\/)*[0-9]{3})(?:\.p\/([1-9][0-9]{0,2}))?$/.exec(path)
  const bad = () => new TilesError('ERR_TILES_BAD_PATH', `not a tlog-tiles path: ${JSON.stringify(path.slice(0, 120))}`)
  if (!m) throw bad()
  const index = Number(m[2].replaceAll('x', '').replaceAll('/', ''))
  const width = m[3] === undefined ? TILE_WIDTH : Number(m[3])
  // No leading "x000/" group (one encoding per index), width below 256, level in range.
  if (!Number.isSafeInteger(index) || encodeTileIndex(index) !== m[2] || (m[3] !== undefined && width >= TILE_WIDTH))
    throw bad()
  if (m[1] === 'entries') return { kind: 'entries', index, width }
  const level = Number(m[1])
  if (level > MAX_TILE_LEVEL) throw bad()
  return { kind: 'hash', level, index, width }
}

/**
 * The tiles a tree of `size` leaves needs at each level: `full` full tiles
 * (indexes 0..full-1) and, when `partial` > 0, tile `full` of that width.
 * tlog-tiles "Partial Tiles": width at level l is floor(size / 256^l) mod 256.
 */
export function tilesForSize(size: number): { level: number; full: number; partial: number }[] {
  const out: { level: number; full: number; partial: number }[] = []
  for (let level = 0, below = size; below > 0; level++, below = Math.floor(below / TILE_WIDTH)) {
    out.push({ level, full: Math.floor(below / TILE_WIDTH), partial: below % TILE_WIDTH })
  }
  return out
}
