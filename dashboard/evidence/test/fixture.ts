/**
 * A real evidence trail for the bundle tests: a LevelDB ledger on disk,
 * registered devices, two shipments, readings signed by device keys with
 * @noble/ed25519 (as the simulated firmware signs) and chained by the wire
 * protocol, appended through the ledger's write API as the ingest appends
 * them; an excursion long enough to raise an alarm, readings before the
 * shipment window and after its close, an acknowledgement, a checkpoint.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
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
import { openLedger, type Ledger } from '../../../ledger/store/index.ts'
import { BUILTIN_PROFILES } from '../../compliance/index.ts'

export const MIN = 60_000
export const T0 = Date.UTC(2026, 10, 20, 6, 0, 0)

export interface Dev {
  deviceId: string
  seed: Uint8Array
  publicKey: string
  seq: number
  prevHash: Uint8Array
}

export function dev(deviceId: string): Dev {
  const seed = sha256(utf8(`coldproof bundle test ${deviceId}`))
  return { deviceId, seed, publicKey: toHex(noblePublicKey(seed)), seq: 0, prevHash: GENESIS_PREV_HASH }
}

/** The device's next reading, signed and chained (advances `d`), as the ingest appends it. */
export function nextReadingBody(d: Dev, t: number, temp: number): { payload: string; deviceId: string; seq: number } {
  const record = encodeRecord({
    deviceId: d.deviceId,
    seq: d.seq + 1,
    deviceTimeMs: t,
    tempCentiC: temp,
    prevHash: d.prevHash,
    batteryPct: 80,
  })
  const payload = assemblePayload(record, nobleSign(readingSigningMessage(record), d.seed))
  d.seq++
  d.prevHash = readingHash(payload)
  return { payload: toBase64(payload), deviceId: d.deviceId, seq: d.seq }
}

export interface Trail {
  dir: string
  ledger: Ledger
  /** Shipment with two loggers, an excursion, readings before and after its window; closed. */
  shipmentId: string
  /** A second shipment with another logger, open. */
  otherShipmentId: string
  devices: { a: Dev; b: Dev; c: Dev }
  startAt: number
  closedAt: number
  close(): Promise<void>
}

export async function buildTrail(): Promise<Trail> {
  const dir = await mkdtemp(join(tmpdir(), 'coldproof-bundle-'))
  let now = T0 - 60 * MIN
  const ledger = await openLedger({
    dir: join(dir, 'ledger'),
    clock: () => now,
    checkpointIntervalMs: 0,
    checkpointEvery: 100_000,
  })
  const a = dev('bt-fridge-a'),
    b = dev('bt-fridge-b'),
    c = dev('bt-other-c')
  const year = 365 * 24 * 60 * MIN
  for (const d of [a, b, c]) {
    await ledger.registerDevice({
      deviceId: d.deviceId,
      publicKey: d.publicKey,
      model: 'TempLog 4',
      calibration: {
        certificate: `CAL-${d.deviceId}`,
        calibratedAt: T0 - 30 * 24 * 60 * MIN,
        dueAt: T0 - 30 * 24 * 60 * MIN + year,
      },
      by: 'test',
    })
  }
  const append = async (d: Dev, t: number, temp: number) => {
    now = Math.max(now, t + 2000)
    await ledger.appendReading(nextReadingBody(d, t, temp), now)
  }
  const startAt = T0
  const closedAt = T0 + 4 * 60 * MIN
  // Logger a was already running before the shipment: three readings before the window.
  for (let t = T0 - 15 * MIN; t < T0; t += 5 * MIN) await append(a, t, 500)
  now = T0 - 10 * MIN
  const fridge = BUILTIN_PROFILES['refrigerated-2-8']
  await ledger.createShipment({
    shipmentId: 'BT-FRIDGE-1',
    product: 'Insulin glargine',
    route: { from: 'Basel', to: 'Lyon' },
    devices: [a.deviceId, b.deviceId],
    profile: fridge,
    startAt,
    by: 'alice',
  })
  await ledger.createShipment({
    shipmentId: 'BT-OTHER-1',
    product: 'Measles vaccine',
    route: { from: 'Antwerp', to: 'Madrid' },
    devices: [c.deviceId],
    profile: fridge,
    startAt,
    by: 'alice',
  })
  for (let t = T0; t <= closedAt; t += 5 * MIN) {
    // a: an excursion to ~10.4 °C for 45 minutes (longer than the alarm delay) from 2 h in.
    const exc = t >= T0 + 120 * MIN && t < T0 + 165 * MIN
    await append(a, t, exc ? 1040 + ((t / (5 * MIN)) % 3) * 10 : 450 + Math.round(50 * Math.sin(t / (40 * MIN))))
    await append(b, t + 60_000, 520 + Math.round(30 * Math.cos(t / (30 * MIN))))
    await append(c, t + 30_000, 480)
  }
  now = closedAt + 2 * MIN
  await ledger.closeShipment({ shipmentId: 'BT-FRIDGE-1', closedAt, by: 'bob' })
  await ledger.acknowledgeAlarm({
    shipmentId: 'BT-FRIDGE-1',
    alarmId: 'bt-fridge-a:excursion',
    reason: 'Product quarantined pending QA assessment',
    comment: 'reefer door',
    by: 'olivia',
  })
  // The loggers keep logging after arrival: these readings anchor the chain ends.
  for (let t = closedAt + 5 * MIN; t <= closedAt + 10 * MIN; t += 5 * MIN) {
    await append(a, t, 500)
    await append(b, t, 500)
  }
  await ledger.barrier()
  return {
    dir,
    ledger,
    shipmentId: 'BT-FRIDGE-1',
    otherShipmentId: 'BT-OTHER-1',
    devices: { a, b, c },
    startAt,
    closedAt,
    async close() {
      await ledger.close()
      await rm(dir, { recursive: true, force: true })
    },
  }
}

