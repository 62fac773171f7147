/** A leg of the journey: its ambient conditions and the thermal model of its container. */
import { ScenarioError } from '../errors.ts'
import type { ThermalModel } from '../thermal.ts'
import { between, bool, num, obj, show, str } from './fields.ts'
import type { Ambient, Leg } from './types.ts'

function ambient(v: unknown, path: string): Ambient {
  const o = obj(v, path, ['meanC', 'amplitudeC', 'peakHourUtc', 'toC'])
  const a: Ambient = {
    meanC: between(o.meanC, `${path}.meanC`, -60, 70),
    amplitudeC: between(o.amplitudeC, `${path}.amplitudeC`, 0, 30, 0),
    peakHourUtc: between(o.peakHourUtc, `${path}.peakHourUtc`, 0, 24, 14),
  }
  if (o.toC !== undefined) a.toC = between(o.toC, `${path}.toC`, -60, 70)
  return a
}

/** The fields every leg has; the others depend on its thermal model. */
const LEG_COMMON_FIELDS = ['name', 'durationMin', 'ambient', 'model']
const MODEL_FIELDS: Record<ThermalModel['model'], readonly string[]> = {
  reefer: [
    'setpointC',
    'hysteresisC',
    'heating',
    'supplyOffsetC',
    'unitTauMin',
    'leakTauMin',
    'doorOpeningsPerDay',
    'doorOpenMin',
    'doorTauMin',
    'failAtMin',
  ],
  passive: ['insulationTauMin'],
  'dry-ice': ['uaWPerK', 'leakTauMin', 'iceTauMin', 'iceKg'],
}
const LEG_FIELDS = [...LEG_COMMON_FIELDS, ...new Set(Object.values(MODEL_FIELDS).flat())]

export function leg(v: unknown, path: string, index: number): Leg {
  const o = obj(v, path, LEG_FIELDS)
  const durationMin = num(o.durationMin, `${path}.durationMin`, 'positive')
  const model = o.model
  if (model !== 'reefer' && model !== 'passive' && model !== 'dry-ice') {
    throw new ScenarioError(`${path}.model`, `must be one of "reefer", "passive", "dry-ice", got ${show(model)}`)
  }
  for (const k of Object.keys(o)) {
    if (!LEG_COMMON_FIELDS.includes(k) && !MODEL_FIELDS[model].includes(k)) {
      throw new ScenarioError(
        `${path}.${k}`,
        `does not apply to model "${model}" (its fields: ${MODEL_FIELDS[model].join(', ')})`,
      )
    }
  }
  let thermal: ThermalModel
  if (model === 'reefer') {
    thermal = {
      model,
      setpointC: between(o.setpointC, `${path}.setpointC`, -40, 40),
      hysteresisC: between(o.hysteresisC, `${path}.hysteresisC`, 0.1, 10, 2),
      heating: bool(o.heating, `${path}.heating`, false),
      supplyOffsetC: between(o.supplyOffsetC, `${path}.supplyOffsetC`, 0.5, 30, 6),
      unitTauMin: between(o.unitTauMin, `${path}.unitTauMin`, 1, 600, 15),
      leakTauMin: between(o.leakTauMin, `${path}.leakTauMin`, 10, 100000, 240),
      doorOpeningsPerDay: between(o.doorOpeningsPerDay, `${path}.doorOpeningsPerDay`, 0, 200, 0),
      doorOpenMin: between(o.doorOpenMin, `${path}.doorOpenMin`, 0.5, 120, 3),
      doorTauMin: between(o.doorTauMin, `${path}.doorTauMin`, 0.5, 600, 4),
    }
    if (o.failAtMin !== undefined) thermal.failAtMin = num(o.failAtMin, `${path}.failAtMin`, 'nonneg')
  } else if (model === 'passive') {
    thermal = { model, insulationTauMin: between(o.insulationTauMin, `${path}.insulationTauMin`, 1, 100000, 180) }
  } else {
    thermal = {
      model,
      uaWPerK: between(o.uaWPerK, `${path}.uaWPerK`, 0.01, 50, 0.4),
      leakTauMin: between(o.leakTauMin, `${path}.leakTauMin`, 10, 100000, 600),
      iceTauMin: between(o.iceTauMin, `${path}.iceTauMin`, 1, 600, 20),
    }
  }
  return {
    name: str(o.name, `${path}.name`, `leg ${index + 1}`),
    durationMin,
    ambient: ambient(o.ambient, `${path}.ambient`),
    thermal,
    addIceKg: model === 'dry-ice' ? between(o.iceKg, `${path}.iceKg`, 0, 500, 0) : 0,
  }
}
