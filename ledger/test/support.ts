/**
 * Test support for the ledger's integration tests: simulated devices that sign
 * with @noble/ed25519 (as the firmware does; the ingest verifies with Node's
 * crypto), a plain aedes broker on 127.0.0.1:0, temp ledger directories.
 */
import * as ed from '@noble/ed25519'
import { sha512 } from '@noble/hashes/sha2.js'
import { createServer, type AddressInfo, type Server } from 'node:net'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Aedes } from 'aedes'
import mqtt, { type MqttClient } from 'mqtt'
import {
  decodeReceipt,
  decodeResend,
  equalBytes,
  assemblePayload,
  encodeRecord,
  GENESIS_PREV_HASH,
  readingHash,
  readingSigningMessage,
  deviceTopic,
  type ReadingFields,
} from '../protocol/index.ts'

ed.hashes.sha512 = sha512

export interface SimDevice {
  id: string
  seed: Uint8Array
  publicKey: Uint8Array
  /** Last signed seq and its hash. */
  seq: number
  prev: Uint8Array
  topic: string
}

export function simDevice(id: string, seedByte: number): SimDevice {
  const seed = new Uint8Array(32).fill(seedByte)
  seed[0] = id.length
  return {
    id,
    seed,
    publicKey: ed.getPublicKey(seed),
    seq: 0,
    prev: GENESIS_PREV_HASH,
    topic: deviceTopic(id, 'readings'),
  }
}

/** Signs the device's next reading (advancing its chain) and returns the payload. */
export function nextReading(
  d: SimDevice,
  tempCentiC: number,
  deviceTimeMs: number,
  extra: Partial<ReadingFields> = {},
): Uint8Array {
  const record = encodeRecord({ deviceId: d.id, seq: d.seq + 1, deviceTimeMs, tempCentiC, prevHash: d.prev, ...extra })
  const payload = assemblePayload(record, ed.sign(readingSigningMessage(record), d.seed))
  d.seq++
  d.prev = readingHash(payload)
  return payload
}

/** Signs an arbitrary record with the device key (for forks and regressions). */
export function signFields(d: SimDevice, f: ReadingFields): Uint8Array {
  const record = encodeRecord(f)
  return assemblePayload(record, ed.sign(readingSigningMessage(record), d.seed))
}

export async function tempDir(prefix = 'coldproof-ledger-'): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) }
}

export interface TestBroker {
  url: string
  port: number
  broker: Aedes
  server: Server
  close(): Promise<void>
}

/** A plain aedes broker (no auth) on 127.0.0.1, port 0 unless `port` is given (to restart on the same port). */
export async function startBroker(port = 0): Promise<TestBroker> {
  const broker = await Aedes.createBroker()
  const server = createServer(broker.handle)
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => resolve())
  })
  const p = (server.address() as AddressInfo).port
  return {
    url: `mqtt://127.0.0.1:${p}`,
    port: p,
    broker,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        broker.close(() => server.close(() => resolve()))
      }),
  }
}

export const T0 = Date.UTC(2026, 10, 25, 8, 0, 0)

export async function waitFor(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

/**
 * A tiny device loop over the real protocol: keeps every unreceipted reading,
 * resends them on reconnect and answers resend requests from its buffer
 * (ARCHITECTURE.md decision 5). `drop` lets a test lose chosen first transmissions.
 */
export class DeviceLoop {
  readonly d: SimDevice
  client!: MqttClient
  readonly unreceipted = new Map<number, Uint8Array>()
  /** Every payload ever signed, by seq. */
  readonly sent = new Map<number, Uint8Array>()
  receipt = { seq: 0, hash: GENESIS_PREV_HASH }
  receipts = 0
  resendRequests: { from: number; to: number }[] = []
  badReceipts = 0
  /** When set, resend requests are recorded but not answered (a lost request). */
  ignoreResend = false
  /** Return true to skip the first transmission of a reading (simulated loss). */
  drop: (seq: number) => boolean = () => false

  constructor(d: SimDevice) {
    this.d = d
  }

  async connect(url: string): Promise<void> {
    this.client = mqtt.connect(url, { clientId: `dev-${this.d.id}`, clean: true, reconnectPeriod: 200 })
    this.client.on('message', (topic, payload) => this.#onMessage(topic, payload))
    this.client.on('connect', () => {
      void this.client
        .subscribeAsync([deviceTopic(this.d.id, 'receipt'), deviceTopic(this.d.id, 'resend')], { qos: 1 })
        .then(() => {
          for (const [, p] of this.unreceipted) this.client.publish(this.d.topic, Buffer.from(p), { qos: 1 })
        })
        .catch(() => {})
    })
    await new Promise<void>((resolve) => this.client.once('connect', () => resolve()))
    await this.client.subscribeAsync([deviceTopic(this.d.id, 'receipt'), deviceTopic(this.d.id, 'resend')], { qos: 1 })
  }

  #onMessage(topic: string, payload: Buffer): void {
    if (topic.endsWith('/receipt')) {
      const r = decodeReceipt(new Uint8Array(payload))
      const mine = r.seq === 0 ? GENESIS_PREV_HASH : this.sent.get(r.seq) && readingHash(this.sent.get(r.seq)!)
      if (!mine || !equalBytes(mine, r.hash)) {
        this.badReceipts++
        return
      }
      this.receipts++
      if (r.seq >= this.receipt.seq) this.receipt = r
      for (const s of [...this.unreceipted.keys()]) if (s <= r.seq) this.unreceipted.delete(s)
    } else if (topic.endsWith('/resend')) {
      const r = decodeResend(new Uint8Array(payload))
      this.resendRequests.push(r)
      if (this.ignoreResend) return
      for (let s = r.from; s <= r.to; s++) {
        const p = this.unreceipted.get(s)
        if (p) this.client.publish(this.d.topic, Buffer.from(p), { qos: 1 })
      }
    }
  }

  /** Signs and publishes the next reading. */
  send(tempCentiC: number, deviceTimeMs: number): Uint8Array {
    const p = nextReading(this.d, tempCentiC, deviceTimeMs)
    this.sent.set(this.d.seq, p)
    this.unreceipted.set(this.d.seq, p)
    if (!this.drop(this.d.seq)) this.client.publish(this.d.topic, Buffer.from(p), { qos: 1 })
    return p
  }

  #lastRetryReceipt = -1

  /**
   * The firmware's retry timer: when the receipt has not moved since the last
   * tick, publishes the oldest unreceipted readings again (at most `max`).
   */
  resendIfStalled(max = 50): void {
    if (!this.client?.connected) return
    const stalled = this.receipt.seq === this.#lastRetryReceipt
    this.#lastRetryReceipt = this.receipt.seq
    if (!stalled) return
    let n = 0
    for (const [, p] of this.unreceipted) {
      if (n++ >= max) break
      this.client.publish(this.d.topic, Buffer.from(p), { qos: 1 })
    }
  }

  publishRaw(topic: string, payload: Uint8Array): Promise<unknown> {
    return this.client.publishAsync(topic, Buffer.from(payload), { qos: 1 })
  }

  async close(): Promise<void> {
    await this.client?.endAsync(true)
  }
}
