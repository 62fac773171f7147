/**
 * The plugins every route runs behind, in order: security headers and CSP,
 * signed cookies, rate limits (per route), the OpenAPI document, the
 * cross-origin write check, authentication, the /docs UI.
 */
import type { FastifyInstance } from 'fastify'
import cookie from '@fastify/cookie'
import helmet from '@fastify/helmet'
import rateLimit from '@fastify/rate-limit'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import authPlugin from './auth.ts'
import originCheck from './origin-check.ts'
import type { SessionStore } from './sessions.ts'
import type { DashboardOptions } from './dashboard-types.ts'

const CSP = {
  useDefaults: false,
  directives: {
    defaultSrc: ["'self'"],
    scriptSrc: ["'self'"],
    styleSrc: ["'self'"],
    imgSrc: ["'self'", 'data:'],
    fontSrc: ["'self'"],
    connectSrc: ["'self'"],
    objectSrc: ["'none'"],
    baseUri: ["'self'"],
    formAction: ["'self'"],
    frameAncestors: ["'none'"],
  },
} as const

export async function registerCorePlugins(
  app: FastifyInstance,
  opts: DashboardOptions,
  sessions: SessionStore,
): Promise<void> {
  await app.register(helmet, {
    contentSecurityPolicy: CSP,
    // The dashboard is served over plain HTTP on a LAN as well; HSTS belongs to the TLS proxy.
    strictTransportSecurity: false,
  })
  await app.register(cookie, { secret: opts.cookieSecret })
  await app.register(rateLimit, {
    global: false,
    errorResponseBuilder: (_req, c) => ({
      statusCode: 429,
      code: 'ERR_RATE_LIMITED',
      error: 'Too Many Requests',
      message: `rate limit: at most ${c.max} requests per ${c.after}`,
    }),
  })
  await app.register(swagger, {
    openapi: {
      info: { title: 'ColdProof dashboard API', version: '1.0.0', description: 'See docs/API.md' },
      components: {
        securitySchemes: {
          session: { type: 'apiKey', in: 'cookie', name: 'coldproof_session' },
          bearer: { type: 'http', scheme: 'bearer' },
        },
      },
      security: [{ session: [] }, { bearer: [] }],
    },
    refResolver: {
      buildLocalReference: (json, _base, _frag, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`),
    },
  })
  // Before authentication: a cross-origin write is refused whoever it claims to be (login included).
  await app.register(originCheck, { allowedOrigins: opts.allowedOrigins })
  await app.register(authPlugin, {
    users: opts.users,
    sessions,
    metricsToken: opts.metricsToken,
    localToken: opts.localToken,
  })
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: false })
}
