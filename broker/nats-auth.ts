/**
 * NATS users and permissions for the cluster mode (docs/SCALING.md, "Device
 * authentication on NATS"). nats-server cannot check ColdProof's signed login
 * token, so each device gets its own NATS user, limited to MQTT connections,
 * allowed to publish only its own readings subject (any partition digit) and to subscribe only to
 * its own receipt and resend subjects. Its password is derived from a cluster
 * secret (HMAC-SHA256 of the device id), so the file is regenerated from the
 * device registry alone and a device's password is never stored in clear on
 * the ledger side. Revoked devices get no user.
 */
import { createHmac } from 'node:crypto'
import { checkDeviceId, TOPIC_PREFIX } from '../ledger/protocol/index.ts'
import { deviceSubject } from '../ledger/cluster/index.ts'

export class NatsAuthError extends Error {
  readonly code = 'ERR_NATS_AUTH_INPUT'
}

/** The device's NATS/MQTT password: base64url(HMAC-SHA256(secret, "coldproof nats device v1" 0x00 deviceId)). */
export function deviceNatsPassword(secret: Uint8Array, deviceId: string): string {
  if (!(secret instanceof Uint8Array) || secret.length < 32)
    throw new NatsAuthError(
      `the cluster secret must be at least 32 bytes, got ${secret instanceof Uint8Array ? secret.length : typeof secret}`,
    )
  return createHmac('sha256', secret)
    .update(`coldproof nats device v1\0${checkDeviceId(deviceId)}`)
    .digest('base64url')
}

export interface NatsUser {
  user: string
  password: string
  allowed_connection_types?: string[]
  permissions: { publish: { allow: string[] }; subscribe: { allow: string[] } }
}

/**
 * A device's user. `$MQTT.sub.>` is where nats-server delivers a QoS 1 MQTT
 * subscription (an internal consumer created by the server on the device's
 * own filter); an MQTT client cannot name `$MQTT/...` topics itself, so it
 * reads nobody else's messages through it.
 */
export function deviceNatsUser(secret: Uint8Array, deviceId: string): NatsUser {
  return {
    user: deviceId,
    password: deviceNatsPassword(secret, deviceId),
    allowed_connection_types: ['MQTT'],
    permissions: {
      // Any partition digit: a wrong one reaches the ingest, which refuses it as ERR_TOPIC_INVALID, as on every broker.
      publish: { allow: [`${TOPIC_PREFIX.replaceAll('/', '.')}.*.${deviceId}.readings`] },
      subscribe: { allow: [deviceSubject(deviceId, 'receipt'), deviceSubject(deviceId, 'resend'), '$MQTT.sub.>'] },
    },
  }
}

/** The ingest's user: reads the readings streams (JetStream API), publishes receipts and resend requests. */
export function ingestNatsUser(user: string, password: string): NatsUser {
  if (!user || !password) throw new NatsAuthError("the ingest's NATS user and password must be non-empty")
  return {
    user,
    password,
    permissions: {
      publish: { allow: ['$JS.API.>', '$JS.ACK.>', 'coldproof.v1.*.*.receipt', 'coldproof.v1.*.*.resend', '_INBOX.>'] },
      subscribe: { allow: ['_INBOX.>', '$JS.>'] },
    },
  }
}

export interface NatsAuthInput {
  secret: Uint8Array
  devices: Iterable<{ deviceId: string; revoked: boolean }>
  ingest: { user: string; password: string }
}

/**
 * The body of nats-server's `authorization { ... }` block (JSON is valid
 * NATS configuration): one user per registered, unrevoked device, plus the
 * ingest. Reload nats-server (SIGHUP) after a registration or revocation.
 */
export function natsAuthorizationConf(input: NatsAuthInput): string {
  const users: NatsUser[] = [ingestNatsUser(input.ingest.user, input.ingest.password)]
  const seen = new Set<string>([input.ingest.user])
  for (const d of input.devices) {
    if (d.revoked) continue
    if (seen.has(d.deviceId))
      throw new NatsAuthError(`device id "${d.deviceId}" appears twice or collides with the ingest user`)
    seen.add(d.deviceId)
    users.push(deviceNatsUser(input.secret, d.deviceId))
  }
  return `users: ${JSON.stringify(users, null, 1)}\n`
}
