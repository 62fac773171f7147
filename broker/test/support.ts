/**
 * Shared test helpers: devices that sign with @noble/ed25519 (as firmware
 * would; the broker verifies with Node's OpenSSL), mqtt.js clients, log capture.
 */
import * as ed from '@noble/ed25519'
import { createBroker } from '../broker.ts'
import type { Broker, BrokerOptions } from '../broker.ts'
import { createMemoryRegistry } from '../registry.ts'
import type { MemoryDeviceRegistry } from '../registry.ts'
import { hashServicePassword } from '../service-accounts.ts'
import { sha512 } from '@noble/hashes/sha2.js'
import { randomBytes } from 'node:crypto'
import mqtt from 'mqtt'
import net from 'node:net'
import mqttPacket from 'mqtt-packet'
import type { IClientOptions, MqttClient, Packet } from 'mqtt'
import { pino } from 'pino'
import type { Logger } from 'pino'
import {
  AUTH_NONCE_LENGTH,
  GENESIS_PREV_HASH,
  assemblePayload,
  authSigningMessage,
  encodeAuthBody,
  encodeAuthToken,
  encodeRecord,
  readingHash,
  readingSigningMessage,
} from '../../ledger/protocol/index.ts'

ed.hashes.sha512 = sha512 // noble v3 synchronous API (noble README, "Usage")

export interface TestDevice {
  id: string
  secretKey: Uint8Array
  publicKey: Uint8Array
  token(opts?: { audience?: string; timeMs?: number; nonce?: Uint8Array; signWith?: Uint8Array }): string
  /** Signed readings seq 1..n, chained. */
  readings(n: number, startTimeMs?: number): Uint8Array[]
}

export function makeDevice(id: string): TestDevice {
  const secretKey = new Uint8Array(randomBytes(32))
  const publicKey = ed.getPublicKey(secretKey)
  return {
    id,
    secretKey,
    publicKey,
    token({
      audience = 'coldproof',
      timeMs = Date.now(),
      nonce = new Uint8Array(randomBytes(AUTH_NONCE_LENGTH)),
      signWith = secretKey,
    } = {}) {
      const body = encodeAuthBody({ timeMs, nonce })
      return encodeAuthToken(body, ed.sign(authSigningMessage(id, audience, body), signWith))
    },
    readings(n, startTimeMs = 1_767_225_600_000) {
      const out: Uint8Array[] = []
      let prevHash = GENESIS_PREV_HASH
      for (let seq = 1; seq <= n; seq++) {
        const record = encodeRecord({
          deviceId: id,
          seq,
          deviceTimeMs: startTimeMs + seq * 60_000,
          tempCentiC: 400 + seq,
          prevHash,
        })
        const payload = assemblePayload(record, ed.sign(readingSigningMessage(record), secretKey))
        out.push(payload)
        prevHash = readingHash(payload)
      }
      return out
    },
  }
}

/** A pino logger that keeps its lines for assertions. */
export function captureLogger(): { logger: Logger; lines: string[]; text(): string } {
  const lines: string[] = []
  const logger = pino({ level: 'debug' }, { write: (s: string) => void lines.push(s) })
  return { logger, lines, text: () => lines.join('') }
}

export type ConnectResult =
  | { ok: true; client: MqttClient; sessionPresent: boolean }
  | { ok: false; code: number | undefined; message: string }

/** Connects once (no reconnect); resolves with the CONNACK outcome. */
export function connect(url: string, opts: IClientOptions): Promise<ConnectResult> {
  return new Promise((resolve) => {
    const client = mqtt.connect(url, {
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 5000,
      keepalive: 30,
      ...opts,
    })
    const onError = (err: Error & { code?: number }) => {
      cleanup()
      client.end(true)
      resolve({ ok: false, code: typeof err.code === 'number' ? err.code : undefined, message: err.message })
    }
    const onConnect = (p: Packet & { sessionPresent?: boolean }) => {
      cleanup()
      client.on('error', () => {}) // later errors are asserted through 'close'
      resolve({ ok: true, client, sessionPresent: !!p.sessionPresent })
    }
    const onClose = () => {
      cleanup()
      client.end(true)
      resolve({ ok: false, code: undefined, message: 'closed before CONNACK' })
    }
    const cleanup = () => {
      client.off('error', onError)
      client.off('connect', onConnect)
      client.off('close', onClose)
    }
    client.on('error', onError)
    client.on('connect', onConnect)
    client.on('close', onClose)
  })
}

export async function mustConnect(url: string, opts: IClientOptions): Promise<MqttClient> {
  const r = await connect(url, opts)
  if (!r.ok) throw new Error(`connect as ${opts.username} failed: code ${r.code} ${r.message}`)
  return r.client
}

export function deviceOptions(d: TestDevice, extra: IClientOptions = {}): IClientOptions {
  return { clientId: d.id, username: d.id, password: d.token(), ...extra }
}

/** Resolves when `client` closes its connection (or at once if it is closed). */
export function closed(client: MqttClient): Promise<void> {
  return new Promise((resolve) => {
    if (!client.connected && client.disconnected) return resolve()
    client.once('close', () => resolve())
  })
}

export function endClient(client: MqttClient): Promise<void> {
  return new Promise((resolve) => client.end(true, {}, () => resolve()))
}

