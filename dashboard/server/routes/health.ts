/**
 * GET /health: for load balancers and the start-up script; no session needed.
 * 503 while the ledger refuses writes (disk full, I/O error), with its reason
 * (docs/OPERATIONS.md, "Disk full"); 200 again once a retried write succeeds.
 */
import type { FastifyInstance } from 'fastify'

export default async function healthRoutes(app: FastifyInstance): Promise<void> {
  const body = {
    type: 'object',
    properties: {
      status: { type: 'string', enum: ['ok', 'unhealthy'] }, ledgerSize: { type: 'integer' },
      ledger: {
        type: 'object',
        properties: { ok: { type: 'boolean' }, code: { type: 'string' }, reason: { type: 'string' }, since: { type: 'string' } },
        required: ['ok'],
      },
    },
    required: ['status', 'ledgerSize', 'ledger'],
  }
  app.get('/health', {
    config: { public: true },
    schema: { tags: ['health'], response: { 200: body, 503: body } },
  }, async (_req, reply) => {
    const { ledger } = app.dashboard
    const h = ledger.health()
    if (h.ok) return { status: 'ok', ledgerSize: ledger.size(), ledger: { ok: true } }
    reply.code(503)
    return { status: 'unhealthy', ledgerSize: ledger.size(), ledger: { ok: false, code: h.code, reason: h.reason, since: new Date(h.since ?? 0).toISOString() } }
  })
}
