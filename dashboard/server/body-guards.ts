/**
 * Hooks on every request and reply body, whatever the route: no request body
 * may carry a string that would lie where it is shown, and no JSON reply is
 * sent in a form a browser could take for HTML.
 */
import type { FastifyInstance } from 'fastify'
import { unsafeTextIn } from './text-guard.ts'
import { escapeJsonForHtml } from './json-escape.ts'

export function installBodyGuards(app: FastifyInstance): void {
  // Defence in depth against a JSON body ever being sniffed or pasted into HTML: < > & and the
  // JS line separators are sent as \u escapes, which every JSON parser decodes to the same text.
  app.addHook('onSend', async (_req, reply, payload) => {
    const type = String(reply.getHeader('content-type') ?? '')
    if (typeof payload !== 'string' || !/^application\/(ld\+)?json/.test(type)) return payload
    return escapeJsonForHtml(payload)
  })
  // After each route's schema: no request body may carry a string that would lie where it is shown.
  app.addHook('preHandler', async (req) => {
    const issue = req.body === undefined ? null : unsafeTextIn(req.body, 'body')
    if (issue) throw issue
  })
}
