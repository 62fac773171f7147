/** One shipment's page: its detail, readings, sensors, compliance result and downloads. */
import type { DeviceStateWire, ExcursionWire, ReadingWire, ShipmentDetailWire } from '../../common/api-schemas.ts'
import type { ExcursionView, ProfileView, ReadingView, SensorState, ShipmentDetail } from '../types.ts'
import { mapAlarm } from './alarms.ts'
import { mapReading } from './readings.ts'
import { request } from './request.ts'
import { mapShipment } from './shipment-list.ts'
import { centiToC } from './units.ts'

function mapProfile(
  p: Record<string, unknown> | null,
  fallback: { minC: number | null; maxC: number | null },
): ProfileView {
  if (!p) return { ...fallback }
  const range = (p.range ?? {}) as { lowCentiC?: number | null; highCentiC?: number | null }
  const num = (v: unknown) => (typeof v === 'number' ? v : undefined)
  return {
    name: typeof p.name === 'string' ? p.name : undefined,
    labelStatement: typeof p.labelStatement === 'string' ? p.labelStatement : undefined,
    minC: typeof range.lowCentiC === 'number' ? range.lowCentiC / 100 : fallback.minC,
    maxC: typeof range.highCentiC === 'number' ? range.highCentiC / 100 : fallback.maxC,
    maxGapMs: num(p.maxDataGapMs),
    expectedIntervalMs: num(p.expectedIntervalMs),
    raw: p,
  }
}

function mapExcursion(e: ExcursionWire): ExcursionView {
  return {
    kind: e.kind,
    ruleId: e.ruleId ?? undefined,
    deviceId: e.deviceId ?? undefined,
    from: e.startAt,
    to: e.endAt,
    durationMs: e.durationMs,
    peakC: centiToC(e.peakCentiC),
  }
}

function mapSensor(s: DeviceStateWire): SensorState {
  return {
    deviceId: s.deviceId,
    lastSeenAt: s.lastReceivedAt ?? null,
    lastReadingT: s.lastReadingAt,
    silentForMs: s.silentForMs ?? null,
    currentTempC: centiToC(s.currentTempCentiC),
    batteryPct: s.batteryPct ?? null,
    late: s.late === true,
    lost: s.lost === true,
  }
}

function reasonsOf(v: unknown): string[] {
  if (!Array.isArray(v)) return []
  return v.map((r) =>
    typeof r === 'string'
      ? r
      : typeof r === 'object' && r && 'message' in r
        ? String((r as { message: unknown }).message)
        : JSON.stringify(r),
  )
}

export function mapDetail(j: ShipmentDetailWire, readings: ReadingView[]): ShipmentDetail {
  const base = mapShipment(j)
  const id = encodeURIComponent(j.shipmentId)
  const r = j.result
  return {
    ...base,
    gs1: j.gs1 ?? undefined,
    profile: mapProfile(j.profile, base.range),
    profileHash: j.profileHash,
    readings,
    excursions: (r?.excursions ?? []).map(mapExcursion),
    alarms: (j.alarms ?? []).map(mapAlarm),
    sensors: (j.deviceStates ?? []).map(mapSensor),
    endsEarly: j.endsEarly ?? null,
    closeSignature: j.closeSignature ?? null,
    profileId: j.profileId ?? null,
    createdBy: j.createdBy ?? null,
    createdAt: j.createdAt ?? null,
    receipt:
      j.receiveSignature && typeof j.receivedAt === 'number'
        ? { receivedAt: j.receivedAt, ...j.receiveSignature }
        : null,
    loggers:
      j.loggers ??
      j.devices.map((deviceId) => ({
        deviceId,
        from: j.startAt ?? 0,
        until: null,
        addedEntry: null,
        removedEntry: null,
      })),
    postClose: (j.postClose ?? []).map(mapReading),
    compliance: r
      ? {
          verdict: r.verdict,
          mktC: centiToC(r.mktCentiC),
          timeInRangeMs: r.timeInRangeMs ?? null,
          timeAboveMs: r.timeAboveMs ?? null,
          timeBelowMs: r.timeBelowMs ?? null,
          readingCount: r.readingCount ?? null,
          reasons: reasonsOf(r.reasons),
          deciding: typeof r.deciding === 'number' ? r.deciding : 0,
          loggers: (r.loggers ?? []).map((l) => ({
            deviceId: l.deviceId,
            minC: centiToC(l.minCentiC),
            maxC: centiToC(l.maxCentiC),
            meanC: centiToC(l.meanCentiC),
            readings: l.readings,
          })),
        }
      : null,
    downloads: [
      { label: 'PDF report', href: `/api/shipments/${id}/report.pdf`, kind: 'pdf' },
      { label: 'Readings CSV', href: `/api/shipments/${id}/readings.csv`, kind: 'csv' },
      { label: 'EPCIS 2.0', href: `/api/shipments/${id}/epcis.json`, kind: 'epcis' },
      { label: 'Evidence bundle', href: `/api/shipments/${id}/bundle.json`, kind: 'bundle' },
      // Only a closed shipment has one: what was logged about it after the close, apart from the frozen bundle.
      ...(j.closedAt != null
        ? [
            {
              label: 'Post-close supplement',
              href: `/api/shipments/${id}/bundle.json?postClose=true`,
              kind: 'bundle-post-close' as const,
            },
          ]
        : []),
    ],
  }
}

export async function getShipment(id: string): Promise<ShipmentDetail> {
  const p = encodeURIComponent(id)
  const [detail, readings] = await Promise.all([
    request<ShipmentDetailWire>('GET', `/api/shipments/${p}`),
    request<{ readings: ReadingWire[] }>('GET', `/api/shipments/${p}/readings?limit=100000`),
  ])
  return mapDetail(detail, readings.readings.map(mapReading))
}
