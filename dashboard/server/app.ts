/**
 * buildDashboard(opts): the dashboard's fastify app, unstarted (tests use
 * app.inject(); only start-up code listens). Plugins, each in its own file:
 * security headers and CSP, cookies, rate limits, OpenAPI, auth, one route
 * plugin per area, static UI files. The API is documented in docs/API.md.
 */
import { heldCount } from '../../ledger/store/index.ts'
import { Counter, Gauge } from 'prom-client'
import Fastify, {
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerOptions,
} from 'fastify'
import cookie from '@fastify/cookie'
import helmet from '@fastify/helmet'
import rateLimit from '@fastify/rate-limit'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import fastifyStatic from '@fastify/static'
import { fileURLToPath } from 'node:url'
import { dirname, join } from 'node:path'
import type { Ledger } from '../../ledger/store/index.ts'
import { SHARED_SCHEMAS } from './schemas.ts'
import { unsafeTextIn } from './text-guard.ts'
import { ApiError, API_ERROR_CODES, type ApiErrorCode } from './errors.ts'
import { escapeJsonForHtml } from './json-escape.ts'
import authPlugin from './auth.ts'
import { createSessionStore, type SessionStore } from './sessions.ts'
import type { UserStore } from './users.ts'
import { createFleetMonitor, type FleetMonitor, type FleetMonitorOptions } from './monitor.ts'
import {
  createMetrics,
  type BrokerMetricsSnapshot,
  type IngestMetricsSnapshot,
  type DashboardMetrics,
} from './metrics.ts'
import { createSseHub, type SseHub, type SseLimits } from './sse.ts'
import { addSecurityMetrics, type SecurityMetrics } from './security-metrics.ts'
import { createLoginBackoff, type LoginBackoff, type LoginBackoffOptions } from './login-backoff.ts'
import originCheck from './origin-check.ts'
import { createIntegrityChecker, type IntegrityChecker } from './integrity.ts'
import sessionRoutes from './routes/session.ts'
import userRoutes from './routes/users.ts'
import shipmentRoutes from './routes/shipments.ts'
import alarmRoutes from './routes/alarms.ts'
import deviceRoutes from './routes/devices.ts'
import ledgerRoutes from './routes/ledger.ts'
import reportRoutes from './routes/reports.ts'
import streamRoutes from './routes/stream.ts'
import metricsRoutes from './routes/metrics.ts'
import healthRoutes from './routes/health.ts'
import checkpointRoutes from './routes/checkpoint.ts'
import backupRoutes from './routes/backup.ts'
import tilesRoutes from './routes/tiles.ts'
import notificationRoutes from './routes/notifications.ts'
import { createNotifier, type Notifier, type NotificationView } from '../notify/notifier.ts'
import type { Sleep } from '../notify/deliver.ts'
import { openAuditLog, type AuditAction, type AuditLog, type AuditRecord } from './audit.ts'

const here = dirname(fileURLToPath(import.meta.url))
export const DEFAULT_PUBLIC_DIR = join(here, '..', 'public')

/** Builds an evidence bundle for a shipment (dashboard/evidence/, wired by the start-up code when present). */
export type BundleBuilder = (
  shipmentId: string,
  opts?: { postClose?: boolean },
) => Promise<{ json: string; sha256: string }>

