/**
 * FleetMonitor: the dashboard's live state, kept by following the ledger's
 * committed entries. Per open shipment it runs the compliance engine's
 * incremental per-sensor evaluators, so a live alarm is exactly an alarm
 * event of the same fold that gives the final verdict (ARCHITECTURE.md decision 8).
 * It also keeps acknowledgements, the current temperature and last reading
 * per device, and marks late readings (see `lateness` below). Listeners get named events for the live stream.
 */
import type { Ledger } from '../../ledger/store/index.ts'
import type { StoredEntry, ShipmentCreateBody } from '../../ledger/tlog/index.ts'
import type { RuleProfile } from '../compliance/index.ts'
import { createLateness } from './lateness.ts'
import { readingView, deviceView, type ReadingView, type DeviceView } from './views.ts'
import { addPostClose, addReading, buildEvaluators, changeLoggers, closeShipment, inWindow, isPostClose, newShipment, openCount, refoldWith, type LiveShipment } from './live-shipment.ts'
import { alarmView, deviceStates, summaryOf, type AlarmView, type DeviceStateView, type ShipmentSummaryView } from './live-views.ts'
import { createDeviceAlarms } from './device-alarms.ts'

export type { AlarmView, ShipmentStatus, ShipmentSummaryView, DeviceStateView } from './live-views.ts'

export interface CheckpointEvent { origin: string; size: number; rootHash: string; note: string; publicKey: string | null; verifierKey: string | null }

export type MonitorEvent =
  | { event: 'reading'; data: ReadingView & { shipmentIds: string[] } }
  | { event: 'alarm'; data: AlarmView }
  | { event: 'ack'; data: AlarmView }
  | { event: 'shipment'; data: ShipmentSummaryView }
  | { event: 'device'; data: DeviceView }
  | { event: 'checkpoint'; data: CheckpointEvent }

export interface FleetMonitorOptions {
  ledger: Ledger
  clock?: () => number
  /** A reading received more than this after its device time is late. Default: 2 × the profile's sampling interval. */
  lateAfterMs?: number
  /** Called with the seconds between the ledger receiving a reading and the monitor seeing it committed. */
  onIngestLatency?: (seconds: number) => void
  /** How often to look for a newly signed checkpoint, ms (default 1000). */
  checkpointPollMs?: number
  /** Told about an entry the monitor could not apply (it never throws into the ledger). */
  onError?: (err: unknown, index: number) => void
  /** Readings folded per slice of the start-up catch-up (default 2000); the event loop runs between slices. */
  sliceSize?: number
  /** Awaited before each slice of the catch-up: a test holds the fold here to see the server answer meanwhile. */
  beforeSlice?: (progress: CatchUpProgress) => Promise<void> | void
}

/**
 * The start-up fold's progress. 'catching_up' while the readings stored before
 * start are folded (summaries and alarms are incomplete meanwhile); 'live' once
 * done; 'failed' when reading the ledger failed (the reason is logged).
 */
export interface CatchUpProgress { state: 'catching_up' | 'live' | 'failed'; readingsFolded: number; readingsTotal: number }

