/** The fields of one reading: the probe's temperature with its noise and faults, the status flags, the device clock. */
import { EVENT, MAX_TEMP_CENTI_C, MIN_TEMP_CENTI_C, STATUS, type ReadingFields } from '../ledger/protocol/index.ts'
import type { ChainState } from './chain-state.ts'
import { deviceTimeAt } from './device-clock.ts'
import { createRng, deriveSeed } from './rng.ts'
import type { DeviceSpec, Window } from './scenario/index.ts'
import type { ShipmentSnapshot } from './shipment-sim.ts'

const MINUTE = 60_000
/** Below this battery level the logger flags LOW_BATTERY. */
export const LOW_BATTERY_PCT = 20
/** What the probe reports when it has failed (open circuit reads as the sensor maximum). */
export const SENSOR_FAULT_CENTI_C = MAX_TEMP_CENTI_C

export const inWindow = (ws: readonly Window[], min: number) => ws.some((w) => min >= w.fromMin && min < w.toMin)

export interface SampleInputs {
  spec: DeviceSpec
  seed: number
  startMs: number
  intervalMs: number
  /** Simulated true time of the sample. */
  t: number
  snap: ShipmentSnapshot
  batteryPct: number
  /** A reading the ledger will miss was dropped: this one reports BUFFER_OVERFLOW. */
  overflow: boolean
  /** The chain so far: this reading takes the next seq and links to its head. */
  chain: ChainState
  doorOpened: boolean
}

export function readingFields({
  spec,
  seed,
  startMs,
  intervalMs,
  t,
  snap,
  batteryPct,
  overflow,
  chain,
  doorOpened,
}: SampleInputs): ReadingFields {
  const min = (t - startMs) / MINUTE
  const k = Math.round((t - startMs) / intervalMs)
  // Noise from a per-sample stream: a restarted device draws exactly what it would have.
  const noise = createRng(deriveSeed(seed, `${spec.deviceId}#${k}`)).gaussian() * spec.noiseC
  const trueC = (spec.probe === 'air' ? snap.airC : snap.productC) + spec.offsetC + noise
  let status = 0
  let tempCentiC = Math.min(MAX_TEMP_CENTI_C, Math.max(MIN_TEMP_CENTI_C, Math.round(trueC * 100)))
  if (inWindow(spec.faults.sensorFault, min)) {
    status |= STATUS.SENSOR_FAULT
    tempCentiC = SENSOR_FAULT_CENTI_C
  }
  if (batteryPct < LOW_BATTERY_PCT) status |= STATUS.LOW_BATTERY
  if (overflow) status |= STATUS.BUFFER_OVERFLOW
  const fields: ReadingFields = {
    deviceId: spec.deviceId,
    seq: chain.seq + 1,
    deviceTimeMs: deviceTimeAt(t, {
      originMs: startMs,
      driftPpm: spec.faults.clockDriftPpm,
      jumps: spec.faults.clockJump,
    }),
    tempCentiC,
    prevHash: chain.head,
    batteryPct: Math.ceil(batteryPct),
  }
  if (doorOpened) fields.events = EVENT.DOOR_OPEN
  if (status !== 0) fields.status = status
  return fields
}
