/**
 * A scenario file's JSON, validated field by field; the first error names the
 * field's path (`shipments[0].legs[2].durationMin must be a positive number, got -5`).
 */
import { ScenarioError } from '../errors.ts'
import { arr, between, int, num, obj, show, str, time } from './fields.ts'
import { shipment } from './shipments.ts'
import { DEFAULT_ACCELERATION, DEFAULT_BUFFER_CAPACITY, DEFAULT_SAMPLING_INTERVAL_MIN, type Scenario } from './types.ts'

/** Validates parsed JSON; throws ScenarioError (ERR_SCENARIO_INVALID) naming the first bad field. */
export function parseScenario(json: unknown): Scenario {
  const o = obj(json, '', [
    'name',
    'description',
    'seed',
    'startAt',
    'acceleration',
    'samplingIntervalMin',
    'bufferCapacity',
    'shipments',
  ])
  const samplingIntervalMin = between(
    o.samplingIntervalMin,
    'samplingIntervalMin',
    1 / 60,
    1440,
    DEFAULT_SAMPLING_INTERVAL_MIN,
  )
  const bufferCapacity = int(o.bufferCapacity, 'bufferCapacity', 1, 1_000_000, DEFAULT_BUFFER_CAPACITY)
  const s: Scenario = {
    name: str(o.name, 'name'),
    description: o.description === undefined ? '' : str(o.description, 'description'),
    seed: int(o.seed, 'seed', 0, 0xffffffff, 1),
    acceleration: num(o.acceleration, 'acceleration', 'positive', DEFAULT_ACCELERATION),
    shipments: arr(o.shipments, 'shipments', 1).map((x, i) =>
      shipment(x, `shipments[${i}]`, { samplingIntervalMin, bufferCapacity }),
    ),
  }
  if (o.startAt !== undefined) s.startAt = time(o.startAt, 'startAt')
  const seenShip = new Set<string>(),
    seenDev = new Set<string>()
  s.shipments.forEach((sh, i) => {
    if (seenShip.has(sh.shipmentId))
      throw new ScenarioError(`shipments[${i}].shipmentId`, `repeats ${show(sh.shipmentId)}`)
    seenShip.add(sh.shipmentId)
    sh.devices.forEach((d, j) => {
      if (seenDev.has(d.deviceId))
        throw new ScenarioError(
          `shipments[${i}].devices[${j}].deviceId`,
          `repeats ${show(d.deviceId)}; a device logs one shipment at a time`,
        )
      seenDev.add(d.deviceId)
    })
  })
  return s
}
