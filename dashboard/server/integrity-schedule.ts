/**
 * When the dashboard runs its ledger integrity check (integrity.ts): once the
 * app is ready, once more a little later, then at an interval. A failed check
 * is logged; the Ledger page shows the last result.
 */
import type { FastifyBaseLogger } from 'fastify'
import type { IntegrityChecker } from './integrity.ts'
import type { DashboardOptions } from './dashboard-types.ts'

export interface IntegritySchedule {
  start(): void
  stop(): void
}

export function scheduleIntegrityChecks(
  integrity: IntegrityChecker,
  opts: Pick<DashboardOptions, 'integrityCheckOnStart' | 'integrityFollowUpMs' | 'integrityCheckIntervalMs'>,
  log: FastifyBaseLogger,
): IntegritySchedule {
  let integrityTimer: NodeJS.Timeout | undefined
  let integrityFollowUp: NodeJS.Timeout | undefined
  const runCheck = () => {
    integrity.run().then(
      (r) => {
        if (!r.ok) log.error({ failure: r.failure }, 'ledger integrity check FAILED')
      },
      (err) => log.error({ err }, 'ledger integrity check could not run'),
    )
  }
  return {
    start() {
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
    },
    stop() {
      if (integrityTimer) clearInterval(integrityTimer)
      if (integrityFollowUp) clearTimeout(integrityFollowUp)
    },
  }
}
