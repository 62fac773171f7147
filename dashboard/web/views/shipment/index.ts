/**
 * One shipment: the temperature chart, the compliance summary, sensors and
 * how long each has been silent, alarms with the acknowledgement form,
 * excursions, late readings, downloads. This module lays the page out, loads
 * the shipment and keeps it live: new readings arrive from the stream and are
 * drawn at their device time; alarms and shipment events reload it.
 */
import { h, replace } from '../../dom.ts'
import { ApiError } from '../../api/request.ts'
import { getShipment } from '../../api/shipment-detail.ts'
import { toast } from '../../components.ts'
import type { View } from '../../context.ts'
import type { AlarmView, ShipmentDetail } from '../../types.ts'
import { renderAlarms } from './alarm-list.ts'
import { chartPanel } from './chart-panel.ts'
import { renderDownloads } from './downloads.ts'
import { renderExcursions } from './excursions.ts'
import { shipmentHeader } from './header.ts'
import { renderLate } from './late-readings.ts'
import { renderNotices } from './notices.ts'
import { renderSensors } from './sensors.ts'
import { renderSummary } from './summary.ts'

/** Events that change the shipment's status or counts reload it once after this pause. */
const RELOAD_DELAY_MS = 300
/** A burst of streamed readings is drawn once after this pause. */
const REDRAW_DELAY_MS = 150
/** Silence grows while nothing arrives: how often it is re-checked. */
const SILENCE_CHECK_MS = 15_000

export const shipmentView: View = (root, ctx, params) => {
  const id = decodeURIComponent(params[0] ?? '')
  let detail: ShipmentDetail | null = null
  let disposed = false

  const header = shipmentHeader(
    ctx,
    () => (disposed ? null : detail),
    () => void load(false),
  )
  const notices = h('div', { id: 'shipment-notices' })
  const summary = h('div', { class: 'card', id: 'compliance' })
  const chart = chartPanel()
  const sensorsBox = h('section', { class: 'card', id: 'sensors' })
  const alarmsBox = h('section', { class: 'card', id: 'alarms' })
  const excursionsBox = h('section', { class: 'card', id: 'excursions' })
  const lateBox = h('section', { class: 'card', id: 'late-readings' })
  const downloadsBox = h('section', { class: 'card', id: 'downloads' })

  replace(root, h('p', { class: 'loading' }, 'Loading shipment…'))

  const onAcked = (a: AlarmView) => {
    if (!detail) return
    detail.alarms = detail.alarms.map((x) => (x.alarmId === a.alarmId ? a : x))
    drawAlarms(detail)
    renderNotices(notices, detail)
    chart.update(detail)
    ctx.refreshAlarmCount()
    // Status and counts are the server's to say: fetch them again.
    reloadSoon()
  }
  const drawAlarms = (d: ShipmentDetail) => renderAlarms(alarmsBox, d, { canAck: ctx.can.operate, onAcked })

  function renderAll(d: ShipmentDetail): void {
    header.render(d)
    renderNotices(notices, d)
    renderSummary(summary, d)
    renderSensors(sensorsBox, d)
    drawAlarms(d)
    renderExcursions(excursionsBox, d)
    renderLate(lateBox, d)
    renderDownloads(downloadsBox, d)
    chart.renderLiveLine(d)
  }

  async function load(first: boolean): Promise<void> {
    try {
      const d = await getShipment(id)
      if (disposed) return
      // Keep readings that arrived over the stream while the request was in flight.
      if (detail && !first) {
        const seen = new Set(d.readings.map((r) => `${r.deviceId}/${r.seq}`))
        for (const r of detail.readings) if (!seen.has(`${r.deviceId}/${r.seq}`)) d.readings.push(r)
      }
      detail = d
      if (first) {
        replace(
          root,
          header.el,
          notices,
          h(
            'div',
            { class: 'grid grid-2' },
            h('div', null, chart.card, sensorsBox, alarmsBox),
            h('div', null, summary, downloadsBox),
          ),
          excursionsBox,
          lateBox,
        )
        chart.mount(d)
      } else {
        chart.update(d)
      }
      renderAll(d)
    } catch (e) {
      if (!first) return
      const msg =
        e instanceof ApiError && e.status === 404
          ? `There is no shipment "${id}".`
          : `Could not load the shipment: ${(e as Error).message}`
      replace(
        root,
        h('div', { class: 'breadcrumb' }, h('a', { href: '#/fleet' }, '← Fleet')),
        h('div', { class: 'notice notice-alarm' }, msg),
      )
    }
  }

  let pending: ReturnType<typeof setTimeout> | null = null
  const reloadSoon = () => {
    if (!pending)
      pending = setTimeout(() => {
        pending = null
        void load(false)
      }, RELOAD_DELAY_MS)
  }
  let redraw: ReturnType<typeof setTimeout> | null = null

  const unsub = ctx.stream.subscribe((e) => {
    if (!detail) return
    if (
      e.type === 'reading' &&
      (e.shipmentIds.includes(id) || (e.shipmentIds.length === 0 && detail.devices.includes(e.reading.deviceId)))
    ) {
      const r = e.reading
      if (detail.readings.some((x) => x.deviceId === r.deviceId && x.seq === r.seq)) return
      detail.readings.push(r)
      const s = detail.sensors.find((x) => x.deviceId === r.deviceId)
      if (s && !r.late && (s.lastReadingT ?? 0) <= r.t) {
        s.lastReadingT = r.t
        s.lastSeenAt = r.receivedAt ?? Date.now()
        s.silentForMs = 0
        if (!r.fault) s.currentTempC = r.tempC
      }
      chart.showLive(r)
      // Batch redraws: a burst of buffered readings draws once.
      if (!redraw)
        redraw = setTimeout(() => {
          redraw = null
          if (detail) {
            chart.update(detail)
            renderSensors(sensorsBox, detail)
            renderNotices(notices, detail)
            renderLate(lateBox, detail)
          }
        }, REDRAW_DELAY_MS)
    } else if ((e.type === 'alarm' || e.type === 'ack') && e.alarm.shipmentId === id) {
      if (e.type === 'alarm' && e.alarm.state === 'open' && !detail.alarms.some((a) => a.alarmId === e.alarm.alarmId))
        toast(`New alarm on ${id}: ${e.alarm.message}`, 'alarm')
      reloadSoon()
    } else if (e.type === 'shipment' && e.shipment.shipmentId === id) {
      reloadSoon()
    }
  })
  const unre = ctx.stream.onReconnect(reloadSoon)
  const silenceTimer = setInterval(() => {
    if (detail) {
      renderNotices(notices, detail)
      renderSensors(sensorsBox, detail)
    }
  }, SILENCE_CHECK_MS)
  void load(true)
  return () => {
    disposed = true
    unsub()
    unre()
    clearInterval(silenceTimer)
    if (pending) clearTimeout(pending)
    if (redraw) clearTimeout(redraw)
    chart.destroy()
  }
}
