/**
 * FleetMonitor: the dashboard's live state, kept by following the ledger's
 * committed entries. Per open shipment it runs the compliance engine's
 * incremental per-sensor evaluators, so a live alarm is exactly an alarm
 * event of the same fold that gives the final verdict (ARCHITECTURE.md decision 8).
 * It also keeps acknowledgements, the current temperature and last reading
 * per device, and marks late readings (see `lateness` below). Listeners get named events for the live stream.
 *
 * createFleetMonitor wires the parts: monitor-state (state and lookups),
 * monitor-apply (one entry applied, backfills), monitor-catch-up (LedgerFollower: start-up fold, then live entries and checkpoints).
 */
import type { Ledger } from '../../ledger/store/index.ts'
import type { RuleProfile } from '../compliance/index.ts'
import {
  deviceStates,
  summaryOf,
  type AlarmView,
  type DeviceStateView,
  type ShipmentSummaryView,
} from './live-views.ts'
import { EntryApplier } from './monitor-apply.ts'
import { LedgerFollower } from './monitor-catch-up.ts'
import { MonitorState } from './monitor-state.ts'
import { deviceView, type DeviceView, type ReadingView } from './views.ts'

export type { AlarmView, ShipmentStatus, ShipmentSummaryView, DeviceStateView } from './live-views.ts'

export interface CheckpointEvent {
  origin: string
  size: number
  rootHash: string
  note: string
  publicKey: string | null
  verifierKey: string | null
}

export type MonitorEvent =
  | { event: 'reading'; data: ReadingView & { shipmentIds: string[] } }
  | { event: 'alarm'; data: AlarmView }
  | { event: 'ack'; data: AlarmView }
  | { event: 'shipment'; data: ShipmentSummaryView }
  | { event: 'device'; data: DeviceView }
  | { event: 'checkpoint'; data: CheckpointEvent }

/** Which kinds of event a listener takes now (see FleetMonitor.subscribe). */
export type EventFilter = (event: MonitorEvent['event']) => boolean

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
export interface CatchUpProgress {
  state: 'catching_up' | 'live' | 'failed'
  readingsFolded: number
  readingsTotal: number
}

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
  /**
   * `wants`: the kinds of event the listener takes at the moment (asked before each event); events
   * nobody wants are not built. Default: every event.
   */
  subscribe(listener: (e: MonitorEvent) => void, wants?: EventFilter): () => void
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

export function createFleetMonitor(opts: FleetMonitorOptions): FleetMonitor {
  const { ledger, clock = Date.now } = opts
  const state = new MonitorState(ledger, clock, opts.lateAfterMs)
  const applier = new EntryApplier(state, opts)
  const follower = new LedgerFollower(ledger, applier, state, opts)
  const shipmentOfDevice = (deviceId: string) => state.shipmentOfDevice(deviceId)
  return {
    start: () => follower.start(),
    caughtUp: () => follower.caughtUp,
    progress: () => ({ ...follower.progress }),
    stop() {
      follower.stop()
      state.listeners.clear()
    },
    subscribe(listener, wants) {
      state.listeners.set(listener, wants ?? null)
      return () => state.listeners.delete(listener)
    },
    summary(id) {
      const s = state.shipments.get(id)
      return s ? summaryOf(s) : undefined
    },
    summaries: () => [...state.shipments.values()].map(summaryOf),
    alarms: (filter) => state.alarms(filter),
    alarm: (shipmentId, alarmId) => state.anyAlarm(shipmentId, alarmId),
    deviceStates(shipmentId) {
      const s = state.shipments.get(shipmentId)
      return s ? deviceStates(s, clock()) : []
    },
    openAlarmCount: () => state.openAlarmCount(),
    profile: (id) => state.shipments.get(id)?.profile ?? null,
    lateAfterMs: (id) => state.lateAfter(id === undefined ? undefined : state.shipments.get(id)),
    shipmentOfDevice,
    isLate: (deviceId, seq) => state.lateReadings.has(`${deviceId}:${seq}`),
    delayOf: (deviceId, seq) => state.delays.get(deviceId)?.[seq - 1],
    device(deviceId) {
      const d = ledger.device(deviceId)
      return d ? deviceView(d, shipmentOfDevice(deviceId)) : undefined
    },
    // During the start-up fold a create is queued and folded with the rest (the state is
    // incomplete meanwhile, and /health says so): no request waits minutes for it.
    settled: (shipmentId) => applier.settled(shipmentId),
  }
}
