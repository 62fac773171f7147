/** Injected faults (sensor fault and connectivity windows, clock jumps and drift, battery drain), per shipment and per device. */
import { ScenarioError } from '../errors.ts'
import { arr, between, num, obj } from './fields.ts'
import type { Faults, Window } from './types.ts'

function windows(v: unknown, path: string): Window[] {
  if (v === undefined) return []
  return arr(v, path).map((w, i) => {
    const p = `${path}[${i}]`
    const o = obj(w, p, ['fromMin', 'toMin'])
    const fromMin = num(o.fromMin, `${p}.fromMin`, 'nonneg')
    const toMin = num(o.toMin, `${p}.toMin`, 'nonneg')
    if (toMin <= fromMin)
      throw new ScenarioError(`${p}.toMin`, `must be greater than fromMin (${fromMin}), got ${toMin}`)
    return { fromMin, toMin }
  })
}

const FAULT_FIELDS = ['sensorFault', 'connectivityLoss', 'clockJump', 'batteryDrainPctPerDay', 'clockDriftPpm'] as const

export function faults(v: unknown, path: string, base?: Faults): Faults {
  const o = v === undefined ? {} : obj(v, path, FAULT_FIELDS)
  const own: Faults = {
    sensorFault: windows(o.sensorFault, `${path}.sensorFault`),
    connectivityLoss: windows(o.connectivityLoss, `${path}.connectivityLoss`),
    clockJump:
      o.clockJump === undefined
        ? []
        : arr(o.clockJump, `${path}.clockJump`).map((j, i) => {
            const p = `${path}.clockJump[${i}]`
            const jo = obj(j, p, ['atMin', 'offsetMin'])
            const offsetMin = num(jo.offsetMin, `${p}.offsetMin`)
            if (offsetMin === 0) throw new ScenarioError(`${p}.offsetMin`, 'must not be 0')
            return { atMin: num(jo.atMin, `${p}.atMin`, 'nonneg'), offsetMin }
          }),
    batteryDrainPctPerDay: between(
      o.batteryDrainPctPerDay,
      `${path}.batteryDrainPctPerDay`,
      0,
      100,
      base?.batteryDrainPctPerDay ?? 0.5,
    ),
    // ±1000 ppm is far beyond any real crystal (±20–50 ppm), enough for fault tests.
    clockDriftPpm: between(o.clockDriftPpm, `${path}.clockDriftPpm`, -1000, 1000, base?.clockDriftPpm ?? 0),
  }
  if (!base) return own
  return {
    ...own,
    sensorFault: [...base.sensorFault, ...own.sensorFault],
    connectivityLoss: [...base.connectivityLoss, ...own.connectivityLoss],
    clockJump: [...base.clockJump, ...own.clockJump],
  }
}
