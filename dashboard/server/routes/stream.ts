/**
 * GET /api/stream: the live stream (Server-Sent Events). The response is
 * hijacked from fastify and written directly; the security headers fastify
 * already set are copied onto it.
 */
import type { FastifyInstance } from 'fastify'
import { SHIPMENT_ID } from '../schemas.ts'
import { sseMessage } from '../sse.ts'

export default async function streamRoutes(app: FastifyInstance): Promise<void> {
  app.get<{ Querystring: { shipmentId?: string } }>('/api/stream', {
    schema: { tags: ['stream'], querystring: { type: 'object', additionalProperties: false, properties: { shipmentId: SHIPMENT_ID } } },
  }, (req, reply) => {
    const { sse, ledger, clock } = app.dashboard
    reply.hijack()
    const headers: Record<string, string | number | string[]> = {}
    for (const [k, v] of Object.entries(reply.getHeaders())) if (v !== undefined) headers[k] = v as string
    reply.raw.writeHead(200, {
      ...headers,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      // nginx: do not buffer the stream.
      'x-accel-buffering': 'no',
    })
    reply.raw.write(sseMessage('hello', { serverTime: clock(), ledgerSize: ledger.size() }))
    const remove = sse.add(reply.raw, req.query.shipmentId ?? null)
    req.raw.on('close', remove)
    reply.raw.on('error', remove)
  })
}
