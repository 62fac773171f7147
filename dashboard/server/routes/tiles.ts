/**
 * GET /tiles/<path>: the ledger as C2SP tlog-tiles, served from the directory
 * `coldproof start --tiles <dir>` keeps current (ledger/tiles/publish.ts),
 * without a session, read-only. Paths outside the tile layout are refused
 * unread; tiles and bundles are immutable (cached for a year), the
 * checkpoint for a few seconds. Registered only with `tilesDir`.
 */
import type { FastifyInstance } from 'fastify'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseTilePath } from '../../../ledger/tiles/index.ts'
import { CHECKPOINT_CACHE, TILE_CACHE } from '../../../ledger/tiles/index.ts'

export default async function tilesRoutes(app: FastifyInstance, opts: { dir: string }): Promise<void> {
  app.get('/tiles/*', { config: { public: true }, schema: { hide: true } }, async (req, reply) => {
    const rel = (req.params as { '*': string })['*']
    let type = 'application/octet-stream',
      cache = TILE_CACHE
    if (rel === 'checkpoint') {
      type = 'text/plain; charset=utf-8'
      cache = CHECKPOINT_CACHE
    } else {
      try {
        parseTilePath(rel)
      } catch {
        return reply.code(404).type('text/plain; charset=utf-8').send('not a tlog-tiles path\n')
      }
    }
    try {
      const body = await readFile(join(opts.dir, rel))
      return reply.type(type).header('cache-control', cache).send(body)
    } catch {
      return reply.code(404).type('text/plain; charset=utf-8').header('cache-control', 'no-store').send('not found\n')
    }
  })
}
