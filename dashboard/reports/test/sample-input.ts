/**
 * A small, deterministic ReportInput for the report writers' tests: one
 * 2-8 °C shipment, two loggers sampling every 5 minutes for 4 hours, one
 * logger warming to 11 °C for 40 minutes, one late reading and one sensor
 * fault. The excursion list is what the readings show (computed here, not
 * typed in), so tests can check each writer marks exactly those readings.
 */
import type { ReportInput, ReportReading, ReportExcursion } from '../types.ts'
import { BUILTIN_PROFILES, profileHash } from '../../compliance/index.ts'

const T0 = Date.UTC(2026, 10, 20, 6, 0, 0)
const STEP = 5 * 60_000

export function sampleReportInput(): ReportInput {
  const readings: ReportReading[] = []
  for (const [d, deviceId] of ['logger-a1', 'logger-b2'].entries()) {
    for (let i = 0; i < 48; i++) {
      const t = T0 + i * STEP + d * 7_000
      let temp = 450 + ((i * 37 + d * 11) % 120)
      if (d === 0 && i >= 20 && i < 28) temp = 820 + (i - 20) * 35 // warming above 8 °C
      const flags: string[] = []
      if (d === 1 && i === 30) flags.push('SENSOR_FAULT')
      readings.push({
        deviceId,
        seq: i + 1,
        deviceTimeMs: t,
        tempCentiC: temp,
        flags,
        receivedAt: d === 1 && i === 40 ? t + 50 * 60_000 : t + 1_500,
        late: d === 1 && i === 40,
      })
    }
  }
  const excursions: ReportExcursion[] = []
  let open: ReportExcursion | null = null
  for (const r of readings.filter((r) => r.deviceId === 'logger-a1')) {
    if (r.tempCentiC > 800) {
      if (!open)
        open = {
          deviceId: r.deviceId,
          kind: 'above',
          ruleId: 'above-8',
          startAt: r.deviceTimeMs,
          endAt: null,
          durationMs: 0,
          peakCentiC: r.tempCentiC,
        }
      open.endAt = r.deviceTimeMs
      open.peakCentiC = Math.max(open.peakCentiC ?? r.tempCentiC, r.tempCentiC)
    } else if (open) {
      open.durationMs = (open.endAt ?? open.startAt) - open.startAt
      excursions.push(open)
      open = null
    }
  }
  return {
    shipment: {
      shipmentId: 'SHP-<script>alert(1)</script>',
      product: 'Insulin glargine 100 U/ml =cmd',
      route: { from: 'Basel', to: 'Lyon' },
      devices: ['logger-a1', 'logger-b2'],
      gs1: { sscc: '106141411928374657', gtin: '09506000134352', lot: 'L2407', expiry: '2027-06-30' },
      startAt: T0,
      closedAt: T0 + 48 * STEP,
      createdBy: 'olivia',
      createdAt: T0 - 10 * 60_000,
      profileHash: profileHash(BUILTIN_PROFILES['refrigerated-2-8']),
      profile: JSON.parse(JSON.stringify(BUILTIN_PROFILES['refrigerated-2-8'])) as Record<string, unknown>,
      range: { minCentiC: 200, maxCentiC: 800 },
    },
    readings,
    result: {
      verdict: 'fail',
      reasons: ['above-8: 35 min above 8.00 °C (allowance 0 min)'],
      mktCentiC: 612,
      timeInRangeMs: 48 * STEP - 40 * 60_000,
      timeAboveMs: 40 * 60_000,
      timeBelowMs: 0,
      excursions,
    },
    devices: [
      {
        deviceId: 'logger-a1',
        publicKey: '11'.repeat(32),
        fingerprint: '0123456789abcdef',
        model: 'CP-T1',
        calibration: { certificate: 'CAL-2026-0042', calibratedAt: T0 - 90 * 86_400_000, dueAt: T0 + 275 * 86_400_000 },
        revoked: false,
      },
      {
        deviceId: 'logger-b2',
        publicKey: '22'.repeat(32),
        fingerprint: 'fedcba9876543210',
        model: null,
        calibration: null,
        revoked: false,
      },
    ],
    checkpoint: {
      origin: 'coldproof.local/ledger',
      size: 1234,
      rootHash: 'q83vEjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJq80=',
      note: 'coldproof.local/ledger\n1234\nq83v...\n',
    },
    bundleSha256: null,
    generatedAt: T0 + 49 * STEP,
  }
}
