/**
 * Section 1: the machine's limits, measured in the same run as the pipeline
 * so the ratio compares like with like. Ed25519 verification with Node's
 * crypto on one core and on every core (worker threads), LevelDB sync batches,
 * and bare MQTT transport through the embedded broker (publishers in child
 * processes, one QoS 1 subscriber that does nothing with the messages).
 */
import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import { createPublicKey, verify } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { ClassicLevel } from 'classic-level'
import mqtt from 'mqtt'
import { pino } from 'pino'
import { decodeReading, readingSigningMessage, readingsFilters } from '../../ledger/protocol/index.ts'
import { createBroker, hashServicePassword } from '../../broker/index.ts'
import { benchKey, benchSeed, signedChain } from './signed-chain.ts'
import { ed25519Spki } from '../../ledger/node-crypto/index.ts'
import { figure, rateSync, repeat, wallMs, type Figure } from './figures.ts'
import { startPublishers, type BenchDevice } from './publishers.ts'

function signedSample(): { spki: Uint8Array; messages: Uint8Array[]; signatures: Uint8Array[] } {
  const seed = benchSeed('verify', 0)
  const decoded = signedChain('bench-verify', seed, 256).map((r) => decodeReading(r.payload))
  return {
    spki: ed25519Spki(benchKey(seed).publicKey),
    messages: decoded.map((d) => readingSigningMessage(d.record)),
    signatures: decoded.map((d) => d.signature),
  }
}

export function verifyOneCore(runs: number, budgetMs: number): Promise<Figure> {
  const { spki, messages, signatures } = signedSample()
  const key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' })
  const n = messages.length
  return repeat(runs, () =>
    rateSync(budgetMs, (i) => {
      if (!verify(null, messages[i % n], key, signatures[i % n])) throw new Error('verify failed')
    }),
  ).then((v) =>
    figure('limits.verify_one_core', 'limits', 'Ed25519 verify, node:crypto, one core', 'verifications/s', v, 'higher'),
  )
}

export async function verifyAllCores(runs: number, budgetMs: number): Promise<Figure> {
  const sample = signedSample()
  const cores = availableParallelism()
  const values = await repeat(runs, async () => {
    const results = await Promise.all(
      Array.from(
        { length: cores },
        () =>
          new Promise<{ ops: number; ms: number }>((resolve, reject) => {
            const w = new Worker(new URL('./verify-limit-worker.js', import.meta.url), {
              workerData: { ...sample, budgetMs },
            })
            w.once('message', resolve)
            w.once('error', reject)
          }),
      ),
    )
    // Workers run side by side for the same budget: their rates add up.
    return results.reduce((s, r) => s + (r.ops * 1000) / r.ms, 0)
  })
  return figure(
    'limits.verify_all_cores',
    'limits',
    `Ed25519 verify, node:crypto, all ${cores} cores (worker threads)`,
    'verifications/s',
    values,
    'higher',
  )
}

/** Raw LevelDB: batches of `batchSize` puts (~400-byte values), each written with sync: true. */
export async function leveldbSyncBatches(runs: number, batches: number, batchSize = 500): Promise<Figure> {
  const dir = await mkdtemp(join(tmpdir(), 'coldproof-bench-level-'))
  try {
    const db = new ClassicLevel<string, Uint8Array>(join(dir, 'db'), { keyEncoding: 'utf8', valueEncoding: 'view' })
    await db.open()
    let n = 0
    const value = randomBytes(400)
    const values = await repeat(runs, async () => {
      const start = performance.now()
      for (let b = 0; b < batches; b++) {
        const ops = Array.from({ length: batchSize }, () => ({
          type: 'put' as const,
          key: `e!${String(n++).padStart(12, '0')}`,
          value,
        }))
        await db.batch(ops, { sync: true })
      }
      return (batches * batchSize * 1000) / (performance.now() - start)
    })
    await db.close()
    return figure(
      'limits.leveldb_sync_batches',
      'limits',
      `LevelDB sync batches of ${batchSize} (400-byte values)`,
      'entries/s',
      values,
      'higher',
    )
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/**
 * Bare transport: the embedded broker (device token login, ACL, no rate
 * limit) and one subscriber on the ingest's filters that only counts.
 */
export async function transport(runs: number, devices: number, perDevice: number): Promise<Figure> {
  const keys = new Map<string, Uint8Array>()
  const fleet: BenchDevice[] = Array.from({ length: devices }, (_, i) => {
    const deviceId = `bench-tr-${i}`
    const seed = benchSeed('transport', i)
    keys.set(deviceId, benchKey(seed).publicKey)
    return { deviceId, seed }
  })
  const password = randomBytes(18).toString('base64url')
  const broker = createBroker({
    registry: { lookupDevice: async (id) => (keys.has(id) ? { publicKey: keys.get(id)!, revoked: false } : undefined) },
    serviceAccounts: { sink: { passwordHash: await hashServicePassword(password), role: 'ingest' } },
    port: 0,
    rateLimit: false,
    maxConnections: devices + 100,
    logger: pino({ level: 'silent' }),
  })
  const { url } = await broker.listen()
  const sink = await mqtt.connectAsync(url, {
    clientId: 'bench-sink',
    username: 'sink',
    password,
    clean: false,
    protocolVersion: 4,
    reconnectPeriod: 0,
  })
  let received = 0
  let waiter: { total: number; resolve: (t: number) => void } | undefined
  sink.on('message', () => {
    received++
    if (waiter && received >= waiter.total) {
      waiter.resolve(wallMs())
      waiter = undefined
    }
  })
  await sink.subscribeAsync(readingsFilters(), { qos: 1 })
  const pubs = await startPublishers(url, fleet)
  try {
    const values = await repeat(runs, async () => {
      await pubs.sign(perDevice)
      const total = received + devices * perDevice
      const done = new Promise<number>((resolve) => {
        waiter = { total, resolve }
      })
      const start = wallMs()
      await pubs.burst()
      return (devices * perDevice * 1000) / ((await done) - start)
    })
    return figure(
      'limits.transport',
      'limits',
      `bare MQTT transport, QoS 1, ${devices} publishers (${pubs.processes} processes) -> 1 subscriber`,
      'messages/s',
      values,
      'higher',
    )
  } finally {
    await pubs.close()
    await sink.endAsync(true)
    await broker.close()
  }
}
