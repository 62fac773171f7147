/**
 * Scenario files: JSON describing shipments, their loggers, the legs of the
 * journey with their ambient conditions and thermal model, and injected
 * faults. Times inside a shipment are minutes since the shipment's start.
 * types.ts is what a scenario is; parse.ts validates one (with shipments.ts,
 * devices.ts, legs.ts, faults.ts and the field checks of fields.ts); load.ts
 * reads one from a file or a built-in name.
 */
export { builtInScenarioPath, loadScenario, SCENARIO_DIR } from './load.ts'
export { parseScenario } from './parse.ts'
export {
  DEFAULT_ACCELERATION,
  DEFAULT_BUFFER_CAPACITY,
  DEFAULT_DEVICE_MODEL,
  DEFAULT_SAMPLING_INTERVAL_MIN,
  shipmentDurationMin,
  STORAGE_CLASSES,
  type Ambient,
  type CalibrationSpec,
  type ClockJump,
  type DeviceSpec,
  type Faults,
  type Leg,
  type Scenario,
  type Shipment,
  type StorageClass,
  type Window,
} from './types.ts'