export interface GapTrail {
  dir: string
  ledger: Ledger
  shipmentId: string
  devices: { early: Dev; gappy: Dev }
  close(): Promise<void>
}

/**
 * A small closed shipment for the property and gap tests: logger `early` ran
 * before the window (a reading before it), logger `gappy` lost seq 5 and 6 and
 * the ledger declared them lost. `beforeClose` runs just before the close.
 */
export async function buildGapTrail(
  beforeClose: (ledger: Ledger, d: { early: Dev; gappy: Dev }) => Promise<void> = async () => {},
): Promise<GapTrail> {
  const dir = await mkdtemp(join(tmpdir(), 'coldproof-gap-trail-'))
  let now = T0 - 30 * MIN
  const ledger = await openLedger({ dir, clock: () => now, checkpointIntervalMs: 0 })
  const early = dev('prop-early'),
    gappy = dev('prop-gappy')
  for (const d of [early, gappy]) await ledger.registerDevice({ deviceId: d.deviceId, publicKey: d.publicKey, by: 't' })
  const put = async (d: Dev, at: number) => {
    now = Math.max(now, at + 1000)
    // Above a gap the ingest holds a reading outside the log until the gap is filled or declared.
    const body = nextReadingBody(d, at, 500)
    if (body.seq === ledger.device(d.deviceId)!.contiguous + 1) await ledger.appendReading(body, now)
    else await ledger.holdReading(body, now)
  }
  for (let at = T0 - 15 * MIN; at < T0; at += 5 * MIN) await put(early, at)
  await ledger.createShipment({
    shipmentId: 'PROP-1',
    product: 'p',
    route: { from: 'a', to: 'b' },
    devices: [early.deviceId, gappy.deviceId],
    profile: BUILTIN_PROFILES['refrigerated-2-8'],
    startAt: T0,
    by: 't',
  })
  for (let i = 0; i <= 8; i++) {
    await put(early, T0 + i * 5 * MIN)
    if (i === 4 || i === 5)
      nextReadingBody(gappy, T0 + i * 5 * MIN, 500) // seq 5 and 6 never arrive
    else await put(gappy, T0 + i * 5 * MIN)
  }
  await ledger.declareGap({ deviceId: gappy.deviceId, fromSeq: 5, toSeq: 6, cause: 'resend-abandoned', by: 'ingest' })
  await beforeClose(ledger, { early, gappy })
  await ledger.closeShipment({ shipmentId: 'PROP-1', closedAt: T0 + 40 * MIN, by: 't' })
  return {
    dir,
    ledger,
    shipmentId: 'PROP-1',
    devices: { early, gappy },
    async close() {
      await ledger.close()
      await rm(dir, { recursive: true, force: true })
    },
  }
}
