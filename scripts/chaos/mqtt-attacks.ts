/**
 * Hostile MQTT traffic for the chaos suite, from registered "rogue" loggers
 * whose keys the suite holds (so it can sign what a stolen or buggy device
 * would sign) and from strangers. Every message sent is recorded with what
 * must become of it: stored (a genuine reading), answered as a duplicate (a
 * replay), quarantined by the ingest, or refused by the broker. The audit
 * (audit.ts) checks each against the ledger after the run.
 */
import mqtt, { type MqttClient } from 'mqtt'
import { connect as tcpConnect, type Socket } from 'node:net'
import { deviceAuthToken, memoryIdentity, signRecord, type Identity, type Rng } from '../../device-sim/index.ts'
import {
  deviceTopic,
  encodeRecord,
  GENESIS_PREV_HASH,
  readingHash,
  MAX_READING_PAYLOAD,
} from '../../ledger/protocol/index.ts'

export type Expect = 'stored' | 'duplicate' | 'quarantine' | 'fork-or-quarantine' | 'refused'
export interface SentMessage {
  kind: string
  expect: Expect
  deviceId: string
  payload: Buffer
  outcome: 'puback' | 'refused'
}

export interface Rogue {
  id: Identity
  seq: number
  prev: Uint8Array
  sent: Buffer[]
}

export function newRogue(deviceId: string): Rogue {
  return { id: memoryIdentity(deviceId), seq: 0, prev: GENESIS_PREV_HASH, sent: [] }
}

function connectRogue(url: string, r: Rogue | undefined, overrides: Record<string, unknown> = {}): Promise<MqttClient> {
  const id = r?.id.deviceId ?? 'stranger'
  const c = mqtt.connect(url, {
    clientId: id,
    username: id,
    protocolVersion: 4,
    reconnectPeriod: 0,
    connectTimeout: 30_000,
    clean: true,
    password: r ? deviceAuthToken(id, r.id.secretKey, 'coldproof') : 'x',
    ...overrides,
  })
  c.setMaxListeners(0)
  return new Promise((resolve, reject) => {
    c.once('connect', () => resolve(c))
    c.once('error', (e) => {
      c.end(true)
      reject(e)
    })
    c.once('close', () => reject(new Error('closed before CONNACK')))
  })
}

/** QoS 1 publish: 'puback' when the broker acknowledged it, 'refused' when it closed the connection or errored instead. */
function publish(c: MqttClient, topic: string, payload: Buffer): Promise<'puback' | 'refused'> {
  return new Promise((resolve) => {
    if (!c.connected) return resolve('refused')
    let done = false
    const fin = (v: 'puback' | 'refused') => {
      if (!done) {
        done = true
        c.off('close', onClose)
        resolve(v)
      }
    }
    const onClose = () => fin('refused')
    c.once('close', onClose)
    c.publish(topic, payload, { qos: 1 }, (err) => fin(err ? 'refused' : 'puback'))
  })
}

function bytes(rng: Rng, n: number): Buffer {
  const b = Buffer.alloc(n)
  for (let i = 0; i < n; i++) b[i] = Math.floor(rng.next() * 256)
  return b
}

function validRecord(r: Rogue, seq: number, timeMs: number, temp: number, prev = r.prev): Uint8Array {
  return encodeRecord({
    deviceId: r.id.deviceId,
    seq,
    deviceTimeMs: timeMs,
    tempCentiC: temp,
    prevHash: prev,
    batteryPct: 90,
  })
}

