/**
 * The broker's options with their defaults filled in, checked once at
 * construction so a bad setting fails at start-up, not at the first client.
 */
import type { Logger } from 'pino'
import { pino } from 'pino'
import type { BrokerOptions, BrokerTlsOptions } from './broker.ts'
import type { RateLimitOptions } from './rate-limit.ts'
import { TokenBucket } from './rate-limit.ts'
import type { DeviceRegistry } from './registry.ts'
import type { ServiceAccount } from './service-accounts.ts'
import { parsePasswordHash } from './service-accounts.ts'

export interface BrokerSettings {
  registry: DeviceRegistry
  serviceAccounts: Readonly<Record<string, ServiceAccount>>
  host: string
  tls: BrokerTlsOptions | undefined
  port: number
  audience: string
  maxPayloadBytes: number
  maxPacketBytes: number
  maxConnections: number
  rateLimit: RateLimitOptions | false
  keepalive: { min: number; max: number }
  tokenSkewMs: number
  replayCacheMax: number
  maxQueuedMessages: number
  drainTimeoutMs: number
  connectTimeoutMs: number
  maxIdleSockets: number
  maxIdleSocketsPerAddress: number
  logger: Logger
  clock: () => number
}

/** Fills in the defaults (documented on BrokerOptions) and throws a TypeError or RangeError naming a bad option. */
export function brokerSettings(opts: BrokerOptions): BrokerSettings {
  const {
    registry,
    serviceAccounts = {},
    host = '127.0.0.1',
    tls,
    port = tls ? 8883 : 1883,
    audience = 'coldproof',
    maxPayloadBytes = 4096,
    maxConnections = 10_000,
    rateLimit = { perSecond: 50, burst: 500, maxDelayMs: 10_000 },
    keepalive = { min: 1, max: 1200 },
    tokenSkewMs = 120_000,
    replayCacheMax = 100_000,
    maxQueuedMessages = 100_000,
    drainTimeoutMs = 10_000,
    connectTimeoutMs = 5000,
    maxIdleSockets = 1000,
    maxIdleSocketsPerAddress = 64,
    logger = pino({ name: 'broker' }),
    clock = Date.now,
  } = opts
  const maxPacketBytes = opts.maxPacketBytes ?? maxPayloadBytes + 1024
  if (!registry || typeof registry.lookupDevice !== 'function')
    throw new TypeError('"registry" expected an object with lookupDevice(deviceId)')
  for (const [name, acct] of Object.entries(serviceAccounts)) {
    parsePasswordHash(acct.passwordHash) // a bad hash fails at start-up, not at the first login
    if (acct.role !== 'ingest' && acct.role !== 'observer')
      throw new TypeError(
        `service account "${name}": role must be 'ingest' or 'observer', got ${JSON.stringify(acct.role)}`,
      )
  }
  if (rateLimit) new TokenBucket(rateLimit, 0) // validates the options
  if (!(maxPayloadBytes > 0) || !(maxPacketBytes >= maxPayloadBytes))
    throw new RangeError(`need 0 < maxPayloadBytes <= maxPacketBytes, got ${maxPayloadBytes}, ${maxPacketBytes}`)
  if (
    !(Number.isInteger(maxIdleSockets) && maxIdleSockets >= 1) ||
    !(Number.isInteger(maxIdleSocketsPerAddress) && maxIdleSocketsPerAddress >= 1)
  ) {
    throw new RangeError(
      `maxIdleSockets and maxIdleSocketsPerAddress expected positive integers, got ${maxIdleSockets}, ${maxIdleSocketsPerAddress}`,
    )
  }
  if (!(connectTimeoutMs > 0))
    throw new RangeError(`connectTimeoutMs expected a positive number of ms, got ${connectTimeoutMs}`)
  return {
    registry,
    serviceAccounts,
    host,
    tls,
    port,
    audience,
    maxPayloadBytes,
    maxPacketBytes,
    maxConnections,
    rateLimit,
    keepalive,
    tokenSkewMs,
    replayCacheMax,
    maxQueuedMessages,
    drainTimeoutMs,
    connectTimeoutMs,
    maxIdleSockets,
    maxIdleSocketsPerAddress,
    logger,
    clock,
  }
}
