/**
 * The fleet monitor's start-up: the shipment history logged before start
 * (small: creates, logger changes, forks, closes, acknowledgements), then
 * every stored reading folded in slices so the server answers meanwhile.
 */
import type { StoredEntry } from '../../ledger/entry-types.ts'
import type { Ledger } from '../../ledger/ledger.ts'
import { buildEvaluators } from './live-shipment.ts'
import type { CatchUpProgress, FleetMonitorOptions } from './monitor.ts'
import type { EntryApplier } from './monitor-apply.ts'
import type { MonitorState } from './monitor-state.ts'

/** Loads the shipment history of the first `size0` entries. */
export async function loadShipmentHistory(ledger: Ledger, applier: EntryApplier, state: MonitorState, size0: number): Promise<void> {
  const before = (e: StoredEntry) => e.entry.index < size0
  const creates = (await ledger.entriesByType('shipment.create')).filter(before)
  const closes = (await ledger.entriesByType('shipment.close')).filter(before)
  const acks = (await ledger.entriesByType('alarm.ack')).filter(before)
  const changes = (await ledger.entriesByType('shipment.devices')).filter(before)
  const forks = (await ledger.entriesByType('reading.fork')).filter(before)
  for (const c of creates) applier.apply(c, false)
  for (const c of changes) applier.apply(c, false)
  for (const f of forks) applier.apply(f, false)
  for (const c of closes) {
    const s = state.shipments.get(c.entry.body.shipmentId)
    if (s) {
      s.closedAt = c.entry.body.closedAt
      if (c.entry.body.anchors) s.closeAnchors = new Map(c.entry.body.anchors.map((a) => [a.deviceId, a.seq]))
      buildEvaluators(s)
    }
  }
  // Acknowledgements are looked up when an alarm is shown, so they can come first.
  for (const a of acks) applier.apply(a, false)
}

/**
 * Every reading stored before start, once, in log order: the same fold (and the same
 * lateness baseline) as if the monitor had watched them arrive. In slices, so that the server
 * answers meanwhile. Resolves false when the monitor was stopped meanwhile.
 */
export async function foldStoredReadings(ledger: Ledger, applier: EntryApplier, size0: number, progress: CatchUpProgress, opts: FleetMonitorOptions, stopped: () => boolean): Promise<boolean> {
  const slice = Math.max(1, opts.sliceSize ?? 2000)
  let from = 0
  while (from < size0) {
    await opts.beforeSlice?.({ ...progress })
    if (stopped()) return false
    const batch = await ledger.entriesByType('reading', { from, limit: slice })
    if (stopped()) return false
    if (batch.length === 0) break
    for (const r of batch) {
      if (r.entry.index >= size0) { from = size0; break }
      // As when following live: an entry that cannot be applied is reported, not fatal.
      try { applier.apply(r, false) } catch (err) { opts.onError?.(err, r.entry.index) }
      progress.readingsFolded++
      from = r.entry.index + 1
    }
    // getMany resolves from LevelDB's thread pool; yield once more so timers and sockets get their turn.
    await new Promise<void>((resolve) => setImmediate(resolve))
  }
  return true
}
