/**
 * The device's MQTT connection (docs/PROTOCOL.md, "Topics" and "Device
 * authentication"): client id = username = device id, password = a fresh
 * signed auth token on every (re)connect (the broker refuses a reused nonce).
 * A broker without authentication ignores the password.
 *
 * Readings are published QoS 1 only while connected; while offline the
 * device's own persisted buffer holds them and the connect handler resends
 * them, so mqtt.js's in-memory queue is never relied on for delivery.
 *
 * Reconnects are scheduled here, not by mqtt.js (its reconnectPeriod is a
 * fixed interval): every attempt that does not end in an accepted CONNACK
 * doubles the delay, from `reconnectMinMs` up to `reconnectMaxMs`, with
 * "equal jitter" (a uniformly random delay in [d/2, d]) so that a fleet
 * refused together does not come back together; an accepted connection resets
 * it. A revoked or unregistered logger thus settles at one attempt every few
 * minutes instead of one a second, and still gets in once it is registered.
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
  /**
   * A fixed password instead of the signed auth token (the cluster mode:
   * nats-server checks a per-device password, docs/SCALING.md). The readings
   * are signed the same either way.
   */
  password?: string
  /** Extra mqtt.js options (reconnectPeriod, keepalive, …). */
  mqttOptions?: Partial<IClientOptions>
  /** Called with connection errors (bad credentials, refused socket). */
  onError?: (err: Error) => void
  /** First reconnect delay, ms (default: mqttOptions.reconnectPeriod, else 1000; mqttOptions.reconnectPeriod 0 alone: never reconnect). */
  reconnectMinMs?: number
  /** Longest reconnect delay, ms (default 300000: 5 minutes). */
  reconnectMaxMs?: number
  /** Uniform random numbers in [0, 1) for the jitter (default Math.random). */
  random?: () => number
  /** Called each time a reconnect is scheduled: `failures` attempts in a row have failed (0 after a lost good connection). */
  onReconnectScheduled?: (failures: number, delayMs: number) => void
}

export const DEFAULT_RECONNECT_MIN_MS = 1000
/** How long close() waits for in-flight PUBACKs before forcing the connection shut. */
const CLOSE_GRACE_MS = 2000
export const DEFAULT_RECONNECT_MAX_MS = 300_000

/**
 * The delay before the next connect attempt after `failures` failed attempts
 * in a row: min(max, min·2^failures), then equal jitter (uniform in [d/2, d]).
 */
export function reconnectDelayMs(failures: number, minMs: number, maxMs: number, random: () => number): number {
  const d = Math.min(maxMs, minMs * 2 ** Math.min(failures, 40))
  return Math.round(d / 2 + random() * (d / 2))
}

export interface MqttLink extends DeviceLink {
  /** The underlying client while open (for diagnostics). */
  readonly client: MqttClient | undefined
}

export function createMqttLink(opts: MqttLinkOptions): MqttLink {
  const { deviceId, secretKey } = opts.identity
  const audience = opts.audience ?? DEFAULT_AUDIENCE
  const login = () => opts.password ?? deviceAuthToken(deviceId, secretKey, audience)
  const topics = {
    readings: deviceTopic(deviceId, 'readings'),
    receipt: deviceTopic(deviceId, 'receipt'),
    resend: deviceTopic(deviceId, 'resend'),
  }
  // mqttOptions.reconnectPeriod keeps its mqtt.js meaning: the first delay, and 0 = never reconnect.
  const noReconnect = opts.reconnectMinMs === undefined && opts.mqttOptions?.reconnectPeriod === 0
  const minMs = opts.reconnectMinMs ?? (opts.mqttOptions?.reconnectPeriod || DEFAULT_RECONNECT_MIN_MS)
  const maxMs = Math.max(minMs, opts.reconnectMaxMs ?? DEFAULT_RECONNECT_MAX_MS)
  const random = opts.random ?? Math.random
  let client: MqttClient | undefined
  let handlers: LinkHandlers | undefined
  let connected = false
  /** Connect attempts in a row that did not end in an accepted CONNACK. */
  let failures = 0
  let accepted = false
  let retryTimer: NodeJS.Timeout | undefined

  return {
    get connected() {
      return connected
    },
    get client() {
      return client
    },
    open(h) {
      handlers = h
      if (client) return
      const c = mqtt.connect(opts.url, {
        clientId: deviceId,
        username: deviceId,
        password: login(),
        clean: true,
        protocolVersion: 4,
        connectTimeout: 10_000,
        ...opts.mqttOptions,
        // The link schedules reconnects itself (backoff, see above); a logger keeps
        // trying after a refused CONNACK too (not yet registered, clock skew, broker full).
        reconnectPeriod: 0,
      })
      client = c
      failures = 0
      accepted = false
      // Each connect attempt needs a new token: mqtt.js sends options.password as is.
      c.on('reconnect', () => {
        c.options.password = login()
      })
      c.on('close', () => {
        connected = false
        if (client !== c || retryTimer || noReconnect) return
        if (accepted) failures = 0
        else failures++
        accepted = false
        const delay = reconnectDelayMs(Math.max(0, failures - 1), minMs, maxMs, random)
        opts.onReconnectScheduled?.(failures, delay)
        retryTimer = setTimeout(() => {
          retryTimer = undefined
          // Keep the stores: mqtt.js then re-sends the QoS 1 publishes still in flight
          // and their PUBACKs clear them (reconnect() without them would leave those
          // entries pending forever, and a graceful end() would wait for them).
          if (client === c) c.reconnect({ incomingStore: c.incomingStore, outgoingStore: c.outgoingStore })
        }, delay)
      })
      c.on('connect', () => {
        accepted = true
        c.subscribe([topics.receipt, topics.resend], { qos: 1 }, (err) => {
          if (err) {
            // A refused SUBSCRIBE of its own topics is transient (nats-server refuses it while its MQTT
            // streams elect a new leader after a node loss): drop the connection and retry with backoff.
            opts.onError?.(err)
            if (client === c) c.stream?.destroy()
            return
          }
          if (client !== c) return
          connected = true
          handlers?.onConnect()
        })
      })
      c.on('error', (err) => opts.onError?.(err))
      c.on('message', (topic, payload) => {
        const bytes = new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength)
        if (topic === topics.receipt) handlers?.onReceipt(bytes)
        else if (topic === topics.resend) handlers?.onResend(bytes)
      })
    },
    publish(payload, onDelivered) {
      if (!client || !connected) return
      client.publish(
        topics.readings,
        Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength),
        { qos: 1 },
        (err) => {
          // QoS 1: no error means the broker's PUBACK arrived.
          if (!err) return onDelivered?.()
          // Not fatal: the reading stays buffered until receipted and goes out again on reconnect.
          if (!/disconnecting|client disconnecting|Connection closed/i.test(err.message)) opts.onError?.(err)
        },
      )
    },
    async close() {
      const c = client
      client = undefined
      connected = false
      if (retryTimer) {
        clearTimeout(retryTimer)
        retryTimer = undefined
      }
      if (!c) return
      // Offline, end(false) would wait forever for PUBACKs of in-flight publishes;
      // those readings are in the device's own buffer, so force the end then.
      await new Promise<void>((resolve) => {
        // Should a PUBACK never come, force the end rather than hang: the reading is in the buffer.
        // (end(true) would be a no-op now: mqtt.js ignores end() while one is pending.)
        const fallback = setTimeout(() => {
          c.stream?.destroy()
          resolve()
        }, CLOSE_GRACE_MS)
        c.end(!c.connected, {}, () => {
          clearTimeout(fallback)
          resolve()
        })
      })
    },
  }
}
