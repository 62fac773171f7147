/**
 * First-order (lumped-capacitance) thermal models of a shipment: the
 * container air relaxes toward the ambient through the insulation and toward
 * the refrigeration unit's supply air while it runs (Newton's law of cooling,
 * one exponential per process); the product relaxes toward the air with its
 * own, slower time constant. Each step is a pure function of the state, the
 * step length, the ambient temperature and the random generator.
 *
 * Combining first-order processes with rates 1/τ_i toward targets T_i gives
 * one first-order process toward the weighted mean Σ(T_i/τ_i)/Σ(1/τ_i) with
 * τ = 1/Σ(1/τ_i); stepping it with the exact exponential keeps the update
 * stable for any step length and never overshoots its target.
 */
import type { Rng } from './rng.ts'

/** Sublimation point of CO2 at 1 atm, °C. */
export const DRY_ICE_C = -78.5
/** Latent heat of sublimation of CO2, J/kg (about 571 kJ/kg). */
export const DRY_ICE_LATENT_J_PER_KG = 571_000

export type ThermalModel = ReeferModel | PassiveModel | DryIceModel

/** A refrigerated (or climate-controlled) truck with an on/off thermostat. */
export interface ReeferModel {
  model: 'reefer'
  setpointC: number
  /** Thermostat dead band: cuts in at setpoint + band/2, out at setpoint − band/2. */
  hysteresisC: number
  /** Whether the unit can heat (needed to hold +2 °C in a −15 °C winter). */
  heating: boolean
  /** Supply air is this far below (cooling) or above (heating) the setpoint. */
  supplyOffsetC: number
  /** Time constant of the unit acting on the container air, minutes. */
  unitTauMin: number
  /** Time constant of heat leaking through the walls, minutes. */
  leakTauMin: number
  /** Mean door openings per day (Poisson), e.g. deliveries on a route. */
  doorOpeningsPerDay: number
  doorOpenMin: number
  /** Time constant of air exchange while the door is open, minutes. */
  doorTauMin: number
  /** Minutes into the leg after which the unit stops for good (reefer failure). */
  failAtMin?: number
}

/** An insulated box or pallet with no active cooling (tarmac, loading dock). */
export interface PassiveModel {
  model: 'passive'
  insulationTauMin: number
}

/** An insulated shipper with dry ice; once the ice is gone it warms to ambient. */
export interface DryIceModel {
  model: 'dry-ice'
  /** Overall heat-transfer coefficient of the shipper walls, W/K. */
  uaWPerK: number
  leakTauMin: number
  /** Time constant of the sublimating ice holding the air, minutes. */
  iceTauMin: number
}

export interface ThermalState {
  airC: number
  productC: number
  /** Refrigeration unit state (thermostat memory for the hysteresis). */
  unit: 'off' | 'cool' | 'heat'
  /** Minutes of door opening left (0 = closed). */
  doorOpenLeftMin: number
  /** Count of door openings so far. */
  doorOpenings: number
  /** Dry ice left, kg. */
  iceKg: number
}

export interface StepInput {
  dtMin: number
  ambientC: number
  /** Minutes since the start of the current leg (for failAtMin). */
  legMin: number
  /** Product (payload) thermal time constant, minutes. */
  productTauMin: number
}

function relax(x: number, targets: Array<[number, number]>, dtMin: number): number {
  let w = 0,
    wt = 0
  for (const [target, tau] of targets) {
    w += 1 / tau
    wt += target / tau
  }
  const eq = wt / w
  return eq + (x - eq) * Math.exp(-dtMin * w)
}

function thermostat(m: ReeferModel, s: ThermalState, legMin: number): ThermalState['unit'] {
  if (m.failAtMin !== undefined && legMin >= m.failAtMin) return 'off'
  const half = m.hysteresisC / 2
  const a = s.airC
  if (s.unit === 'cool') return a <= m.setpointC - half ? 'off' : 'cool'
  if (s.unit === 'heat') return a >= m.setpointC ? 'off' : 'heat'
  if (a >= m.setpointC + half) return 'cool'
  // Heat cuts in a degree below the cooling dead band so the two never fight.
  if (m.heating && a <= m.setpointC - half - 1) return 'heat'
  return 'off'
}

/** Advances the state by `dtMin` minutes. Pure: returns a new state. */
export function stepThermal(model: ThermalModel, s: ThermalState, input: StepInput, rng: Rng): ThermalState {
  const { dtMin, ambientC } = input
  const next: ThermalState = { ...s }
  const targets: Array<[number, number]> = []
  if (model.model === 'reefer') {
    next.unit = thermostat(model, s, input.legMin)
    targets.push([ambientC, model.leakTauMin])
    if (next.unit === 'cool') targets.push([model.setpointC - model.supplyOffsetC, model.unitTauMin])
    if (next.unit === 'heat') targets.push([model.setpointC + model.supplyOffsetC, model.unitTauMin])
    if (
      s.doorOpenLeftMin <= 0 &&
      model.doorOpeningsPerDay > 0 &&
      rng.next() < (model.doorOpeningsPerDay / 1440) * dtMin
    ) {
      next.doorOpenLeftMin = model.doorOpenMin
      next.doorOpenings = s.doorOpenings + 1
    }
    if (next.doorOpenLeftMin > 0) {
      targets.push([ambientC, model.doorTauMin])
      next.doorOpenLeftMin = Math.max(0, next.doorOpenLeftMin - dtMin)
    }
  } else if (model.model === 'passive') {
    next.unit = 'off'
    targets.push([ambientC, model.insulationTauMin])
  } else {
    next.unit = 'off'
    targets.push([ambientC, model.leakTauMin])
    if (s.iceKg > 0) {
      targets.push([DRY_ICE_C, model.iceTauMin])
      // Heat leaking in through the walls sublimates the ice: Q = UA·ΔT.
      const joules = model.uaWPerK * Math.max(0, ambientC - s.airC) * dtMin * 60
      next.iceKg = Math.max(0, s.iceKg - joules / DRY_ICE_LATENT_J_PER_KG)
    }
  }
  next.airC = relax(s.airC, targets, dtMin)
  next.productC = relax(s.productC, [[next.airC, input.productTauMin]], dtMin)
  return next
}
