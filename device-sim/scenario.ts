/**
 * Scenario files: JSON describing shipments, their loggers, the legs of the
 * journey with their ambient conditions and thermal model, and injected
 * faults. Validated field by field; the first error names the field's path
 * (`shipments[0].legs[2].durationMin must be a positive number, got -5`).
 * Times inside a shipment are minutes since the shipment's start.
 */
import { readFileSync, existsSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { DEVICE_ID_PATTERN } from '../ledger/protocol/index.ts'
import { ScenarioError, SimError } from './errors.ts'
import type { ThermalModel } from './thermal.ts'

/** Label storage classes (docs/COMPLIANCE.md). */
export const STORAGE_CLASSES = ['2-8', '15-25', 'max25', 'max30', 'frozen-15', 'frozen-20', 'ultra-cold'] as const
export type StorageClass = (typeof STORAGE_CLASSES)[number]

export interface Ambient {
  /** Mean ambient temperature, °C (the start value of a ramp). */
  meanC: number
  /** Half the day–night swing, °C. */
  amplitudeC: number
  /** Hour of the day (UTC) of the warmest point. */
  peakHourUtc: number
  /** When set, the mean ramps linearly from meanC to toC over the leg. */
  toC?: number
}

export interface Leg {
  name: string
  durationMin: number
  ambient: Ambient
  thermal: ThermalModel
  /** Dry ice loaded at the start of this leg, kg. */
  addIceKg: number
}

export interface Window {
  fromMin: number
  toMin: number
}
export interface ClockJump {
  atMin: number
  offsetMin: number
}

export interface Faults {
  sensorFault: Window[]
  connectivityLoss: Window[]
  clockJump: ClockJump[]
  batteryDrainPctPerDay: number
  clockDriftPpm: number
}

export interface CalibrationSpec {
  certificate: string
  calibratedAt: number
  dueAt: number
}

export interface DeviceSpec {
  deviceId: string
  model: string
  /** What the probe touches: the product (slow) or the container air (fast). */
  probe: 'product' | 'air'
  /** Fixed sensor bias, °C (within calibration tolerance). */
  offsetC: number
  /** Sensor noise standard deviation, °C. */
  noiseC: number
  batteryPct: number
  bufferCapacity: number
  faults: Faults
  calibration?: CalibrationSpec
}

export interface Shipment {
  shipmentId: string
  product: string
  storageClass: StorageClass
  route: { from: string; to: string }
  samplingIntervalMin: number
  initialC: number
  productTauMin: number
  devices: DeviceSpec[]
  legs: Leg[]
}

export interface Scenario {
  name: string
  description: string
  seed: number
  /** ms UTC of the shipments' start; undefined = chosen at run time. */
  startAt?: number
  acceleration: number
  shipments: Shipment[]
}

export const DEFAULT_SAMPLING_INTERVAL_MIN = 5
export const DEFAULT_ACCELERATION = 720
export const DEFAULT_BUFFER_CAPACITY = 2000
export const DEFAULT_DEVICE_MODEL = 'coldproof-sim-t1'

type Obj = Record<string, unknown>

const show = (v: unknown): string => (v === undefined ? 'nothing' : (JSON.stringify(v)?.slice(0, 60) ?? String(v)))

function obj(v: unknown, path: string, known: readonly string[]): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new ScenarioError(path, `must be an object, got ${show(v)}`)
  for (const k of Object.keys(v)) {
    if (!known.includes(k))
      throw new ScenarioError(path ? `${path}.${k}` : k, `is not a known field (known: ${known.join(', ')})`)
  }
  return v as Obj
}
function arr(v: unknown, path: string, minLength = 0): unknown[] {
  if (!Array.isArray(v)) throw new ScenarioError(path, `must be an array, got ${show(v)}`)
  if (v.length < minLength) throw new ScenarioError(path, `must have at least ${minLength} item(s), got ${v.length}`)
  return v
}
function num(v: unknown, path: string, check: 'any' | 'positive' | 'nonneg' = 'any', dflt?: number): number {
  if (v === undefined && dflt !== undefined) return dflt
  const ok = typeof v === 'number' && Number.isFinite(v) && (check === 'any' || (check === 'positive' ? v > 0 : v >= 0))
  if (!ok)
    throw new ScenarioError(
      path,
      `must be a ${check === 'positive' ? 'positive ' : check === 'nonneg' ? 'non-negative ' : ''}number, got ${show(v)}`,
    )
  return v as number
}
function between(v: unknown, path: string, min: number, max: number, dflt?: number): number {
  const n = num(v, path, 'any', dflt)
  if (n < min || n > max) throw new ScenarioError(path, `must be between ${min} and ${max}, got ${n}`)
  return n
}
function int(v: unknown, path: string, min: number, max: number, dflt?: number): number {
  const n = between(v, path, min, max, dflt)
  if (!Number.isInteger(n)) throw new ScenarioError(path, `must be an integer, got ${n}`)
  return n
}
function str(v: unknown, path: string, dflt?: string): string {
  if (v === undefined && dflt !== undefined) return dflt
  if (typeof v !== 'string' || v.length === 0)
    throw new ScenarioError(path, `must be a non-empty string, got ${show(v)}`)
  return v
}
function bool(v: unknown, path: string, dflt: boolean): boolean {
  if (v === undefined) return dflt
  if (typeof v !== 'boolean') throw new ScenarioError(path, `must be true or false, got ${show(v)}`)
  return v
}
function time(v: unknown, path: string): number {
  const s = str(v, path)
  const ms = Date.parse(s)
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(s) || Number.isNaN(ms)) {
    throw new ScenarioError(path, `must be an ISO-8601 UTC time such as "2026-11-20T06:00:00Z", got ${show(v)}`)
  }
  return ms
}

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

