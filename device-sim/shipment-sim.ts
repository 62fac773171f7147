/**
 * One shipment's physical state through its legs. The container is shared by
 * all the shipment's loggers, so two probes in one truck see the same door
 * openings. Advanced in steps of at most one simulated minute; the result
 * depends only on the shipment, its start time, the random stream and the
 * sequence of times asked for, never on wall-clock time.
 */
import type { Ambient, Leg, Shipment } from './scenario/index.ts'
import type { Rng } from './rng.ts'
import { stepThermal, type ThermalState } from './thermal.ts'

const MINUTE = 60_000
const STEP_MS = MINUTE

export interface ShipmentSnapshot {
  timeMs: number
  ambientC: number
  airC: number
  productC: number
  unit: ThermalState['unit']
  doorOpenings: number
  iceKg: number
  legIndex: number
}

/** Ambient °C at `timeMs`, `legFraction` (0..1) through a leg: diurnal cosine plus optional ramp. */
export function ambientAt(a: Ambient, timeMs: number, legFraction: number): number {
  const mean = a.toC === undefined ? a.meanC : a.meanC + (a.toC - a.meanC) * legFraction
  const hour = (timeMs / 3_600_000) % 24
  return mean + a.amplitudeC * Math.cos((2 * Math.PI * (hour - a.peakHourUtc)) / 24)
}

export interface ShipmentSim {
  readonly startMs: number
  readonly endMs: number
  /** Advances to `timeMs` (never backwards) and returns the state there. */
  advanceTo(timeMs: number): ShipmentSnapshot
}

export function createShipmentSim(shipment: Shipment, startMs: number, rng: Rng): ShipmentSim {
  const legStarts: number[] = []
  let acc = startMs
  for (const l of shipment.legs) {
    legStarts.push(acc)
    acc += l.durationMin * MINUTE
  }
  const endMs = acc
  let now = startMs
  let legIndex = 0
  let state: ThermalState = {
    airC: shipment.initialC,
    productC: shipment.initialC,
    unit: 'off',
    doorOpenLeftMin: 0,
    doorOpenings: 0,
    iceKg: shipment.legs[0].addIceKg,
  }
  const legAt = (t: number): number => {
    let i = legIndex
    while (i + 1 < shipment.legs.length && t >= legStarts[i + 1]) i++
    return i
  }
  const ambient = (leg: Leg, i: number, t: number) =>
    ambientAt(leg.ambient, t, Math.min(1, (t - legStarts[i]) / (leg.durationMin * MINUTE)))
  const snapshot = (): ShipmentSnapshot => {
    const leg = shipment.legs[legIndex]
    return {
      timeMs: now,
      ambientC: ambient(leg, legIndex, now),
      airC: state.airC,
      productC: state.productC,
      unit: state.unit,
      doorOpenings: state.doorOpenings,
      iceKg: state.iceKg,
      legIndex,
    }
  }
  return {
    startMs,
    endMs,
    advanceTo(timeMs) {
      if (timeMs < now)
        throw new RangeError(`shipment ${shipment.shipmentId} cannot go back in time (${timeMs} < ${now})`)
      while (now < timeMs) {
        const i = legAt(now)
        if (i !== legIndex) {
          legIndex = i
          state = { ...state, iceKg: state.iceKg + shipment.legs[i].addIceKg }
        }
        const leg = shipment.legs[legIndex]
        // Never step across a leg boundary: the next leg's model starts exactly on time.
        const nextBoundary = legIndex + 1 < legStarts.length ? legStarts[legIndex + 1] : Infinity
        const dt = Math.min(STEP_MS, timeMs - now, nextBoundary - now)
        state = stepThermal(
          leg.thermal,
          state,
          {
            dtMin: dt / MINUTE,
            ambientC: ambient(leg, legIndex, now),
            legMin: (now - legStarts[legIndex]) / MINUTE,
            productTauMin: shipment.productTauMin,
          },
          rng,
        )
        now += dt
      }
      const i = legAt(now)
      if (i !== legIndex) {
        legIndex = i
        state = { ...state, iceKg: state.iceKg + shipment.legs[i].addIceKg }
      }
      return snapshot()
    },
  }
}