export interface FleetMonitor {
  /**
   * Follows the ledger from now on and loads the shipments, forks, closes and
   * acknowledgements logged so far (small); then folds the readings stored so
   * far in slices, in the background. Resolves once the fold has begun.
   */
  start(): Promise<void>
  /** Resolves once the readings stored before start are folded and the queued live entries applied. */
  caughtUp(): Promise<void>
  progress(): CatchUpProgress
  stop(): void
  subscribe(listener: (e: MonitorEvent) => void): () => void
  summary(shipmentId: string): ShipmentSummaryView | undefined
  summaries(): ShipmentSummaryView[]
  alarms(filter?: { state?: 'open' | 'acknowledged' | 'all'; shipmentId?: string }): AlarmView[]
  alarm(shipmentId: string, alarmId: string): AlarmView | undefined
  deviceStates(shipmentId: string): DeviceStateView[]
  openAlarmCount(): number
  /** The profile logged with the shipment (null when it does not validate). */
  profile(shipmentId: string): RuleProfile | null
  lateAfterMs(shipmentId?: string): number
  /** Whether the monitor judged this reading late when it was committed. */
  isLate(deviceId: string, seq: number): boolean
  /**
   * The delay it measured then: how long the reading waited in its device's buffer, i.e. its receive
   * offset (receive time − device time) beyond the fleet's baseline offset (docs/API.md, "late").
   */
  delayOf(deviceId: string, seq: number): number | undefined
  /** The open shipment a device currently belongs to, if any. */
  shipmentOfDevice(deviceId: string): string | null
  device(deviceId: string): DeviceView | undefined
  /**
   * Resolves once the monitor has folded every reading of this shipment stored before it
   * was created, or before a logger was assigned: its alarms and status are current then.
   * (While the start-up fold runs, it resolves at once: the whole state is still catching up.)
   */
  settled(shipmentId: string): Promise<void>
}

/** 2 × the built-in profiles' 5-minute sampling interval, for a device in no shipment. */
const DEFAULT_LATE_MS = 2 * 5 * 60_000

