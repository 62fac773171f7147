/**
 * Test data for the browser tests, written through the ledger's own write API
 * with readings really signed by device keys (noble, as the simulated
 * firmware does) and chained by the wire protocol: the dashboard reads them
 * exactly as it reads what the ingest stores.
 *
 * The scene: a 2–8 °C shipment with an excursion long enough to raise an
 * alarm, a sensor whose buffered readings arrive late after a dead zone, a
 * second sensor that went silent after a data gap; a frozen shipment in
 * range; a shipment whose product, route and device model are XSS probes.
 */
import { sha256 } from '@noble/hashes/sha2.js'
import {
  encodeRecord,
  assemblePayload,
  readingSigningMessage,
  readingHash,
  GENESIS_PREV_HASH,
  toHex,
  toBase64,
  utf8,
} from '../../../ledger/protocol/index.ts'
import { nobleSign, noblePublicKey } from '../../../ledger/protocol/test/support.ts'
import type { Ledger } from '../../../ledger/store/index.ts'
import { BUILTIN_PROFILES } from '../../compliance/builtin-profiles.ts'

const MIN = 60_000

export const XSS_PRODUCT = '<img src=x onerror="window.__xss=1;alert(1)">Vaccine'
export const XSS_ROUTE_FROM = '<script>window.__xss=2;alert(2)</script>Basel'
export const XSS_MODEL = '<img src=x onerror="window.__xss=3">'
export const XSS_COMMENT = '<img src=x onerror="window.__xss=4;alert(4)"> checked <b>ok</b>'

export interface SimDevice {
  deviceId: string
  seed: Uint8Array
  publicKey: string
  seq: number
  prevHash: Uint8Array
}

export function simDevice(deviceId: string): SimDevice {
  const seed = sha256(utf8(`coldproof e2e device ${deviceId}`))
  return { deviceId, seed, publicKey: toHex(noblePublicKey(seed)), seq: 0, prevHash: GENESIS_PREV_HASH }
}

/** Signs the device's next reading and appends it as the ingest would, stored at `receivedAt`. */
export async function appendSigned(
  ledger: Ledger,
  d: SimDevice,
  deviceTimeMs: number,
  tempCentiC: number,
  receivedAt: number,
  batteryPct = 90,
): Promise<number> {
  const record = encodeRecord({
    deviceId: d.deviceId,
    seq: d.seq + 1,
    deviceTimeMs,
    tempCentiC,
    prevHash: d.prevHash,
    batteryPct,
  })
  const payload = assemblePayload(record, nobleSign(readingSigningMessage(record), d.seed))
  const e = await ledger.appendReading({ payload: toBase64(payload), deviceId: d.deviceId, seq: d.seq + 1 }, receivedAt)
  d.seq += 1
  d.prevHash = readingHash(payload)
  return e.entry.index
}

export interface Scene {
  fridge: { shipmentId: string; live: SimDevice; silent: SimDevice }
  frozen: { shipmentId: string; device: SimDevice }
  xss: { shipmentId: string; device: SimDevice; product: string }
  now: number
}

/**
 * A ledger clock the seed can wind back: the scene's history (registrations,
 * shipment creation) is written at the time it happened, so receive times stay
 * in order (the ledger keeps entry times monotonic) and only the dead-zone
 * readings look late. `set(null)` returns to the wall clock.
 */
export function settableClock(): { clock: () => number; set(ms: number | null): void } {
  let fixed: number | null = null
  return {
    clock: () => fixed ?? Date.now(),
    set(ms) {
      fixed = ms
    },
  }
}

