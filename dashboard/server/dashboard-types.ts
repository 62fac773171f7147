/**
 * What buildDashboard takes (DashboardOptions) and what every route plugin
 * reads from `app.dashboard` (DashboardContext). app.ts re-exports these.
 */
import type { FastifyRequest, FastifyServerOptions } from 'fastify'
import type { Ledger } from '../../ledger/store/index.ts'
import type { SessionStore } from './sessions.ts'
import type { UserStore } from './users.ts'
import type { FleetMonitor, FleetMonitorOptions } from './monitor.ts'
import type { BrokerMetricsSnapshot, IngestMetricsSnapshot, DashboardMetrics } from './metrics.ts'
import type { SseHub, SseLimits } from './sse.ts'
import type { SecurityMetrics } from './security-metrics.ts'
import type { LoginBackoff, LoginBackoffOptions } from './login-backoff.ts'
import type { IntegrityChecker } from './integrity.ts'
import type { Notifier, NotificationView } from '../notify/notifier.ts'
import type { Sleep } from '../notify/deliver.ts'
import type { AuditAction, AuditLog, AuditRecord } from './audit.ts'

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