function faults(v: unknown, path: string, base?: Faults): Faults {
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

const LEG_FIELDS = [
  'name',
  'durationMin',
  'ambient',
  'model',
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
  'insulationTauMin',
  'uaWPerK',
  'iceTauMin',
  'iceKg',
] as const
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

function leg(v: unknown, path: string, index: number): Leg {
  const o = obj(v, path, LEG_FIELDS)
  const durationMin = num(o.durationMin, `${path}.durationMin`, 'positive')
  const model = o.model
  if (model !== 'reefer' && model !== 'passive' && model !== 'dry-ice') {
    throw new ScenarioError(`${path}.model`, `must be one of "reefer", "passive", "dry-ice", got ${show(model)}`)
  }
  for (const k of Object.keys(o)) {
    if (!['name', 'durationMin', 'ambient', 'model'].includes(k) && !MODEL_FIELDS[model].includes(k)) {
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

function device(v: unknown, path: string, shipmentFaults: Faults, bufferCapacity: number): DeviceSpec {
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

const SHIPMENT_FIELDS = [
  'shipmentId',
  'product',
  'storageClass',
  'route',
  'samplingIntervalMin',
  'initialC',
  'productTauMin',
  'bufferCapacity',
  'devices',
  'legs',
  'faults',
] as const

function shipment(v: unknown, path: string, dflt: { samplingIntervalMin: number; bufferCapacity: number }): Shipment {
  const o = obj(v, path, SHIPMENT_FIELDS)
  const storageClass = o.storageClass
  if (typeof storageClass !== 'string' || !(STORAGE_CLASSES as readonly string[]).includes(storageClass)) {
    throw new ScenarioError(
      `${path}.storageClass`,
      `must be one of ${STORAGE_CLASSES.map((s) => `"${s}"`).join(', ')}, got ${show(storageClass)}`,
    )
  }
  const legs = arr(o.legs, `${path}.legs`, 1).map((l, i) => leg(l, `${path}.legs[${i}]`, i))
  const route =
    o.route === undefined
      ? { from: 'origin', to: 'destination' }
      : (() => {
          const r = obj(o.route, `${path}.route`, ['from', 'to'])
          return { from: str(r.from, `${path}.route.from`), to: str(r.to, `${path}.route.to`) }
        })()
  const bufferCapacity = int(o.bufferCapacity, `${path}.bufferCapacity`, 1, 1_000_000, dflt.bufferCapacity)
  const shipmentFaults = faults(o.faults, `${path}.faults`)
  const first = legs[0].thermal
  const defaultInitial =
    first.model === 'reefer' ? first.setpointC : first.model === 'dry-ice' ? -75 : legs[0].ambient.meanC
  return {
    shipmentId: str(o.shipmentId, `${path}.shipmentId`),
    product: str(o.product, `${path}.product`),
    storageClass: storageClass as StorageClass,
    route,
    samplingIntervalMin: between(
      o.samplingIntervalMin,
      `${path}.samplingIntervalMin`,
      1 / 60,
      1440,
      dflt.samplingIntervalMin,
    ),
    initialC: between(o.initialC, `${path}.initialC`, -100, 70, defaultInitial),
    productTauMin: between(o.productTauMin, `${path}.productTauMin`, 1, 100000, 60),
    devices: arr(o.devices, `${path}.devices`, 1).map((d, i) =>
      device(d, `${path}.devices[${i}]`, shipmentFaults, bufferCapacity),
    ),
    legs,
  }
}

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

export const SCENARIO_DIR = join(dirname(fileURLToPath(import.meta.url)), 'scenarios')

/** Names of the built-in scenarios (device-sim/scenarios/*.json). */
export function builtInScenarioPath(name: string): string {
  return join(SCENARIO_DIR, `${name}.json`)
}

/** Loads a scenario from a file path, or a built-in one by name (`reefer-2-8`). */
export function loadScenario(pathOrName: string): Scenario {
  const candidates = [resolve(pathOrName)]
  if (/^[a-z0-9-]+$/.test(pathOrName)) candidates.push(builtInScenarioPath(pathOrName))
  const path = candidates.find((p) => existsSync(p))
  if (!path)
    throw new SimError(
      'ERR_SCENARIO_NOT_FOUND',
      `no scenario file ${JSON.stringify(pathOrName)} (looked at ${candidates.join(', ')})`,
      { candidates },
    )
  let json: unknown
  try {
    json = JSON.parse(readFileSync(path, 'utf8'))
  } catch (e) {
    throw new ScenarioError('', `${path} is not valid JSON: ${(e as Error).message}`, { file: path })
  }
  try {
    return parseScenario(json)
  } catch (e) {
    if (e instanceof ScenarioError)
      throw new ScenarioError(e.path, `${e.message.slice(e.path ? e.path.length + 1 : 0)} (in ${path})`, { file: path })
    throw e
  }
}

/** Total planned duration of a shipment, minutes. */
export const shipmentDurationMin = (s: Shipment): number => s.legs.reduce((n, l) => n + l.durationMin, 0)
