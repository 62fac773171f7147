/**
 * Applying one committed entry to the fleet monitor's state, one method per
 * entry type; live entries also emit their events. A shipment created (or a
 * logger assigned) after some of its readings were committed is backfilled.
 */
import type { ShipmentCreateBody, StoredEntry } from '../../ledger/tlog/index.ts'
import {
  addPostClose,
  addReading,
  buildEvaluators,
  changeLoggers,
  closeShipment,
  inWindow,
  isPostClose,
  newShipment,
  refoldWith,
  type LiveShipment,
} from './live-shipment.ts'
import { alarmView, summaryOf } from './live-views.ts'
import type { FleetMonitorOptions } from './monitor.ts'
import type { MonitorState } from './monitor-state.ts'
import { deviceView, readingFacts, readingView, viewOfFacts } from './views.ts'

export class EntryApplier {
  /** Shipments whose earlier readings are being folded in (see `backfill`). */
  readonly #backfilling = new Map<string, Promise<void>>()

  constructor(
    private readonly state: MonitorState,
    private readonly opts: Pick<FleetMonitorOptions, 'onIngestLatency' | 'onError'>,
  ) {}

  /** Applies one committed entry; `live` = emit events. */
  apply(se: StoredEntry, live: boolean): void {
    switch (se.entry.type) {
      case 'shipment.create':
        this.#create(se as StoredEntry<'shipment.create'>, live)
        return
      case 'shipment.devices':
        this.#changeLoggers(se as StoredEntry<'shipment.devices'>, live)
        return
      case 'reading.fork':
        this.#fork(se as StoredEntry<'reading.fork'>, live)
        return
      case 'shipment.close':
        this.#close(se as StoredEntry<'shipment.close'>, live)
        return
      case 'reading':
        this.#reading(se as StoredEntry<'reading'>, live)
        return
      case 'alarm.ack':
        this.#ack(se as StoredEntry<'alarm.ack'>, live)
        return
      case 'device.register':
      case 'device.revoke':
        if (live) this.#emitDevice((se.entry.body as { deviceId: string }).deviceId)
        return
      default:
    }
  }

  /** Applies a live entry; an entry that cannot be applied is reported, not thrown into the ledger. */
  applyLive(e: StoredEntry): void {
    try {
      this.apply(e, true)
    } catch (err) {
      this.opts.onError?.(err, e.entry.index)
    }
  }

  /** Resolves once the shipment's backfill (if any) is done. */
  async settled(shipmentId: string): Promise<void> {
    await this.#backfilling.get(shipmentId)
  }

