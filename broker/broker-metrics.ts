/** The broker's metrics() snapshot, from its counters and its live sockets. */
import type { BrokerMetrics } from './broker.ts'
import type { BrokerContext } from './broker-context.ts'
import type { LoginGuard } from './login-guard.ts'
import { SECURITY_KIND } from './refusals.ts'
import type { RefusalReason, SecurityKind } from './refusals.ts'
import type { SocketIntake } from './socket-intake.ts'

export function snapshotMetrics(ctx: BrokerContext, intake: SocketIntake, guard: LoginGuard): BrokerMetrics {
  const m = ctx.counters
  let bytesIn = m.closedBytesIn
  let bytesOut = m.closedBytesOut
  for (const s of intake.sockets) {
    bytesIn += s.bytesRead
    bytesOut += s.bytesWritten
  }
  return {
    connections: { current: ctx.aedes()?.connectedClients ?? 0, total: m.total, sockets: intake.sockets.size },
    messagesIn: m.messagesIn,
    messagesOut: m.messagesOut,
    bytesIn,
    bytesOut,
    refusals: { ...m.refusals },
    securityEvents: securityEvents(m.refusals),
    logins: { passwordChecks: guard.checks, pendingChecks: guard.pending },
    idleSockets: intake.idleCount,
    logSuppressed: ctx.securityLog.suppressed,
    throttled: m.throttled,
    offlineQueueDropped: m.offlineQueueDropped,
  }
}

/** Refusal counts summed by kind (refusals.ts, SECURITY_KIND). */
function securityEvents(refusals: Record<RefusalReason, number>): Record<SecurityKind, number> {
  const out = Object.fromEntries([...new Set(Object.values(SECURITY_KIND))].map((k) => [k, 0])) as Record<
    SecurityKind,
    number
  >
  for (const [reason, n] of Object.entries(refusals)) out[SECURITY_KIND[reason as RefusalReason]] += n
  return out
}