/** Record bytes that a signer accepts but the decoder must refuse (the signature over them is valid). */
function malformedRecords(r: Rogue, rng: Rng): Buffer[] {
  const base = Buffer.from(validRecord(r, r.seq + 1, Date.now() - 3_600_000, 500))
  const idLen = base[1]!
  const out: Buffer[] = []
  const v2 = Buffer.from(base)
  v2[0] = 2
  out.push(v2)
  const reserved = Buffer.from(base)
  reserved[2 + idLen + 4 + 8 + 2 + 32] = 0x80
  out.push(reserved)
  const cold = Buffer.from(base)
  cold.writeInt16BE(-30000, 2 + idLen + 12)
  out.push(cold)
  out.push(Buffer.concat([base, Buffer.from([0x01])]))
  const badLen = Buffer.from(base)
  badLen[1] = idLen + 3
  out.push(badLen)
  const seq0 = Buffer.from(base)
  seq0.writeUInt32BE(0, 2 + idLen)
  out.push(seq0)
  const bigTime = Buffer.from(base)
  bigTime.writeUInt32BE(0xffffffff, 2 + idLen + 4)
  out.push(bigTime)
  const badId = Buffer.from(base)
  badId[2] = 0x2f
  out.push(badId) // '/' is not in the device id alphabet
  return out.filter(() => rng.next() < 0.8)
}

export interface AttackContext {
  mqttUrl: string
  rng: Rng
  /** Genuine payloads of fleet devices (for foreign-topic replays). */
  foreignPayloads: () => Buffer[]
  /** A fleet device whose topic the rogue tries to publish on. */
  victim: string
}