export interface DashboardOptions {
  ledger: Ledger
  users: UserStore
  /** Cookie-signing secret, at least 32 characters. */
  cookieSecret: string
  brokerMetrics?: () => BrokerMetricsSnapshot
  ingestMetrics?: () => IngestMetricsSnapshot
  /** Static UI files; default dashboard/public. */
  publicDir?: string
  /** pino options, or false for no logs (tests). */
  logger?: FastifyServerOptions['logger']
  clock?: () => number
  /** Optional bearer secret for a Prometheus scraper on /metrics. */
  metricsToken?: string
  /**
   * Read-only bearer secret for CLI commands on this machine (`coldproof report` finds it in the
   * data directory's local-access.json): the user `local-cli`, role regulator (docs/API.md).
   */
  localToken?: string
  /** Late-reading threshold override, ms (default 2 × the profile's sampling interval). */
  lateAfterMs?: number
  /** A tlog-tiles directory kept current by ledger/tiles/publish.ts, served read-only under /tiles/. */
  tilesDir?: string
  /** Evidence bundle builder; without it /bundle.json answers 501. */
  bundle?: BundleBuilder
  /** SSE heartbeat interval, ms (default 15000). */
  heartbeatMs?: number
  /** Rate limits per minute per IP (defaults 10 and 120). */
  rateLimits?: { login?: number; writes?: number }
  /** Run a ledger integrity check when the app becomes ready (in the background; default true). */
  integrityCheckOnStart?: boolean
  /** With integrityCheckOnStart, check once more this long after ready, ms (default 60 s). */
  integrityFollowUpMs?: number
  /** Re-run the integrity check this often, ms (default 10 minutes; 0 = never). */
  integrityCheckIntervalMs?: number
  /** Trust X-Forwarded-* from a reverse proxy (TLS termination; Secure cookies). */
  trustProxy?: boolean
  /** PEM certificate and key: serve HTTPS instead of HTTP (TLS 1.2 or later). */
  https?: { cert: string | Buffer; key: string | Buffer }
  /** Base of the URIs in EPCIS exports (default derived from the request host). */
  idBase?: string
  /**
   * Origins allowed to write (POST/PUT/PATCH/DELETE) besides the one each request is
   * addressed to (scheme + Host), e.g. the public URL behind a proxy. docs/API.md, "Cross-origin writes".
   */
  allowedOrigins?: readonly string[]
  /** Live-stream bounds (defaults 10 per user, 500 in all, 128 KiB unsent per client). */
  stream?: SseLimits
  /** Backoff after failed sign-ins per account and address (defaults: 5 free, then 1 s doubling to 60 s). */
  loginBackoff?: LoginBackoffOptions
  /**
   * The live monitor's start-up fold (docs/ARCHITECTURE.md, "Catching up"). Up to `waitUpTo`
   * stored readings (default 10,000) the app is ready only once they are folded; above that it
   * is ready at once and folds in the background, /health and the UI saying "catching up".
   */
  catchUp?: { waitUpTo?: number; sliceSize?: number; beforeSlice?: FleetMonitorOptions['beforeSlice'] }
  /** Audit trail of user, token and rule changes, JSON lines (docs/OPERATIONS.md, "Audit trail"); absent or null: in memory. */
  auditFile?: string | null
  /** Alarm notifications (docs/OPERATIONS.md, "Alarm notifications"); absent = none. */
  notifications?: {
    /** Rules file (JSON); GET/PUT /api/notifications/rules read and write it. null: in memory. */
    configFile?: string | null
    /** Initial rules instead of the file's (tests). */
    config?: unknown
    /** Sent and failed notifications, JSON lines; null: in memory. */
    recordsFile: string | null
    /** How often to look for alarms due for escalation, ms (default 30 s; 0 = only when tick() is called). */
    escalationCheckMs?: number
    /** Wait between delivery retries (tests pass one that returns at once). */
    sleep?: Sleep
  }
}

/** What every route plugin gets. */
export interface DashboardContext {
  ledger: Ledger
  users: UserStore
  sessions: SessionStore
  monitor: FleetMonitor
  metrics: DashboardMetrics
  sse: SseHub
  integrity: IntegrityChecker
  clock: () => number
  opts: DashboardOptions
  writeLimit: { max: number; timeWindow: number }
  loginLimit: { max: number; timeWindow: number }
  security: SecurityMetrics
  loginBackoff: LoginBackoff
  /** Null when notifications are not configured. */
  notifier: Notifier | null
  /** The notifications sent or failed for an alarm (empty without a notifier). */
  notificationsOf: (shipmentId: string, alarmId: string) => NotificationView[]
  auditLog: AuditLog
  /**
   * Records an administrative change made by `req`'s user (fsynced before it resolves). A failed
   * write does not undo the change, which has happened: the record goes to the server log instead.
   */
  audit: (req: FastifyRequest, action: AuditAction, target: string, details?: AuditRecord['details']) => Promise<void>
}

