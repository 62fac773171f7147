/**
 * GET /checkpoint: the ledger's newest signed checkpoint as a C2SP
 * tlog-checkpoint signed note (text/plain), without a session, for witnesses
 * and mirrors. It is the latest record of checkpoints.log, so every receipt
 * a device holds is covered by it or by an older one.
 */
import type { FastifyInstance } from 'fastify'

export default async function checkpointRoutes(app: FastifyInstance): Promise<void> {
  app.get(
    '/checkpoint',
    {
      config: { public: true },
      schema: {
        tags: ['ledger'],
        response: { 200: { type: 'string' }, 404: { type: 'string' } },
      },
    },
    async (_req, reply) => {
      const cp = app.dashboard.ledger.latestAnchor()
      reply.type('text/plain; charset=utf-8').header('cache-control', 'no-cache')
      if (!cp) return reply.code(404).send('no checkpoint has been signed yet\n')
      return cp.note
    },
  )
}
