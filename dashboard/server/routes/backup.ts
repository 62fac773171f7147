/**
 * GET /api/admin/backup (admin): a consistent backup of the running ledger,
 * streamed as it is read from one LevelDB snapshot (ledger/store/backup.ts), so
 * the ingest goes on meanwhile. `coldproof backup --url` calls it.
 */
import type { FastifyInstance } from 'fastify'
import { Readable } from 'node:stream'
import { backupLines } from '../../../ledger/store/index.ts'

export default async function backupRoutes(app: FastifyInstance): Promise<void> {
  const { ledger } = app.dashboard
  app.get(
    '/api/admin/backup',
    {
      config: { roles: [] },
      schema: { tags: ['ledger'], produces: ['application/x-ndjson'] },
    },
    async (_req, reply) => {
      const name = `coldproof-backup-${new Date(ledger.clock()).toISOString().replace(/[:.]/g, '-')}.ndjson`
      reply
        .type('application/x-ndjson')
        .header('content-disposition', `attachment; filename="${name}"`)
        .header('cache-control', 'no-store')
      return reply.send(Readable.from(backupLines(ledger.storeSnapshot(), ledger.dir, ledger.clock)))
    },
  )
}
