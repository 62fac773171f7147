/**
 * GET /health: for load balancers and the start-up script; no session needed.
 * 503 while the ledger refuses writes (disk full, I/O error), with its reason
 * (docs/OPERATIONS.md, "Disk full"); 200 again once a retried write succeeds.
 * `live` is the live monitor's start-up fold: 'catching_up' (summaries and
 * alarms incomplete) until the readings stored before start are folded.
 */
import type { FastifyInstance } from 'fastify'

export default async function healthRoutes(app: FastifyInstance): Promise<void> {
  const body = {
    type: 'object',
    properties: {
      status: { type: 'string', enum: ['ok', 'unhealthy'] },
      ledgerSize: { type: 'integer' },
      ledger: {
        type: 'object',
        properties: {
          ok: { type: 'boolean' },
          code: { type: 'string' },
          reason: { type: 'string' },
          since: { type: 'string' },
        },
        required: ['ok'],
      },
      live: {
        type: 'object',
        properties: {
          state: { type: 'string', enum: ['catching_up', 'live', 'failed'] },
          readingsFolded: { type: 'integer' },
          readingsTotal: { type: 'integer' },
        },
        required: ['state', 'readingsFolded', 'readingsTotal'],
      },
    },
    required: ['status', 'ledgerSize', 'ledger', 'live'],
  }
  app.get(
    '/health',
    {
      config: { public: true },
      schema: { tags: ['health'], response: { 200: body, 503: body } },
    },
    async (_req, reply) => {
      const { ledger, monitor } = app.dashboard
      const h = ledger.health()
      const live = monitor.progress()
      if (h.ok) return { status: 'ok', ledgerSize: ledger.size(), ledger: { ok: true }, live }
      reply.code(503)
      return {
        status: 'unhealthy',
        ledgerSize: ledger.size(),
        ledger: { ok: false, code: h.code, reason: h.reason, since: new Date(h.since ?? 0).toISOString() },
        live,
      }
    },
  )
}