/** Collects messages until `n` have arrived. */
export function collect(
  client: MqttClient,
  n: number,
): { done: Promise<{ topic: string; payload: Buffer }[]>; got: { topic: string; payload: Buffer }[] } {
  const got: { topic: string; payload: Buffer }[] = []
  let resolveDone!: (v: typeof got) => void
  const done = new Promise<typeof got>((r) => (resolveDone = r))
  client.on('message', (topic, payload) => {
    got.push({ topic, payload })
    if (got.length === n) resolveDone(got)
  })
  if (n === 0) resolveDone(got)
  return { done, got }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Cheap scrypt for tests (the production default is N = 2^15). */
export const TEST_SCRYPT = { N: 2 ** 12, r: 8, p: 1 }
export const INGEST_PASSWORD = 'correct horse battery staple'

interface Teardown {
  teardown(fn: () => unknown): void
}

export async function startBroker(
  t: Teardown,
  opts: Partial<BrokerOptions> = {},
): Promise<{ broker: Broker; url: string; registry: MemoryDeviceRegistry; log: ReturnType<typeof captureLogger> }> {
  const registry = createMemoryRegistry()
  const log = captureLogger()
  const broker = createBroker({
    registry,
    port: 0,
    logger: log.logger,
    serviceAccounts: {
      ingest: { role: 'ingest', passwordHash: await hashServicePassword(INGEST_PASSWORD, TEST_SCRYPT) },
    },
    ...opts,
  })
  const { url } = await broker.listen()
  t.teardown(() => broker.close())
  return { broker, url, registry: (opts.registry as MemoryDeviceRegistry | undefined) ?? registry, log }
}

export function ingestOptions(extra: IClientOptions = {}): IClientOptions {
  return { clientId: 'ingest-0', username: 'ingest', password: INGEST_PASSWORD, ...extra }
}

/** Subscribes and returns the granted QoS per filter (128 = refused). */
export function subscribe(client: MqttClient, filters: string[], qos: 0 | 1 = 1): Promise<number[]> {
  return new Promise((resolve, reject) => {
    // mqtt.js reports any 0x80 as an error but still hands over the SUBACK.
    client.subscribe(filters, { qos }, (err, _subs, suback) => {
      const granted = (suback as { granted?: number[] } | undefined)?.granted
      if (granted) resolve(granted.map(Number))
      else reject(err ?? new Error('no SUBACK'))
    })
  })
}

export function publish(
  client: MqttClient,
  topic: string,
  payload: Uint8Array | string,
  qos: 0 | 1 = 1,
): Promise<void> {
  return new Promise((resolve, reject) =>
    client.publish(topic, Buffer.from(payload), { qos }, (err) => (err ? reject(err) : resolve())),
  )
}

/** Connects with a message listener attached before CONNACK, so no queued message is missed. */
export function connectCollecting(
  url: string,
  opts: mqtt.IClientOptions,
): { client: MqttClient; got: Buffer[]; connected: Promise<boolean> } {
  const client = mqtt.connect(url, { protocolVersion: 4, reconnectPeriod: 0, ...opts })
  const got: Buffer[] = []
  client.on('message', (_topic, payload) => void got.push(Buffer.from(payload)))
  const connected = new Promise<boolean>((resolve, reject) => {
    client.once('connect', (p) => resolve(!!p.sessionPresent))
    client.once('error', reject)
  })
  return { client, got, connected }
}

/** Waits until `cond()` holds; bounded by tap's timeout, never a timing assertion. */
export async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await sleep(10)
}

export interface RawConnect {
  port: number
  /** Source address on the loopback (127.0.0.x), to play several clients. */
  localAddress?: string
  protocolVersion?: 3 | 4 | 5
  clientId?: string
  username?: string
  password?: string
}

/**
 * One CONNECT over a plain socket (mqtt-packet encodes it, so any protocol
 * level can be sent); resolves with the CONNACK return code, or 'closed' if
 * the broker closed the socket without one.
 */
export function rawConnect(o: RawConnect): Promise<number | 'closed'> {
  const version = o.protocolVersion ?? 4
  const bytes = mqttPacket.generate({
    cmd: 'connect',
    protocolId: version === 3 ? 'MQIsdp' : 'MQTT',
    protocolVersion: version,
    clean: true,
    keepalive: 30,
    clientId: o.clientId ?? 'raw-client',
    ...(o.username !== undefined ? { username: o.username } : {}),
    ...(o.password !== undefined ? { password: Buffer.from(o.password) } : {}),
  } as mqttPacket.IConnectPacket)
  return new Promise((resolve) => {
    const s = net.connect({
      port: o.port,
      host: '127.0.0.1',
      ...(o.localAddress ? { localAddress: o.localAddress } : {}),
    })
    let got = Buffer.alloc(0)
    let done = false
    const finish = (r: number | 'closed') => {
      if (done) return
      done = true
      s.destroy()
      resolve(r)
    }
    s.on('connect', () => s.write(bytes))
    s.on('data', (d) => {
      got = Buffer.concat([got, d])
      // CONNACK: 0x20, remaining length, flags, return code (the same bytes for 3.1, 3.1.1 and a 3.1.1 answer to 5).
      if (got.length >= 4 && got[0] === 0x20) finish(got[3])
    })
    s.on('error', () => finish('closed'))
    s.on('close', () => finish('closed'))
  })
}

/** A socket that connects and sends nothing; `closed` resolves when the broker (or anyone) closes it. */
export function idleSocket(
  port: number,
  localAddress?: string,
): { socket: net.Socket; opened: Promise<boolean>; closed: Promise<void> } {
  const socket = net.connect({ port, host: '127.0.0.1', ...(localAddress ? { localAddress } : {}) })
  socket.on('error', () => {})
  const opened = new Promise<boolean>((r) => {
    socket.once('connect', () => r(true))
    socket.once('close', () => r(false))
  })
  const closed = new Promise<void>((r) => socket.once('close', () => r()))
  return { socket, opened, closed }
}
