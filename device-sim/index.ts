/**
 * device-sim: the simulated sensor firmware. Public surface used by the
 * start-up code and the `coldproof sim` command. Imports nothing of the
 * project but ledger/protocol (ARCHITECTURE.md, "Data flow").
 */
import { createFleet, type FleetOptions } from './fleet.ts'
import { loadScenario, type Scenario } from './scenario/index.ts'
import type { ProvisioningRecord } from './device.ts'

export { createFleet, type Fleet, type FleetOptions, type FleetMqttOptions, type Timers } from './fleet.ts'
export {
  createDevice,
  type Device,
  type DeviceOptions,
  type DeviceStatus,
  type ProvisioningRecord,
  type Logger,
  LOW_BATTERY_PCT,
  SENSOR_FAULT_CENTI_C,
  DEFAULT_RECEIPT_TIMEOUT_MS,
  RECEIPT_TIMEOUT_MAX_FACTOR,
} from './device.ts'
export {
  loadScenario,
  parseScenario,
  builtInScenarioPath,
  SCENARIO_DIR,
  STORAGE_CLASSES,
  shipmentDurationMin,
  type Scenario,
  type Shipment,
  type DeviceSpec,
  type Leg,
  type StorageClass,
} from './scenario/index.ts'
export { createShipmentSim, ambientAt, type ShipmentSim, type ShipmentSnapshot } from './shipment-sim.ts'
export { stepThermal, type ThermalModel, type ThermalState } from './thermal.ts'
export {
  createMqttLink,
  DEFAULT_AUDIENCE,
  DEFAULT_RECONNECT_MIN_MS,
  DEFAULT_RECONNECT_MAX_MS,
  reconnectDelayMs,
  type MqttLinkOptions,
} from './mqtt-link.ts'
export { createMemoryLink, type MemoryLink } from './memory-link.ts'
export type { DeviceLink, LinkHandlers } from './link.ts'
export {
  loadOrCreateIdentity,
  createKeyFile,
  readKeyFile,
  memoryIdentity,
  KEY_FILE,
  type Identity,
} from './identity.ts'
export { deviceAuthToken, signRecord } from './signer.ts'
export { createRng, deriveSeed, type Rng } from './rng.ts'
export { SimError, ScenarioError, SIM_ERROR_CODES, type SimErrorCode } from './errors.ts'

/** The `npm start` demo scenario: thirteen shipments over every storage class (device-sim/scenarios/demo-fleet.json). */
export function demoFleet(): Scenario {
  return loadScenario('demo-fleet')
}

/** Provisioning records of a scenario's devices, creating their keys in `dataDir` if needed (for registration in the ledger before the fleet starts). */
export function provisioningRecords(
  opts: Pick<FleetOptions, 'scenario' | 'dataDir' | 'startMs' | 'seed' | 'identity'>,
): ProvisioningRecord[] {
  return createFleet({ ...opts, log: () => {} }).provisioningRecords()
}