/** One batch from one rogue: genuine readings, replays and every kind of malformed message. */
export async function attackBatch(
  ctx: AttackContext,
  r: Rogue,
  opts: { messages: number; flood: number; forker?: Rogue },
): Promise<SentMessage[]> {
  const { rng } = ctx
  const sent: SentMessage[] = []
  const c = await connectRogue(ctx.mqttUrl, r)
  const topic = deviceTopic(r.id.deviceId, 'readings')
  const add = async (
    kind: string,
    expect: Expect,
    payload: Buffer,
    client = c,
    t = topic,
    deviceId = r.id.deviceId,
  ) => {
    sent.push({ kind, expect, deviceId, payload, outcome: await publish(client, t, payload) })
  }
  try {
    for (let i = 0; i < opts.messages; i++) {
      const pick = rng.next()
      if (pick < 0.15) {
        const p = Buffer.from(
          signRecord(
            validRecord(r, r.seq + 1, Date.now() - 3_600_000 + i, 400 + Math.floor(rng.next() * 200)),
            r.id.secretKey,
          ),
        )
        r.seq++
        r.prev = readingHash(p)
        r.sent.push(p)
        await add('genuine', 'stored', p)
      } else if (pick < 0.25 && r.sent.length) {
        await add('replay', 'duplicate', r.sent[Math.floor(rng.next() * r.sent.length)]!)
      } else if (pick < 0.4) {
        await add(
          'random bytes',
          'quarantine',
          bytes(rng, Math.floor(rng.next() * (rng.next() < 0.1 ? 4000 : MAX_READING_PAYLOAD + 8))),
        )
      } else if (pick < 0.55) {
        const src = r.sent.length
          ? r.sent[r.sent.length - 1]!
          : Buffer.from(signRecord(validRecord(r, r.seq + 1, Date.now() - 3_600_000, 500), r.id.secretKey))
        const m = Buffer.from(src)
        const n = 1 + Math.floor(rng.next() * 3)
        for (let k = 0; k < n; k++) m[Math.floor(rng.next() * m.length)] ^= 1 << Math.floor(rng.next() * 8)
        if (!m.equals(src)) await add('bit-flipped', 'quarantine', m)
      } else if (pick < 0.7) {
        for (const rec of malformedRecords(r, rng))
          await add('signed malformed', 'quarantine', Buffer.from(signRecord(rec, r.id.secretKey)))
      } else if (pick < 0.78) {
        const foreign = ctx.foreignPayloads()
        if (foreign.length)
          await add("other device's reading", 'quarantine', foreign[Math.floor(rng.next() * foreign.length)]!)
      } else if (pick < 0.84) {
        await add(
          'future time',
          'quarantine',
          Buffer.from(signRecord(validRecord(r, r.seq + 1, Date.now() + 2 * 86_400_000, 500), r.id.secretKey)),
        )
      } else {
        await add(
          'wrong key',
          'quarantine',
          Buffer.from(
            signRecord(validRecord(r, r.seq + 1, Date.now() - 3_600_000, 500), memoryIdentity(r.id.deviceId).secretKey),
          ),
        )
      }
    }
    // Last (a forked logger is compromised from then on): a second, different signed reading for seq 1.
    if (r.seq >= 1)
      await add(
        'fork',
        'fork-or-quarantine',
        Buffer.from(signRecord(validRecord(r, 1, Date.now() - 7_200_000, 3001, GENESIS_PREV_HASH), r.id.secretKey)),
      )
    // A flood: many publishes without waiting; the broker holds them back (rate limit) or refuses them.
    if (opts.flood > 0) {
      const waits: Promise<void>[] = []
      for (let i = 0; i < opts.flood; i++) {
        const p = bytes(rng, 20 + Math.floor(rng.next() * 40))
        waits.push(
          publish(c, topic, p).then((outcome) => {
            sent.push({ kind: 'flood', expect: 'quarantine', deviceId: r.id.deviceId, payload: p, outcome })
          }),
        )
      }
      await Promise.all(waits)
    }
  } finally {
    c.end(true)
  }
  // Each of these the broker must refuse; a fresh connection each, since a refusal closes it.
  const refusals: [string, (c: MqttClient) => Promise<'puback' | 'refused'>][] = [
    [
      "publish on another device's topic",
      (c) =>
        publish(
          c,
          deviceTopic(ctx.victim, 'readings'),
          Buffer.from(signRecord(validRecord(r, r.seq + 1, Date.now() - 3_600_000, 500), r.id.secretKey)),
        ),
    ],
    ['oversized packet', (c) => publish(c, topic, bytes(rng, 256 * 1024))],
    ['publish on a receipt topic', (c) => publish(c, deviceTopic(r.id.deviceId, 'receipt'), bytes(rng, 40))],
  ]
  for (const [kind, act] of refusals) {
    let outcome: 'puback' | 'refused' = 'refused'
    let cl: MqttClient | undefined
    try {
      cl = await connectRogue(ctx.mqttUrl, r)
      outcome = await act(cl)
    } catch {
      outcome = 'refused'
    } finally {
      cl?.end(true)
    }
    sent.push({ kind, expect: 'refused', deviceId: r.id.deviceId, payload: Buffer.alloc(0), outcome })
  }
  // Logins the broker must refuse: a forged token, the ingest account with a wrong password, a stranger.
  for (const [kind, o] of [
    [
      'forged login token',
      { password: deviceAuthToken(r.id.deviceId, memoryIdentity(r.id.deviceId).secretKey, 'coldproof') },
    ],
    ['wrong ingest password', { clientId: 'coldproof-ingest-x', username: 'coldproof-ingest', password: 'guess' }],
    ['unregistered device', { clientId: 'nobody-1', username: 'nobody-1' }],
  ] as const) {
    let outcome: 'puback' | 'refused' = 'refused'
    try {
      const cl = await connectRogue(ctx.mqttUrl, r, o)
      outcome = 'puback'
      cl.end(true)
    } catch {
      outcome = 'refused'
    }
    sent.push({ kind, expect: 'refused', deviceId: r.id.deviceId, payload: Buffer.alloc(0), outcome })
  }
  return sent
}

/** Clients that connect and then never finish their handshake or read: held open during a batch. */
export function slowClients(mqttUrl: string, n: number): () => void {
  const u = new URL(mqttUrl)
  const socks: Socket[] = []
  for (let i = 0; i < n; i++) {
    const s = tcpConnect(Number(u.port), u.hostname)
    s.on('error', () => {})
    // A CONNECT header announcing 200 bytes, then nothing.
    s.write(Buffer.from([0x10, 0xc8, 0x01, 0x00, 0x04]))
    socks.push(s)
  }
  return () => {
    for (const s of socks) s.destroy()
  }
}
