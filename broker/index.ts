/**
 * The embedded MQTT broker: public surface for the start-up code.
 * See docs/OPERATIONS.md for options and for running an external broker.
 */
export { createBroker } from './broker.ts'
export type { Broker, BrokerOptions, BrokerMetrics, BrokerTlsOptions } from './broker.ts'
export { createMemoryRegistry } from './registry.ts'
export type { DeviceRegistry, DeviceRecord, MemoryDeviceRegistry } from './registry.ts'
export {
  hashServicePassword,
  verifyServicePassword,
  DEFAULT_SCRYPT_COST,
  PasswordHashError,
} from './service-accounts.ts'
export type { ServiceAccount, ServiceRole, ScryptCost } from './service-accounts.ts'
export { REFUSAL_REASONS, CONNACK_CODE } from './refusals.ts'
export type { RefusalReason } from './refusals.ts'
export type { RateLimitOptions } from './rate-limit.ts'
export { mayPublish, maySubscribe } from './acl.ts'
export type { Identity } from './acl.ts'