declare module 'fastify' {
  interface FastifyInstance {
    dashboard: DashboardContext
  }
}

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

function fieldOf(err: {
  validation?: Array<{ instancePath?: string; params?: Record<string, unknown> }>
  validationContext?: string
}): string | undefined {
  const v = err.validation?.[0]
  if (!v) return undefined
  const base =
    (err.validationContext ?? 'body') + (v.instancePath ?? '').replace(/\/(\d+)(?=\/|$)/g, '[$1]').replace(/\//g, '.')
  const extra = v.params?.missingProperty ?? v.params?.additionalProperty
  return typeof extra === 'string' ? `${base}.${extra}` : base
}

export async function buildDashboard(opts: DashboardOptions): Promise<FastifyInstance> {
  if (typeof opts.cookieSecret !== 'string' || opts.cookieSecret.length < 32) {
    throw new TypeError('"cookieSecret" expected a string of at least 32 characters')
  }
  const clock = opts.clock ?? Date.now
  // The HTTPS server has its own type; routes see the same FastifyInstance either way.
  const app = Fastify({
    ...(opts.https ? { https: { cert: opts.https.cert, key: opts.https.key, minVersion: 'TLSv1.2' as const } } : {}),
    logger: opts.logger ?? false,
    trustProxy: opts.trustProxy ?? false,
    bodyLimit: 256 * 1024,
    // Reject unknown fields instead of silently dropping them: the 400 names the field.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: false } },
  })
  const sessions = createSessionStore({ clock })
  const sse = createSseHub({
    heartbeatMs: opts.heartbeatMs ?? 15_000,
    limits: opts.stream,
    onDrop: (user, bytes) =>
      app.log.warn(
        { event: 'stream_dropped', user, bufferedBytes: bytes },
        'live-stream client dropped: it did not read',
      ),
  })
  let monitor: FleetMonitor | null = null
  const metrics = createMetrics({
    readingsIngested: () => opts.ledger.stats().entriesByType.reading ?? 0,
    quarantinedByReason: () => opts.ledger.stats().quarantineByReason as Record<string, number>,
    logSize: () => opts.ledger.size(),
    ledgerHealth: () => opts.ledger.health(),
    quarantineStore: () => {
      const s = opts.ledger.stats()
      return {
        records: s.quarantineKept?.records ?? 0,
        bytes: s.quarantineKept?.bytes ?? 0,
        droppedByReason: (s.quarantineDroppedByReason ?? {}) as Record<string, number>,
      }
    },
    chains: () => {
      const devices = opts.ledger.devices()
      return {
        forks: opts.ledger.stats().entriesByType['reading.fork'] ?? 0,
        compromised: devices.filter((d) => d.compromised).length,
        held: devices.reduce((n, d) => n + heldCount(d), 0),
      }
    },
    openAlarms: () => monitor?.openAlarmCount() ?? 0,
    sseClients: () => sse.size(),
    brokerMetrics: opts.brokerMetrics,
    ingestMetrics: opts.ingestMetrics,
  })
  monitor = createFleetMonitor({
    ledger: opts.ledger,
    clock,
    lateAfterMs: opts.lateAfterMs,
    onIngestLatency: (s) => metrics.observeIngestLatency(s),
    onError: (err, index) =>
      app.log.error(
        { err, index },
        index < 0 ? 'live state could not catch up with the ledger' : 'live state could not apply a ledger entry',
      ),
    sliceSize: opts.catchUp?.sliceSize,
    beforeSlice: opts.catchUp?.beforeSlice,
  })
  const security = addSecurityMetrics(metrics.registry, sse)
  const n = opts.notifications
  const notificationsTotal = new Counter({
    name: 'coldproof_notifications_total',
    help: 'Alarm notifications by channel and outcome (sent, failed)',
    labelNames: ['channel', 'status'],
    registers: [metrics.registry],
  })
  const notifier = n
    ? await createNotifier({
        configFile: n.configFile,
        config: n.config,
        recordsFile: n.recordsFile,
        clock,
        sleep: n.sleep,
        lookup: (s, a) => monitor!.alarm(s, a),
        log: (level, obj, msg) => app.log[level](obj, msg),
        onRecord: (r) => notificationsTotal.inc({ channel: r.channel, status: r.status }),
      })
    : null
  const auditLog = await openAuditLog(opts.auditFile ?? null, (line) =>
    app.log.warn({ file: opts.auditFile, line }, 'audit record unreadable; skipped'),
  )
  if (notifier)
    new Gauge({
      name: 'coldproof_notifications_pending',
      help: 'Alarm notifications queued or in flight',
      registers: [metrics.registry],
      collect() {
        const p = notifier.pending()
        this.set(p.queued + p.inFlight)
      },
    })
  const ctx: DashboardContext = {
    ledger: opts.ledger,
    users: opts.users,
    sessions,
    monitor,
    metrics,
    sse,
    clock,
    opts,
    security,
    loginBackoff: createLoginBackoff({ clock, ...opts.loginBackoff }),
    integrity: createIntegrityChecker(opts.ledger, clock),
    writeLimit: { max: opts.rateLimits?.writes ?? 120, timeWindow: 60_000 },
    loginLimit: { max: opts.rateLimits?.login ?? 10, timeWindow: 60_000 },
    notifier,
    notificationsOf: (s, a) => notifier?.notificationsFor(s, a) ?? [],
    auditLog,
    async audit(req, action, target, details) {
      const r = {
        at: clock(),
        by: req.user?.username ?? 'unknown',
        action,
        target,
        ip: req.ip,
        ...(details ? { details } : {}),
      }
      try {
        await auditLog.append(r)
      } catch (err) {
        app.log.error({ err, audit: r }, 'audit record could not be written')
      }
    },
  }
  app.decorate('dashboard', ctx)
  for (const s of SHARED_SCHEMAS) app.addSchema(s)

  // Every error body goes out here, with a code from the catalogue (errors.ts, docs/API.md), and is counted.
  const sendError = (
    reply: FastifyReply,
    code: ApiErrorCode,
    message: string,
    extra: { field?: string; details?: Record<string, unknown> } = {},
  ) => {
    const statusCode = API_ERROR_CODES[code]
    security.refusal(code)
    return reply.code(statusCode).send({
      statusCode,
      code,
      error: statusText(statusCode),
      message,
      ...(extra.field ? { field: extra.field } : {}),
      ...(extra.details ? { details: extra.details } : {}),
    })
  }
  app.setErrorHandler(
    (
      err: Error & {
        statusCode?: number
        code?: string
        validation?: unknown[]
        validationContext?: string
        field?: string
      },
      req,
      reply,
    ) => {
      if (err instanceof ApiError)
        return sendError(reply, err.code, err.message, { field: err.field, details: err.details })
      const mapped = fromLedgerError(err)
      if (mapped) return sendError(reply, mapped.code, mapped.message, { details: mapped.details })
      if (err.validation)
        return sendError(reply, 'ERR_VALIDATION', err.message, { field: fieldOf(err as Parameters<typeof fieldOf>[0]) })
      const status = err.statusCode ?? 500
      if (status >= 400 && status < 500) {
        if (status === 429 && req.routeOptions.url === '/api/login') security.loginFailure('rate_limited')
        return sendError(reply, clientErrorCode(status, err), err.message)
      }
      req.log.error({ err }, 'request failed')
      return sendError(reply, 'ERR_INTERNAL', 'internal error; see the server log')
    },
  )
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
  app.setNotFoundHandler((req, reply) => {
    sendError(reply, 'ERR_NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`)
  })

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

  await app.register(healthRoutes)
  await app.register(checkpointRoutes)
  if (opts.tilesDir) await app.register(tilesRoutes, { dir: opts.tilesDir })
  await app.register(sessionRoutes)
  await app.register(userRoutes)
  await app.register(shipmentRoutes)
  await app.register(alarmRoutes)
  await app.register(deviceRoutes)
  await app.register(ledgerRoutes)
  await app.register(backupRoutes)
  await app.register(notificationRoutes)
  await app.register(reportRoutes)
  await app.register(streamRoutes)
  await app.register(metricsRoutes)
  await app.register(fastifyStatic, {
    root: opts.publicDir ?? DEFAULT_PUBLIC_DIR,
    index: ['index.html'],
    wildcard: true,
  })

  app.addHook('onReady', async () => {
    await monitor!.start()
    monitor!.subscribe(
      (e) => {
        // The notifier only enqueues here: a slow channel never holds up the monitor (dashboard/notify/notifier.ts).
        if (e.event === 'alarm') notifier?.onAlarm(e.data)
        sse.broadcast(
          e.event === 'alarm' || e.event === 'ack'
            ? ({
                event: e.event,
                data: { ...e.data, notifications: ctx.notificationsOf(e.data.shipmentId, e.data.alarmId) },
              } as typeof e)
            : e,
        )
      },
      // With no live stream open only the notifier listens, to alarms: the monitor then builds no
      // reading or shipment event per reading (and nothing is serialised for nobody).
      (event) => sse.size() > 0 || (event === 'alarm' && notifier !== null),
    )
    const escalateEvery = n?.escalationCheckMs ?? 30_000
    if (notifier && escalateEvery > 0) {
      escalationTimer = setInterval(() => notifier.tick(), escalateEvery)
      escalationTimer.unref()
    }
    // A small ledger is folded before the first request (no partial state to explain); a large one
    // is folded after, so that the server answers within fastify's ready timeout whatever the size.
    if (monitor!.progress().readingsTotal <= (opts.catchUp?.waitUpTo ?? 10_000)) await monitor!.caughtUp()
    const runCheck = () => {
      ctx.integrity.run().then(
        (r) => {
          if (!r.ok) app.log.error({ failure: r.failure }, 'ledger integrity check FAILED')
        },
        (err) => app.log.error({ err }, 'ledger integrity check could not run'),
      )
    }
    if (opts.integrityCheckOnStart ?? true) {
      runCheck()
      // The start-up check often sees an empty or tiny ledger (devices not connected yet);
      // one more a minute later gives the Ledger page a meaningful first result.
      integrityFollowUp = setTimeout(runCheck, opts.integrityFollowUpMs ?? 60_000)
      integrityFollowUp.unref()
    }
    // Re-check as the ledger grows, so "last integrity check" on the Ledger page stays recent.
    const every = opts.integrityCheckIntervalMs ?? 10 * 60_000
    if (every > 0) {
      integrityTimer = setInterval(runCheck, every)
      integrityTimer.unref()
    }
  })
  let integrityTimer: NodeJS.Timeout | undefined
  let escalationTimer: NodeJS.Timeout | undefined
  let integrityFollowUp: NodeJS.Timeout | undefined
  // preClose runs before the HTTP server stops accepting and waits for open connections:
  // the streams are ended first (each told "bye"), or close() would wait for every tab.
  app.addHook('preClose', async () => {
    sse.closeAll('server stopping')
  })
  app.addHook('onClose', async () => {
    if (integrityTimer) clearInterval(integrityTimer)
    if (integrityFollowUp) clearTimeout(integrityFollowUp)
    if (escalationTimer) clearInterval(escalationTimer)
    monitor!.stop()
    await notifier?.close()
    await auditLog.close()
    sse.closeAll('server stopping')
  })
  return app
}

/** The ledger's own refusals (a race between the route's check and the write) as API errors. */
const LEDGER_CODES: Record<string, ApiErrorCode> = {
  ERR_LEDGER_SHIPMENT_EXISTS: 'ERR_SHIPMENT_EXISTS',
  ERR_LEDGER_SHIPMENT_UNKNOWN: 'ERR_SHIPMENT_NOT_FOUND',
  ERR_LEDGER_SHIPMENT_CLOSED: 'ERR_SHIPMENT_CLOSED',
  ERR_LEDGER_SHIPMENT_RECEIVED: 'ERR_SHIPMENT_RECEIVED',
  ERR_LEDGER_EVIDENCE_ENDS_EARLY: 'ERR_EVIDENCE_ENDS_EARLY',
  ERR_LEDGER_DEVICE_EXISTS: 'ERR_DEVICE_EXISTS',
  ERR_LEDGER_DEVICE_UNKNOWN: 'ERR_DEVICE_UNKNOWN',
  ERR_LEDGER_DEVICE_REVOKED: 'ERR_DEVICE_REVOKED',
  ERR_LEDGER_BAD_DEVICE_KEY: 'ERR_KEY_INVALID',
  ERR_LEDGER_BAD_INPUT: 'ERR_VALIDATION',
  ERR_LEDGER_INDEX_RANGE: 'ERR_ENTRY_NOT_FOUND',
  ERR_LEDGER_CLOSED: 'ERR_LEDGER_UNAVAILABLE',
  ERR_LEDGER_FAILED: 'ERR_LEDGER_UNAVAILABLE',
  ERR_LEDGER_DISK_FULL: 'ERR_LEDGER_UNAVAILABLE',
  ERR_LEDGER_WRITE_FAILED: 'ERR_LEDGER_UNAVAILABLE',
}

/** Ledger refusals whose details the caller needs to act on (which logger, which head). */
const LEDGER_DETAILS = new Set(['ERR_LEDGER_EVIDENCE_ENDS_EARLY'])

function fromLedgerError(err: Error & { code?: string; details?: Record<string, unknown> }): ApiError | null {
  if (err.name !== 'LedgerError' || typeof err.code !== 'string') return null
  const code = LEDGER_CODES[err.code]
  return code
    ? new ApiError(code, err.message, undefined, LEDGER_DETAILS.has(err.code) ? err.details : undefined)
    : null
}

function statusText(code: number): string {
  return (
    (
      {
        400: 'Bad Request',
        401: 'Unauthorized',
        403: 'Forbidden',
        404: 'Not Found',
        409: 'Conflict',
        413: 'Payload Too Large',
        415: 'Unsupported Media Type',
        429: 'Too Many Requests',
        500: 'Internal Server Error',
        501: 'Not Implemented',
        503: 'Service Unavailable',
      } as Record<number, string>
    )[code] ?? 'Error'
  )
}

/** fastify's and its plugins' own 4xx errors (FST_ERR_..., a JSON SyntaxError) as catalogue codes. */
function clientErrorCode(status: number, err: Error & { code?: string }): ApiErrorCode {
  if (status === 429) return 'ERR_RATE_LIMITED'
  if (status === 413) return 'ERR_BODY_TOO_LARGE'
  if (status === 415) return 'ERR_MEDIA_TYPE'
  if (status === 404) return 'ERR_NOT_FOUND'
  if (
    err instanceof SyntaxError ||
    err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' ||
    err.code === 'FST_ERR_CTP_INVALID_JSON_BODY'
  )
    return 'ERR_BAD_JSON'
  return 'ERR_BAD_REQUEST'
}
