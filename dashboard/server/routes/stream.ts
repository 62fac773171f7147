/**
 * GET /api/stream: the live stream (Server-Sent Events). The response is
 * hijacked from fastify and written directly; the security headers fastify
 * already set are copied onto it. Streams are capped per user and in all
 * (429 ERR_STREAM_LIMIT), and a client that does not read is dropped (sse.ts).
 */
import type { FastifyInstance } from 'fastify'
import { SHIPMENT_ID } from '../schemas.ts'
import { sseMessage } from '../sse.ts'
import { ApiError } from '../errors.ts'

export default async function streamRoutes(app: FastifyInstance): Promise<void> {
  app.get<{ Querystring: { shipmentId?: string } }>(
    '/api/stream',
    {
      schema: {
        tags: ['stream'],
        querystring: { type: 'object', additionalProperties: false, properties: { shipmentId: SHIPMENT_ID } },
      },
    },
    (req, reply) => {
      const { sse, ledger, clock } = app.dashboard
      const user = req.user!.username
      const refused = sse.refusal(user)
      if (refused) {
        req.log.warn(
          { event: 'stream_refused', user, ip: req.ip, open: sse.size() },
          'live stream refused: limit reached',
        )
        throw new ApiError('ERR_STREAM_LIMIT', refused)
      }
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
      const remove = sse.add(reply.raw, req.query.shipmentId ?? null, user)
      req.raw.on('close', remove)
      reply.raw.on('error', remove)
    },
  )
}