/** Fills `ledger` with the scene. `now` is the wall-clock time the last live readings were taken. */
export async function seedScene(
  ledger: Ledger,
  clock: { set(ms: number | null): void },
  now = Date.now(),
): Promise<Scene> {
  const start = now - 6 * 60 * MIN
  clock.set(start - 30 * MIN)
  const year = 365 * 24 * 60 * MIN
  const a1 = simDevice('e2e-fridge-a1')
  const a2 = simDevice('e2e-fridge-a2')
  const b1 = simDevice('e2e-frozen-b1')
  const x1 = simDevice('e2e-xss-x1')
  const by = 'e2e-seed'
  await ledger.registerDevice({
    deviceId: a1.deviceId,
    publicKey: a1.publicKey,
    model: 'TempLog 4',
    calibration: {
      certificate: 'CAL-2026-0412',
      calibratedAt: now - 100 * 24 * 60 * MIN,
      dueAt: now - 100 * 24 * 60 * MIN + year,
    },
    by,
  })
  // Calibrated 400 days ago: overdue under GDP 9.3's yearly calibration.
  await ledger.registerDevice({
    deviceId: a2.deviceId,
    publicKey: a2.publicKey,
    model: 'TempLog 4',
    calibration: {
      certificate: 'CAL-2025-0077',
      calibratedAt: now - 400 * 24 * 60 * MIN,
      dueAt: now - 35 * 24 * 60 * MIN,
    },
    by,
  })
  await ledger.registerDevice({ deviceId: b1.deviceId, publicKey: b1.publicKey, model: 'CryoTrack', by })
  await ledger.registerDevice({ deviceId: x1.deviceId, publicKey: x1.publicKey, model: XSS_MODEL, by })

  clock.set(start - 10 * MIN)
  const fridge = BUILTIN_PROFILES['refrigerated-2-8']
  const frozen = BUILTIN_PROFILES['frozen-20']
  await ledger.createShipment({
    shipmentId: 'E2E-FRIDGE-1',
    product: 'Insulin glargine 100 U/ml',
    route: { from: 'Basel', to: 'Lyon' },
    devices: [a1.deviceId, a2.deviceId],
    profile: fridge,
    startAt: start,
    by: 'alice',
    gs1: { sscc: '106141411234567897', gtin: '00614141000418', lot: 'L2407', expiry: '2027-06-30' },
  })
  await ledger.createShipment({
    shipmentId: 'E2E-FROZEN-1',
    product: 'Measles vaccine',
    route: { from: 'Antwerp', to: 'Madrid' },
    devices: [b1.deviceId],
    profile: frozen,
    startAt: start,
    by: 'alice',
  })
  await ledger.createShipment({
    shipmentId: 'E2E-XSS-1',
    product: XSS_PRODUCT,
    route: { from: XSS_ROUTE_FROM, to: '"><svg onload=alert(5)>' },
    devices: [x1.deviceId],
    profile: fridge,
    startAt: start,
    by: 'alice',
  })

  const step = 5 * MIN
  // Every reading as the ingest would see it; appended in receive order (seq order per device).
  const plan: { d: SimDevice; t: number; temp: number; received: number; battery: number }[] = []
  // a1: in range, an excursion to ~10.5 °C for 40 min (alarm delay 15 min), back in range;
  // then a 40-minute dead zone whose buffered readings arrive together, late, on reconnect.
  const deadFrom = now - 100 * MIN
  const deadTo = now - 60 * MIN
  for (let t = start; t <= now - 5 * MIN; t += step) {
    const exc = t >= start + 120 * MIN && t < start + 160 * MIN
    const temp = exc ? 1020 + (Math.round(t / step) % 4) * 15 : 480 + Math.round(60 * Math.sin(t / (45 * MIN)))
    const received = t >= deadFrom && t < deadTo ? deadTo + 2000 : t + 4000
    plan.push({ d: a1, t, temp, received, battery: 90 })
  }
  // a2: a 45-minute gap in device time (longer than the 30 min allowed), then silent for the last 40 min.
  for (let t = start; t <= now - 40 * MIN; t += step) {
    if (t > start + 200 * MIN && t < start + 245 * MIN) continue
    plan.push({ d: a2, t, temp: 520 + Math.round(40 * Math.cos(t / (30 * MIN))), received: t + 3000, battery: 64 })
  }
  for (let t = start; t <= now - 5 * MIN; t += step)
    plan.push({ d: b1, t, temp: -2350 + Math.round(80 * Math.sin(t / (60 * MIN))), received: t + 2000, battery: 77 })
  for (let t = start; t <= now - 5 * MIN; t += step) plan.push({ d: x1, t, temp: 550, received: t + 2500, battery: 12 })
  plan.sort((a, b) => a.received - b.received) // stable: per device, seq order is kept
  for (const p of plan) {
    clock.set(p.received)
    await appendSigned(ledger, p.d, p.t, p.temp, p.received, p.battery)
  }
  clock.set(null)
  await ledger.barrier()
  await ledger.checkpoint()
  return {
    fridge: { shipmentId: 'E2E-FRIDGE-1', live: a1, silent: a2 },
    frozen: { shipmentId: 'E2E-FROZEN-1', device: b1 },
    xss: { shipmentId: 'E2E-XSS-1', device: x1, product: XSS_PRODUCT },
    now,
  }
}
