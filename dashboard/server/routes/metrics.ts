/** GET /metrics: Prometheus text format (docs/API.md, "Metrics"). */
import type { FastifyInstance } from 'fastify'

export default async function metricsRoutes(app: FastifyInstance): Promise<void> {
  app.get(
    '/metrics',
    {
      config: { metricsToken: true },
      schema: { tags: ['metrics'], hide: true, querystring: { type: 'object', additionalProperties: false } },
    },
    async (_req, reply) => {
      const { registry } = app.dashboard.metrics
      reply.header('content-type', registry.contentType)
      return registry.metrics()
    },
  )
}
