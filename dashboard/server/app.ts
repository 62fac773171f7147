/**
 * buildDashboard(opts): the dashboard's fastify app, unstarted (tests use
 * app.inject(); only start-up code listens). This file only wires the parts,
 * each in its own file: the context the routes share (dashboard-context.ts),
 * error replies and body guards, the core plugins (security headers and CSP,
 * cookies, rate limits, OpenAPI, auth), one route plugin per area, the static
 * UI files, then the live stream and the integrity checks on ready. The API is
 * documented in docs/API.md.
 */
import Fastify, { type FastifyInstance } from 'fastify'
import { SHARED_SCHEMAS } from './schemas.ts'
import { createDashboardContext } from './dashboard-context.ts'
import { installErrorReplies } from './error-replies.ts'
import { installBodyGuards } from './body-guards.ts'
import { registerCorePlugins } from './core-plugins.ts'
import { registerApiRoutes } from './api-routes.ts'
import { registerStaticAssets } from './static-assets.ts'
import { wireLiveStream } from './live-wiring.ts'
import { scheduleIntegrityChecks } from './integrity-schedule.ts'
import type { DashboardOptions } from './dashboard-types.ts'

export type { BundleBuilder, DashboardContext, DashboardOptions } from './dashboard-types.ts'
export { DEFAULT_PUBLIC_DIR } from './static-assets.ts'

export async function buildDashboard(opts: DashboardOptions): Promise<FastifyInstance> {
  if (typeof opts.cookieSecret !== 'string' || opts.cookieSecret.length < 32) {
    throw new TypeError('"cookieSecret" expected a string of at least 32 characters')
  }
  // The HTTPS server has its own type; routes see the same FastifyInstance either way.
  const app = Fastify({
    ...(opts.https ? { https: { cert: opts.https.cert, key: opts.https.key, minVersion: 'TLSv1.2' as const } } : {}),
    logger: opts.logger ?? false,
    trustProxy: opts.trustProxy ?? false,
    bodyLimit: 256 * 1024,
    // Reject unknown fields instead of silently dropping them: the 400 names the field.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: false } },
  })
  const ctx = await createDashboardContext(app, opts)
  app.decorate('dashboard', ctx)
  for (const s of SHARED_SCHEMAS) app.addSchema(s)
  installErrorReplies(app, ctx.security)
  installBodyGuards(app)

  await registerCorePlugins(app, opts, ctx.sessions)
  await registerApiRoutes(app, opts)
  await registerStaticAssets(app, opts.publicDir)

  const live = wireLiveStream(ctx)
  const integrityChecks = scheduleIntegrityChecks(ctx.integrity, opts, app.log)
  app.addHook('onReady', async () => {
    await live.start()
    integrityChecks.start()
  })
  // preClose runs before the HTTP server stops accepting and waits for open connections:
  // the streams are ended first (each told "bye"), or close() would wait for every tab.
  app.addHook('preClose', async () => {
    ctx.sse.closeAll('server stopping')
  })
  app.addHook('onClose', async () => {
    integrityChecks.stop()
    await live.stop()
    await ctx.auditLog.close()
    ctx.sse.closeAll('server stopping')
  })
  return app
}
