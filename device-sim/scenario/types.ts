/** What a scenario file describes, once validated (parse.ts builds it), and the defaults of what it may leave out. */
import type { ThermalModel } from '../thermal.ts'

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

/** Total planned duration of a shipment, minutes. */
export const shipmentDurationMin = (s: Shipment): number => s.legs.reduce((n, l) => n + l.durationMin, 0)
