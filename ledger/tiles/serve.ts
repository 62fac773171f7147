/**
 * Serves an exported tiles directory over HTTP as tlog-tiles asks: GET only,
 * `checkpoint` as text/plain and barely cached (it changes), tiles and entry
 * bundles as application/octet-stream and cached for good (they never
 * change). Paths are parsed strictly (parseTilePath), so nothing outside the
 * tile layout is ever read. Any static web server or CDN can do the same.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { parseTilePath } from './tile-path.ts'
import { CHECKPOINT_FILE } from './export.ts'

export const CHECKPOINT_CACHE = 'public, max-age=5'
export const TILE_CACHE = 'public, max-age=31536000, immutable'

/** A node:http request handler for tiles exported into `dir`, mounted at `prefix` (e.g. "/tiles/"). */
export function tilesHandler(dir: string, prefix = '/'): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const send = (status: number, type: string, body: string | Uint8Array, cache = 'no-store') => {
      res.writeHead(status, { 'content-type': type, 'cache-control': cache, 'x-content-type-options': 'nosniff' })
      res.end(req.method === 'HEAD' ? undefined : body)
    }
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return send(405, 'text/plain; charset=utf-8', 'tiles are read-only: GET or HEAD\n')
    const path = new URL(req.url ?? '/', 'http://x').pathname
    if (!path.startsWith(prefix)) return send(404, 'text/plain; charset=utf-8', 'not found\n')
    const rel = path.slice(prefix.length)
    let file: string, type: string, cache: string
    if (rel === CHECKPOINT_FILE) {
      file = CHECKPOINT_FILE
      type = 'text/plain; charset=utf-8'
      cache = CHECKPOINT_CACHE
    } else {
      try {
        parseTilePath(rel)
      } catch {
        return send(404, 'text/plain; charset=utf-8', 'not a tlog-tiles path\n')
      }
      file = rel
      type = 'application/octet-stream'
      cache = TILE_CACHE
    }
    readFile(join(dir, file)).then(
      (b) => send(200, type, b, cache),
      (e: NodeJS.ErrnoException) =>
        send(
          e.code === 'ENOENT' ? 404 : 500,
          'text/plain; charset=utf-8',
          e.code === 'ENOENT' ? 'not found\n' : 'cannot read the tile\n',
        ),
    )
  }
}
