/**
 * The fleet monitor's start-up: the shipment history logged before start
 * (small: creates, logger changes, forks, closes, acknowledgements), then
 * every stored reading folded in slices so the server answers meanwhile.
 */
import type { StoredEntry } from '../../ledger/tlog/index.ts'
import type { Ledger } from '../../ledger/store/index.ts'
import { buildEvaluators } from './live-shipment.ts'
import type { CatchUpProgress, FleetMonitorOptions } from './monitor.ts'
import type { EntryApplier } from './monitor-apply.ts'
import type { MonitorState } from './monitor-state.ts'

/** Loads the shipment history of the first `size0` entries. */
export async function loadShipmentHistory(
  ledger: Ledger,
  applier: EntryApplier,
  state: MonitorState,
  size0: number,
): Promise<void> {
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
export async function foldStoredReadings(
  ledger: Ledger,
  applier: EntryApplier,
  size0: number,
  progress: CatchUpProgress,
  opts: FleetMonitorOptions,
  stopped: () => boolean,
): Promise<boolean> {
  const slice = Math.max(1, opts.sliceSize ?? 2000)
  let from = 0
  while (from < size0) {
    await opts.beforeSlice?.({ ...progress })
    if (stopped()) return false
    const batch = await ledger.entriesByType('reading', { from, limit: slice })
    if (stopped()) return false
    if (batch.length === 0) break
    for (const r of batch) {
      if (r.entry.index >= size0) {
        from = size0
        break
      }
      // As when following live: an entry that cannot be applied is reported, not fatal.
      try {
        applier.apply(r, false)
      } catch (err) {
        opts.onError?.(err, r.entry.index)
      }
      progress.readingsFolded++
      from = r.entry.index + 1
    }
    // getMany resolves from LevelDB's thread pool; yield once more so timers and sockets get their turn.
    await new Promise<void>((resolve) => setImmediate(resolve))
  }
  return true
}

/**
 * Follows the ledger: live entries queue while the stored ones are folded, then are applied in
 * order; once live, a newly signed checkpoint is announced on the stream.
 */
export class LedgerFollower {
  readonly progress: CatchUpProgress = { state: 'catching_up', readingsFolded: 0, readingsTotal: 0 }
  caughtUp: Promise<void> = Promise.resolve()
  #unsubscribe: (() => void) | null = null
  #timer: NodeJS.Timeout | null = null
  #lastCheckpointSize = -1
  #started = false
  #stopped = false

  constructor(
    private readonly ledger: Ledger,
    private readonly applier: EntryApplier,
    private readonly state: MonitorState,
    private readonly opts: FleetMonitorOptions,
  ) {}

  async start(): Promise<void> {
    if (this.#started) return
    this.#started = true
    const { ledger, applier, progress, opts } = this
    const queue: StoredEntry[] = []
    let loading = true
    this.#unsubscribe = ledger.subscribe((e) => {
      if (loading) queue.push(e)
      else applier.applyLive(e)
    })
    const size0 = ledger.size()
    progress.readingsTotal = ledger.stats().entriesByType.reading ?? 0
    await loadShipmentHistory(ledger, applier, this.state, size0)
    this.caughtUp = (async () => {
      if (!(await foldStoredReadings(ledger, applier, size0, progress, opts, () => this.#stopped))) return
      loading = false
      for (const e of queue.splice(0)) if (e.entry.index >= size0) applier.applyLive(e)
      progress.state = 'live'
      this.#lastCheckpointSize = ledger.latestCheckpoint()?.size ?? -1
      this.#timer = setInterval(() => this.#checkCheckpoint(), opts.checkpointPollMs ?? 1000)
      this.#timer.unref()
    })().catch((err) => {
      if (this.#stopped) return
      // Reading the ledger failed: stop following it (nothing more would be applied) and say so.
      progress.state = 'failed'
      this.#unsubscribe?.()
      this.#unsubscribe = null
      queue.length = 0
      opts.onError?.(err, -1)
      throw err
    })
    // A failed fold is reported through onError and progress(); callers of caughtUp() see the error too.
    this.caughtUp.catch(() => {})
  }

  stop(): void {
    this.#stopped = true
    this.#unsubscribe?.()
    this.#unsubscribe = null
    if (this.#timer) clearInterval(this.#timer)
    this.#timer = null
  }

  #checkCheckpoint(): void {
    const { ledger } = this
    const cp = ledger.latestCheckpoint()
    if (!cp || cp.size === this.#lastCheckpointSize) return
    this.#lastCheckpointSize = cp.size
    this.state.emit({
      event: 'checkpoint',
      data: {
        origin: ledger.origin,
        size: cp.size,
        rootHash: cp.rootHash,
        note: cp.note,
        publicKey: null,
        verifierKey: ledger.verifierKey,
      },
    })
  }
}