  #create({ entry }: StoredEntry<'shipment.create'>, live: boolean): void {
    const { state } = this
    const body = entry.body as ShipmentCreateBody
    const s = newShipment(body, null)
    state.shipments.set(s.id, s)
    state.addLoggers(s, body.devices)
    const raised = state.deviceAlarms.forShipment(s.id, body.devices)
    if (live) {
      state.emit({ event: 'shipment', data: summaryOf(s) })
      for (const id of raised) state.emit({ event: 'alarm', data: state.deviceAlarmView(s.id, id)! })
      this.#backfill(s, entry.index)
    }
  }

  #changeLoggers({ entry }: StoredEntry<'shipment.devices'>, live: boolean): void {
    const { state } = this
    const body = entry.body
    const s = state.shipments.get(body.shipmentId)
    if (!s || s.closedAt !== null) return
    changeLoggers(s, { index: entry.index, body })
    state.addLoggers(s, body.add)
    const raised = state.deviceAlarms.forShipment(s.id, body.add)
    if (live) {
      for (const id of raised) state.emit({ event: 'alarm', data: state.deviceAlarmView(s.id, id)! })
      // The added loggers' readings logged before this entry (from its `at` on) join the fold now.
      this.#backfill(s, entry.index, body.add)
    } else {
      buildEvaluators(s)
    }
  }

  #fork({ entry }: StoredEntry<'reading.fork'>, live: boolean): void {
    const { state } = this
    const b = entry.body
    const listing = state.shipmentsOf(b.deviceId).map((s) => s.id)
    const raised = state.deviceAlarms.addFork(
      { deviceId: b.deviceId, seq: b.seq, index: entry.index, at: entry.time },
      listing,
    )
    if (!live) return
    for (const sid of listing.length ? listing : [''])
      for (const id of raised) {
        const a = state.deviceAlarmView(sid, id)
        if (a) state.emit({ event: 'alarm', data: a })
      }
    this.#emitDevice(b.deviceId)
  }

  #close({ entry }: StoredEntry<'shipment.close'>, live: boolean): void {
    const s = this.state.shipments.get(entry.body.shipmentId)
    if (!s) return
    closeShipment(s, entry.body.closedAt, entry.body.anchors)
    if (live) this.state.emit({ event: 'shipment', data: summaryOf(s) })
  }

  /**
   * The hot path, inside the ledger's commit: once per reading. It folds the decoded facts and
   * builds the API views (reading, summaries) only for an event some listener wants.
   */
  #reading(se: StoredEntry<'reading'>, live: boolean): void {
    const { state, opts } = this
    const { entry } = se
    const r = readingFacts(se)
    // The shipments it counts for and the tightest lateness limit among them (the default when in none).
    const listed = state.shipmentsOf(r.deviceId)
    let counted = 0
    let lateAfter = Infinity
    for (const s of listed)
      if (inWindow(s, r.deviceId, r.deviceTimeMs, entry.index)) {
        counted++
        lateAfter = Math.min(lateAfter, state.lateAfter(s))
      }
    if (counted === 0) lateAfter = state.lateAfter()
    // Usually every shipment of the logger counts: then its list serves as is (read only, not kept).
    const mine =
      counted === listed.length ? listed : listed.filter((s) => inWindow(s, r.deviceId, r.deviceTimeMs, entry.index))
    const excess = state.lateness.excess(r.receivedAt, r.deviceTimeMs)
    const late = excess > lateAfter
    if (late) state.lateReadings.add(`${r.deviceId}:${r.seq}`)
    let ds = state.delays.get(r.deviceId)
    if (!ds) state.delays.set(r.deviceId, (ds = []))
    ds[r.seq - 1] = excess
    const emitAlarms = live && state.wants('alarm')
    for (const s of mine) {
      // Final once closed: above the close anchor a reading is post-close evidence, raised for QA, never folded.
      if (isPostClose(s, r.deviceId, r.seq)) {
        const id = addPostClose(s, {
          deviceId: r.deviceId,
          seq: r.seq,
          deviceTimeMs: r.deviceTimeMs,
          tempCentiC: r.tempCentiC,
          status: r.status,
        })
        if (emitAlarms) this.#emitAlarm(s, id)
      } else {
        const changed = addReading(s, r, late)
        if (emitAlarms) for (const id of changed) this.#emitAlarm(s, id)
      }
    }
    if (live) {
      opts.onIngestLatency?.(Math.max(0, state.clock() - entry.time) / 1000)
      if (state.wants('reading')) {
        const shipmentIds = mine.map((s) => s.id)
        state.emit({ event: 'reading', data: { ...viewOfFacts(r, late, excess), shipmentIds } })
      }
      if (state.wants('shipment')) for (const s of mine) state.emit({ event: 'shipment', data: summaryOf(s) })
    }
  }

  #emitAlarm(s: LiveShipment, id: string): void {
    const a = alarmView(s, id, this.state.clock)
    if (a) this.state.emit({ event: 'alarm', data: a })
  }

  #ack({ entry }: StoredEntry<'alarm.ack'>, live: boolean): void {
    const { state } = this
    const body = entry.body
    const s = state.shipments.get(body.shipmentId)
    if (!s) return
    s.acks.set(body.alarmId, {
      by: body.by,
      reason: body.reason,
      comment: body.comment,
      at: entry.time,
      index: entry.index,
    })
    if (live) {
      const a = state.anyAlarm(s.id, body.alarmId)
      if (a) state.emit({ event: 'ack', data: a })
      state.emit({ event: 'shipment', data: summaryOf(s) })
    }
  }

  #emitDevice(deviceId: string): void {
    const d = this.state.ledger.device(deviceId)
    if (d) this.state.emit({ event: 'device', data: deviceView(d, this.state.shipmentOfDevice(deviceId)) })
  }

  /**
   * A shipment created after some of its readings were committed (startAt in the past, or readings
   * that arrived before the create): at start-up the fold sees them because creates are loaded first;
   * live, they were applied before the shipment existed. Read them (entries below the create's index)
   * and refold, so the alarms are raised now and not only after a restart.
   */
  #backfill(s: LiveShipment, createIndex: number, only?: readonly string[]): void {
    const { state } = this
    const prev = this.#backfilling.get(s.id) ?? Promise.resolve()
    const done: Promise<void> = (async () => {
      await prev
      const earlier = (await state.ledger.readingsByShipment(s.id)).filter(
        (e) => e.entry.index < createIndex && (!only || only.includes(e.entry.body.deviceId)),
      )
      if (s.closedAt !== null || (earlier.length === 0 && !only)) return
      const views = earlier.map((e) => ({
        ...readingView(e, Number.MAX_SAFE_INTEGER),
        late: state.lateReadings.has(`${e.entry.body.deviceId}:${e.entry.body.seq}`),
      }))
      const ids = refoldWith(s, views)
      for (const id of ids) {
        const a = alarmView(s, id, state.clock)
        if (a) state.emit({ event: 'alarm', data: a })
      }
      state.emit({ event: 'shipment', data: summaryOf(s) })
    })()
      .catch((err) => this.opts.onError?.(err, createIndex))
      .finally(() => {
        if (this.#backfilling.get(s.id) === done) this.#backfilling.delete(s.id)
      })
    this.#backfilling.set(s.id, done)
  }
}
