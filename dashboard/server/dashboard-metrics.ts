/**
 * The metrics wiring: the /metrics registry fed from the ledger, the live
 * monitor and the stream hub, plus the notifier's counters. The registry is
 * made before the monitor (which reports ingest latency into it), so the
 * monitor's figures are read through a getter.
 */
import { Counter, Gauge, type Registry } from 'prom-client'
import { heldCount, type Ledger } from '../../ledger/store/index.ts'
import { createMetrics, type DashboardMetrics } from './metrics.ts'
import type { DashboardOptions } from './dashboard-types.ts'
import type { Notifier, NotificationRecord } from '../notify/notifier.ts'

export interface LiveFigures {
  openAlarms: () => number
  sseClients: () => number
}

export function createDashboardMetrics(opts: DashboardOptions, live: LiveFigures): DashboardMetrics {
  const ledger: Ledger = opts.ledger
  return createMetrics({
    readingsIngested: () => ledger.stats().entriesByType.reading ?? 0,
    quarantinedByReason: () => ledger.stats().quarantineByReason as Record<string, number>,
    logSize: () => ledger.size(),
    ledgerHealth: () => ledger.health(),
    quarantineStore: () => {
      const s = ledger.stats()
      return {
        records: s.quarantineKept?.records ?? 0,
        bytes: s.quarantineKept?.bytes ?? 0,
        droppedByReason: (s.quarantineDroppedByReason ?? {}) as Record<string, number>,
      }
    },
    chains: () => {
      const devices = ledger.devices()
      return {
        forks: ledger.stats().entriesByType['reading.fork'] ?? 0,
        compromised: devices.filter((d) => d.compromised).length,
        held: devices.reduce((n, d) => n + heldCount(d), 0),
      }
    },
    openAlarms: live.openAlarms,
    sseClients: live.sseClients,
    brokerMetrics: opts.brokerMetrics,
    ingestMetrics: opts.ingestMetrics,
  })
}

export interface NotificationMetrics {
  /** The notifier's onRecord: one sent or failed notification counted. */
  onRecord: (r: Pick<NotificationRecord, 'channel' | 'status'>) => void
  /** Adds the pending gauge once a notifier exists. */
  watch: (notifier: Notifier) => void
}

export function addNotificationMetrics(registry: Registry): NotificationMetrics {
  const total = new Counter({
    name: 'coldproof_notifications_total',
    help: 'Alarm notifications by channel and outcome (sent, failed)',
    labelNames: ['channel', 'status'],
    registers: [registry],
  })
  return {
    onRecord: (r) => total.inc({ channel: r.channel, status: r.status }),
    watch(notifier) {
      new Gauge({
        name: 'coldproof_notifications_pending',
        help: 'Alarm notifications queued or in flight',
        registers: [registry],
        collect() {
          const p = notifier.pending()
          this.set(p.queued + p.inFlight)
        },
      })
    },
  }
}
