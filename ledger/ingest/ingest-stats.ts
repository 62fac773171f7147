/** The ingest's counters: a fresh set, and the two ways they grow beyond a plain increment. */
import type { IngestStats, LatencyStats } from './ingest.ts'
import type { QuarantineReason } from '../store/index.ts'

export function newIngestStats(): IngestStats {
  return {
    received: 0,
    pending: 0,
    readings: 0,
    duplicates: 0,
    quarantined: 0,
    quarantineByReason: {},
    gapsOpened: 0,
    held: 0,
    forks: 0,
    gapsDeclared: {},
    resendRequests: 0,
    receipts: 0,
    deviceLatency: { count: 0, sumMs: 0, maxMs: 0 },
    ingestLatency: { count: 0, sumMs: 0, maxMs: 0 },
  }
}

export function addLatency(l: LatencyStats, ms: number): void {
  l.count++
  l.sumMs += ms
  if (ms > l.maxMs) l.maxMs = ms
}

export function countQuarantined(stats: IngestStats, reason: QuarantineReason): void {
  stats.quarantined++
  stats.quarantineByReason[reason] = (stats.quarantineByReason[reason] ?? 0) + 1
}
