/** A logger of a shipment: probe, sensor error, battery, buffer, its own faults and calibration. */
import { DEVICE_ID_PATTERN } from '../../ledger/protocol/index.ts'
import { ScenarioError } from '../errors.ts'
import { faults } from './faults.ts'
import { between, int, obj, show, str, time } from './fields.ts'
import { DEFAULT_DEVICE_MODEL, type CalibrationSpec, type DeviceSpec, type Faults } from './types.ts'

function calibration(v: unknown, path: string): CalibrationSpec | undefined {
  if (v === undefined) return undefined
  const o = obj(v, path, ['certificate', 'calibratedAt', 'dueAt'])
  const c = {
    certificate: str(o.certificate, `${path}.certificate`),
    calibratedAt: time(o.calibratedAt, `${path}.calibratedAt`),
    dueAt: time(o.dueAt, `${path}.dueAt`),
  }
  if (c.dueAt <= c.calibratedAt) throw new ScenarioError(`${path}.dueAt`, 'must be after calibratedAt')
  return c
}

const DEVICE_FIELDS = [
  'deviceId',
  'model',
  'probe',
  'offsetC',
  'noiseC',
  'batteryPct',
  'bufferCapacity',
  'faults',
  'calibration',
] as const

export function device(v: unknown, path: string, shipmentFaults: Faults, bufferCapacity: number): DeviceSpec {
  const o = obj(v, path, DEVICE_FIELDS)
  const deviceId = str(o.deviceId, `${path}.deviceId`)
  if (!DEVICE_ID_PATTERN.test(deviceId))
    throw new ScenarioError(
      `${path}.deviceId`,
      `must be 1..32 characters of [a-z0-9-] starting with a letter or digit, got ${show(deviceId)}`,
    )
  const probe = o.probe ?? 'product'
  if (probe !== 'product' && probe !== 'air')
    throw new ScenarioError(`${path}.probe`, `must be "product" or "air", got ${show(probe)}`)
  const d: DeviceSpec = {
    deviceId,
    model: str(o.model, `${path}.model`, DEFAULT_DEVICE_MODEL),
    probe,
    offsetC: between(o.offsetC, `${path}.offsetC`, -2, 2, 0),
    noiseC: between(o.noiseC, `${path}.noiseC`, 0, 2, 0.05),
    batteryPct: between(o.batteryPct, `${path}.batteryPct`, 0, 100, 100),
    bufferCapacity: int(o.bufferCapacity, `${path}.bufferCapacity`, 1, 1_000_000, bufferCapacity),
    faults: faults(o.faults, `${path}.faults`, shipmentFaults),
  }
  const cal = calibration(o.calibration, `${path}.calibration`)
  if (cal) d.calibration = cal
  return d
}
