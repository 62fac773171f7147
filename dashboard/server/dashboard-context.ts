/**
 * Builds the DashboardContext every route plugin reads from `app.dashboard`:
 * sessions, the live stream hub, metrics, the live monitor, the notifier and
 * the audit trail, each logging through the app's logger. Starting and
 * stopping them is live-wiring.ts's and app.ts's job.
 */
import type { FastifyInstance } from 'fastify'
import { createSessionStore } from './sessions.ts'
import { createFleetMonitor, type FleetMonitor } from './monitor.ts'
import { createSseHub } from './sse.ts'
import { addSecurityMetrics } from './security-metrics.ts'
import { createLoginBackoff } from './login-backoff.ts'
import { createIntegrityChecker } from './integrity.ts'
import { createNotifier } from '../notify/notifier.ts'
import { openAuditLog } from './audit.ts'
import { addNotificationMetrics, createDashboardMetrics } from './dashboard-metrics.ts'
import type { DashboardContext, DashboardOptions } from './dashboard-types.ts'

export async function createDashboardContext(app: FastifyInstance, opts: DashboardOptions): Promise<DashboardContext> {
  const clock = opts.clock ?? Date.now
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
  const metrics = createDashboardMetrics(opts, {
    openAlarms: () => monitor?.openAlarmCount() ?? 0,
    sseClients: () => sse.size(),
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
  const live: FleetMonitor = monitor
  const security = addSecurityMetrics(metrics.registry, sse)
  const n = opts.notifications
  const notificationMetrics = addNotificationMetrics(metrics.registry)
  const notifier = n
    ? await createNotifier({
        configFile: n.configFile,
        config: n.config,
        recordsFile: n.recordsFile,
        clock,
        sleep: n.sleep,
        lookup: (s, a) => live.alarm(s, a),
        log: (level, obj, msg) => app.log[level](obj, msg),
        onRecord: notificationMetrics.onRecord,
      })
    : null
  const auditLog = await openAuditLog(opts.auditFile ?? null, (line) =>
    app.log.warn({ file: opts.auditFile, line }, 'audit record unreadable; skipped'),
  )
  if (notifier) notificationMetrics.watch(notifier)
  return {
    ledger: opts.ledger,
    users: opts.users,
    sessions,
    monitor: live,
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
}