export function createFleetMonitor(opts: FleetMonitorOptions): FleetMonitor {
  const { ledger, clock = Date.now } = opts
  const shipments = new Map<string, LiveShipment>()
  const listeners = new Set<(e: MonitorEvent) => void>()
  let unsubscribe: (() => void) | null = null
  let timer: NodeJS.Timeout | null = null
  let lastCheckpointSize = -1
  let started = false
  let stopped = false
  let caughtUp: Promise<void> = Promise.resolve()
  const progress: CatchUpProgress = { state: 'catching_up', readingsFolded: 0, readingsTotal: 0 }
  /** Shipments by logger: a reading is looked up in its logger's shipments only, not in every shipment. */
  const byDevice = new Map<string, LiveShipment[]>()
  const shipmentsOf = (deviceId: string): LiveShipment[] => byDevice.get(deviceId) ?? []

  const emit = (e: MonitorEvent) => {
    for (const l of listeners) {
      try { l(e) } catch { /* a broken listener must not stop the others */ }
    }
  }

  const deviceAlarms = createDeviceAlarms()
  const deviceAlarmView = (shipmentId: string, alarmId: string) => deviceAlarms.view(shipmentId, alarmId, shipments.get(shipmentId)?.acks.get(alarmId) ?? null)
  const anyAlarm = (shipmentId: string, alarmId: string): AlarmView | undefined => {
    const s = shipments.get(shipmentId)
    return (s && alarmView(s, alarmId, clock)) ?? deviceAlarmView(shipmentId, alarmId)
  }
  const lateness = createLateness()
  /** `${deviceId}:${seq}` of every reading judged late (the report and CSV show the same marks). */
  const lateReadings = new Set<string>()
  /** Per device, by seq − 1: the delay the lateness rule measured (ms beyond the fleet's baseline offset); one number per reading. */
  const delays = new Map<string, number[]>()
  const lateAfter = (s?: LiveShipment) => opts.lateAfterMs ?? (s?.profile ? 2 * s.profile.expectedIntervalMs : DEFAULT_LATE_MS)

  function checkCheckpoint(): void {
    const cp = ledger.latestCheckpoint()
    if (!cp || cp.size === lastCheckpointSize) return
    lastCheckpointSize = cp.size
    emit({ event: 'checkpoint', data: { origin: ledger.origin, size: cp.size, rootHash: cp.rootHash, note: cp.note, publicKey: null, verifierKey: ledger.verifierKey } })
  }

  /** Applies one committed entry; `live` = emit events. */
  function apply(se: StoredEntry, live: boolean): void {
    const { entry } = se
    switch (entry.type) {
      case 'shipment.create': {
        const body = entry.body as ShipmentCreateBody
        const s = newShipment(body, null)
        shipments.set(s.id, s)
        for (const d of body.devices) {
          const list = byDevice.get(d)
          if (list) list.push(s)
          else byDevice.set(d, [s])
        }
        const raised = deviceAlarms.forShipment(s.id, body.devices)
        if (live) {
          emit({ event: 'shipment', data: summaryOf(s) })
          for (const id of raised) emit({ event: 'alarm', data: deviceAlarmView(s.id, id)! })
          backfill(s, entry.index)
        }
        return
      }
      case 'shipment.devices': {
        const body = (se as StoredEntry<'shipment.devices'>).entry.body
        const s = shipments.get(body.shipmentId)
        if (!s || s.closedAt !== null) return
        changeLoggers(s, { index: entry.index, body })
        for (const d of body.add) {
          const list = byDevice.get(d)
          if (list) list.push(s)
          else byDevice.set(d, [s])
        }
        const raised = deviceAlarms.forShipment(s.id, body.add)
        if (live) {
          for (const id of raised) emit({ event: 'alarm', data: deviceAlarmView(s.id, id)! })
          // The added loggers' readings logged before this entry (from its `at` on) join the fold now.
          backfill(s, entry.index, body.add)
        } else {
          buildEvaluators(s)
        }
        return
      }
      case 'reading.fork': {
        const b = (se as StoredEntry<'reading.fork'>).entry.body
        const listing = shipmentsOf(b.deviceId).map((s) => s.id)
        const raised = deviceAlarms.addFork({ deviceId: b.deviceId, seq: b.seq, index: entry.index, at: entry.time }, listing)
        if (live) {
          for (const sid of listing.length ? listing : ['']) for (const id of raised) { const a = deviceAlarmView(sid, id); if (a) emit({ event: 'alarm', data: a }) }
          const d = ledger.device(b.deviceId)
          if (d) emit({ event: 'device', data: deviceView(d, shipmentOfDevice(b.deviceId)) })
        }
        return
      }
      case 'shipment.close': {
        const body = (se as StoredEntry<'shipment.close'>).entry.body
        const s = shipments.get(body.shipmentId)
        if (!s) return
        closeShipment(s, body.closedAt, body.anchors)
        if (live) emit({ event: 'shipment', data: summaryOf(s) })
        return
      }
      case 'reading': {
        const v = readingView(se as StoredEntry<'reading'>, Number.MAX_SAFE_INTEGER)
        const mine = shipmentsOf(v.deviceId).filter((s) => inWindow(s, v.deviceId, v.deviceTimeMs, entry.index))
        const excess = lateness.excess(v.receivedAt, v.deviceTimeMs)
        const late = excess > (mine.length ? Math.min(...mine.map(lateAfter)) : lateAfter())
        if (late) lateReadings.add(`${v.deviceId}:${v.seq}`)
        let ds = delays.get(v.deviceId)
        if (!ds) delays.set(v.deviceId, (ds = []))
        ds[v.seq - 1] = excess
        const view: ReadingView = { ...v, late, delayMs: excess }
        for (const s of mine) {
          // Final once closed: above the close anchor a reading is post-close evidence, raised for QA, never folded.
          const changed = isPostClose(s, v.deviceId, v.seq)
            ? [addPostClose(s, { deviceId: v.deviceId, seq: v.seq, deviceTimeMs: v.deviceTimeMs, tempCentiC: v.tempCentiC, status: v.status })]
            : addReading(s, view)
          if (live) for (const id of changed) { const a = alarmView(s, id, clock); if (a) emit({ event: 'alarm', data: a }) }
        }
        if (live) {
          opts.onIngestLatency?.(Math.max(0, clock() - entry.time) / 1000)
          emit({ event: 'reading', data: { ...view, shipmentIds: mine.map((s) => s.id) } })
          for (const s of mine) emit({ event: 'shipment', data: summaryOf(s) })
        }
        return
      }
      case 'alarm.ack': {
        const body = (se as StoredEntry<'alarm.ack'>).entry.body
        const s = shipments.get(body.shipmentId)
        if (!s) return
        s.acks.set(body.alarmId, { by: body.by, reason: body.reason, comment: body.comment, at: entry.time, index: entry.index })
        if (live) {
          const a = anyAlarm(s.id, body.alarmId)
          if (a) emit({ event: 'ack', data: a })
          emit({ event: 'shipment', data: summaryOf(s) })
        }
        return
      }
      case 'device.register':
      case 'device.revoke': {
        if (!live) return
        const id = (entry.body as { deviceId: string }).deviceId
        const d = ledger.device(id)
        if (d) emit({ event: 'device', data: deviceView(d, shipmentOfDevice(id)) })
        return
      }
      default:
    }
  }

  /** Shipments whose earlier readings are being folded in (see `backfill`). */
  const backfilling = new Map<string, Promise<void>>()

  /**
   * A shipment created after some of its readings were committed (startAt in the past, or readings
   * that arrived before the create): at start-up the fold sees them because creates are loaded first;
   * live, they were applied before the shipment existed. Read them (entries below the create's index)
   * and refold, so the alarms are raised now and not only after a restart.
   */
  function backfill(s: LiveShipment, createIndex: number, only?: readonly string[]): void {
    const prev = backfilling.get(s.id) ?? Promise.resolve()
    const done = (async () => {
      await prev
      const earlier = (await ledger.readingsByShipment(s.id)).filter((e) => e.entry.index < createIndex && (!only || only.includes(e.entry.body.deviceId)))
      if (s.closedAt !== null || (earlier.length === 0 && !only)) return
      const views = earlier.map((e) => ({ ...readingView(e, Number.MAX_SAFE_INTEGER), late: lateReadings.has(`${e.entry.body.deviceId}:${e.entry.body.seq}`) }))
      const ids = refoldWith(s, views)
      for (const id of ids) { const a = alarmView(s, id, clock); if (a) emit({ event: 'alarm', data: a }) }
      emit({ event: 'shipment', data: summaryOf(s) })
    })().catch((err) => opts.onError?.(err, createIndex)).finally(() => { if (backfilling.get(s.id) === done) backfilling.delete(s.id) })
    backfilling.set(s.id, done)
  }

  function safeApply(e: StoredEntry): void {
    try {
      apply(e, true)
    } catch (err) {
      opts.onError?.(err, e.entry.index)
    }
  }

  function shipmentOfDevice(deviceId: string): string | null {
    for (const s of shipmentsOf(deviceId)) if (s.closedAt === null && s.windows.some((w) => w.deviceId === deviceId && w.until === null)) return s.id
    return null
  }

  return {
    async start() {
      if (started) return
      started = true
      const queue: StoredEntry[] = []
      let loading = true
      unsubscribe = ledger.subscribe((e) => {
        if (loading) queue.push(e)
        else safeApply(e)
      })
      const size0 = ledger.size()
      progress.readingsTotal = ledger.stats().entriesByType.reading ?? 0
      const before = (e: StoredEntry) => e.entry.index < size0
      const creates = (await ledger.entriesByType('shipment.create')).filter(before)
      const closes = (await ledger.entriesByType('shipment.close')).filter(before)
      const acks = (await ledger.entriesByType('alarm.ack')).filter(before)
      const changes = (await ledger.entriesByType('shipment.devices')).filter(before)
      const forks = (await ledger.entriesByType('reading.fork')).filter(before)
      for (const c of creates) apply(c, false)
      for (const c of changes) apply(c, false)
      for (const f of forks) apply(f, false)
      for (const c of closes) {
        const s = shipments.get(c.entry.body.shipmentId)
        if (s) {
          s.closedAt = c.entry.body.closedAt
          if (c.entry.body.anchors) s.closeAnchors = new Map(c.entry.body.anchors.map((a) => [a.deviceId, a.seq]))
          buildEvaluators(s)
        }
      }
      // Acknowledgements are looked up when an alarm is shown, so they can come first.
      for (const a of acks) apply(a, false)
      const slice = Math.max(1, opts.sliceSize ?? 2000)
      // Every reading stored before start, once, in log order: the same fold (and the same
      // lateness baseline) as if the monitor had watched them arrive. In slices, so that the server
      // answers meanwhile; live entries queue and are applied, in order, once the fold is done.
      caughtUp = (async () => {
        let from = 0
        while (from < size0) {
          await opts.beforeSlice?.({ ...progress })
          if (stopped) return
          const batch = await ledger.entriesByType('reading', { from, limit: slice })
          if (stopped) return
          if (batch.length === 0) break
          for (const r of batch) {
            if (!before(r)) { from = size0; break }
            // As when following live: an entry that cannot be applied is reported, not fatal.
            try { apply(r, false) } catch (err) { opts.onError?.(err, r.entry.index) }
            progress.readingsFolded++
            from = r.entry.index + 1
          }
          // getMany resolves from LevelDB's thread pool; yield once more so timers and sockets get their turn.
          await new Promise<void>((resolve) => setImmediate(resolve))
        }
        loading = false
        for (const e of queue.splice(0)) if (!before(e)) safeApply(e)
        progress.state = 'live'
        lastCheckpointSize = ledger.latestCheckpoint()?.size ?? -1
        timer = setInterval(checkCheckpoint, opts.checkpointPollMs ?? 1000)
        timer.unref()
      })().catch((err) => {
        if (stopped) return
        // Reading the ledger failed: stop following it (nothing more would be applied) and say so.
        progress.state = 'failed'
        unsubscribe?.()
        unsubscribe = null
        queue.length = 0
        opts.onError?.(err, -1)
        throw err
      })
      // A failed fold is reported through onError and progress(); callers of caughtUp() see the error too.
      caughtUp.catch(() => {})
    },
    caughtUp: () => caughtUp,
    progress: () => ({ ...progress }),
    stop() {
      stopped = true
      unsubscribe?.()
      unsubscribe = null
      if (timer) clearInterval(timer)
      timer = null
      listeners.clear()
    },
    subscribe(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    summary(id) {
      const s = shipments.get(id)
      return s ? summaryOf(s) : undefined
    },
    summaries() {
      return [...shipments.values()].map(summaryOf)
    },
    alarms({ state = 'all', shipmentId } = {}) {
      const out: AlarmView[] = []
      for (const s of shipments.values()) {
        if (shipmentId !== undefined && s.id !== shipmentId) continue
        for (const id of s.alarms.keys()) {
          const a = alarmView(s, id, clock)!
          if (state === 'all' || a.state === state) out.push(a)
        }
      }
      for (const [sid, id] of deviceAlarms.keys()) {
        if (shipmentId !== undefined && sid !== shipmentId) continue
        const a = deviceAlarmView(sid, id)!
        if (state === 'all' || a.state === state) out.push(a)
      }
      return out.sort((a, b) => b.raisedAt - a.raisedAt)
    },
    alarm(shipmentId, alarmId) {
      return anyAlarm(shipmentId, alarmId)
    },
    deviceStates(shipmentId) {
      const s = shipments.get(shipmentId)
      if (!s) return []
      return deviceStates(s, clock())
    },
    openAlarmCount() {
      let n = 0
      for (const s of shipments.values()) n += openCount(s)
      for (const [sid, id] of deviceAlarms.keys()) if (deviceAlarmView(sid, id)!.state === 'open') n++
      return n
    },
    profile(id) {
      return shipments.get(id)?.profile ?? null
    },
    lateAfterMs(id) {
      return lateAfter(id === undefined ? undefined : shipments.get(id))
    },
    shipmentOfDevice,
    isLate(deviceId, seq) {
      return lateReadings.has(`${deviceId}:${seq}`)
    },
    delayOf(deviceId, seq) {
      return delays.get(deviceId)?.[seq - 1]
    },
    device(deviceId) {
      const d = ledger.device(deviceId)
      return d ? deviceView(d, shipmentOfDevice(deviceId)) : undefined
    },
    async settled(shipmentId) {
      // During the start-up fold a create is queued and folded with the rest (the state is
      // incomplete meanwhile, and /health says so): no request waits minutes for it.
      await backfilling.get(shipmentId)
    },
  }
}
