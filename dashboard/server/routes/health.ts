/** GET /health: liveness for load balancers and the start-up script; no session needed. */
import type { FastifyInstance } from 'fastify'

export default async function healthRoutes(app: FastifyInstance): Promise<void> {
  app.get('/health', {
    config: { public: true },
    schema: {
      tags: ['health'],
      response: { 200: { type: 'object', properties: { status: { type: 'string' }, ledgerSize: { type: 'integer' } }, required: ['status', 'ledgerSize'] } },
    },
  }, async () => ({ status: 'ok', ledgerSize: app.dashboard.ledger.size() }))
}
