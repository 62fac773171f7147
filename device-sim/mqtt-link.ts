/**
 * The device's MQTT connection (docs/PROTOCOL.md, "Topics" and "Device
 * authentication"): client id = username = device id, password = a fresh
 * signed auth token on every (re)connect (the broker refuses a reused nonce).
 * A broker without authentication ignores the password.
 *
 * Readings are published QoS 1 only while connected; while offline the
 * device's own persisted buffer holds them and the connect handler resends
 * them, so mqtt.js's in-memory queue is never relied on for delivery.
 */
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt'
import { deviceTopic } from '../ledger/protocol/index.ts'
import type { Identity } from './identity.ts'
import type { DeviceLink, LinkHandlers } from './link.ts'
import { deviceAuthToken } from './signer.ts'

export const DEFAULT_AUDIENCE = 'coldproof'

export interface MqttLinkOptions {
  url: string
  identity: Identity
  /** Broker name the auth token is bound to. */
  audience?: string
  /** Extra mqtt.js options (reconnectPeriod, keepalive, …). */
  mqttOptions?: Partial<IClientOptions>
  /** Called with connection errors (bad credentials, refused socket). */
  onError?: (err: Error) => void
}

export interface MqttLink extends DeviceLink {
  /** The underlying client while open (for diagnostics). */
  readonly client: MqttClient | undefined
}

export function createMqttLink(opts: MqttLinkOptions): MqttLink {
  const { deviceId, secretKey } = opts.identity
  const audience = opts.audience ?? DEFAULT_AUDIENCE
  const topics = {
    readings: deviceTopic(deviceId, 'readings'),
    receipt: deviceTopic(deviceId, 'receipt'),
    resend: deviceTopic(deviceId, 'resend'),
  }
  let client: MqttClient | undefined
  let handlers: LinkHandlers | undefined
  let connected = false

  return {
    get connected() { return connected },
    get client() { return client },
    open(h) {
      handlers = h
      if (client) return
      const c = mqtt.connect(opts.url, {
        clientId: deviceId,
        username: deviceId,
        password: deviceAuthToken(deviceId, secretKey, audience),
        clean: true,
        protocolVersion: 4,
        reconnectPeriod: 1000,
        connectTimeout: 10_000,
        // A logger keeps trying after a refused CONNACK (not yet registered, clock
        // skew, broker full): mqtt.js 5 otherwise stops reconnecting for good.
        reconnectOnConnackError: true,
        ...opts.mqttOptions,
      })
      client = c
      // Each connect attempt needs a new token: mqtt.js sends options.password as is.
      c.on('reconnect', () => { c.options.password = deviceAuthToken(deviceId, secretKey, audience) })
      c.on('connect', () => {
        c.subscribe([topics.receipt, topics.resend], { qos: 1 }, (err) => {
          if (err) { opts.onError?.(err); return }
          if (client !== c) return
          connected = true
          handlers?.onConnect()
        })
      })
      c.on('close', () => { connected = false })
      c.on('error', (err) => opts.onError?.(err))
      c.on('message', (topic, payload) => {
        const bytes = new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength)
        if (topic === topics.receipt) handlers?.onReceipt(bytes)
        else if (topic === topics.resend) handlers?.onResend(bytes)
      })
    },
    publish(payload) {
      if (!client || !connected) return
      client.publish(topics.readings, Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength), { qos: 1 }, (err) => {
        // Not fatal: the reading stays buffered until receipted and goes out again on reconnect.
        if (err && !/disconnecting|client disconnecting|Connection closed/i.test(err.message)) opts.onError?.(err)
      })
    },
    async close() {
      const c = client
      client = undefined
      connected = false
      if (!c) return
      // Offline, end(false) would wait forever for PUBACKs of in-flight publishes;
      // those readings are in the device's own buffer, so force the end then.
      await new Promise<void>((resolve) => c.end(!c.connected, {}, () => resolve()))
    },
  }
}
