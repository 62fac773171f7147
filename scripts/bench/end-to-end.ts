/**
 * End-to-end ingest throughput: pre-signed readings from many devices are
 * published over real MQTT connections to the embedded broker (with device
 * token authentication), verified by the ingest and committed to a real
 * LevelDB ledger. Measures from the first publish to the last commit.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import mqtt from 'mqtt'
import { pino } from 'pino'
import * as ed from '@noble/ed25519'
import { deviceTopic, toHex } from '../../ledger/protocol/index.ts'
import { openLedger } from '../../ledger/ledger.ts'
import { createIngest } from '../../ledger/ingest.ts'
import { createBroker, hashServicePassword } from '../../broker/index.ts'
import { deviceAuthToken } from '../../device-sim/index.ts'
import { signedChain } from './signed-chain.ts'

export interface EndToEndResult { devices: number; readings: number; ms: number; perSecond: number; batches: number }

export async function runEndToEnd({ devices, readingsPerDevice }: { devices: number; readingsPerDevice: number }): Promise<EndToEndResult> {
  const dir = await mkdtemp(join(tmpdir(), 'coldproof-e2e-'))
  const ledger = await openLedger({ dir, checkpointIntervalMs: 0, checkpointEvery: 1_000_000 })
  const password = randomBytes(18).toString('base64url')
  const broker = createBroker({
    registry: { lookupDevice: async (id) => ledger.lookupDevice(id) },
    serviceAccounts: { ingest: { passwordHash: await hashServicePassword(password), role: 'ingest' } },
    port: 0,
    rateLimit: false,
    logger: pino({ level: 'silent' }),
  })
  const clients: mqtt.MqttClient[] = []
  try {
    const { url } = await broker.listen()
    const real = createIngest({ ledger, url, username: 'ingest', password })
    await real.start()
    const fleet = []
    for (let d = 0; d < devices; d++) {
      const deviceId = `bench-e2e-${d}`
      const sk = ed.utils.randomSecretKey()
      await ledger.registerDevice({ deviceId, publicKey: toHex(ed.getPublicKey(sk)), by: 'bench' })
      fleet.push({ deviceId, sk, readings: signedChain(deviceId, sk, readingsPerDevice) })
    }
    for (const f of fleet) {
      const c = await mqtt.connectAsync(url, { clientId: f.deviceId, username: f.deviceId, password: deviceAuthToken(f.deviceId, f.sk, 'coldproof'), reconnectPeriod: 0 })
      clients.push(c)
    }
    const total = devices * readingsPerDevice
    const target = ledger.size() + total
    let batches = 0
    const off = ledger.onBatch(() => { batches++ })
    const done = new Promise<void>((resolve) => {
      const unsub = ledger.subscribe(() => { if (ledger.size() >= target) { unsub(); resolve() } })
    })
    const start = performance.now()
    await Promise.all(fleet.map(async (f, i) => {
      const topic = deviceTopic(f.deviceId, 'readings')
      for (const r of f.readings) clients[i].publish(topic, Buffer.from(r.payload), { qos: 1 })
    }))
    await done
    const ms = performance.now() - start
    off()
    await real.close()
    return { devices, readings: total, ms, perSecond: (total * 1000) / ms, batches }
  } finally {
    await Promise.all(clients.map((c) => c.endAsync(true)))
    await broker.close()
    await ledger.close()
    await rm(dir, { recursive: true, force: true })
  }
}
