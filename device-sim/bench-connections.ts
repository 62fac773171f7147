/**
 * Measures what a large simulated fleet needs from MQTT: one connection per
 * device (each device logs in as itself; the broker's ACL forbids publishing
 * for another device, so there is no multiplexed gateway mode).
 *
 *   npx tsx device-sim/bench-connections.ts [devices=2000] [batch=100] [url]
 *
 * Without a url it starts a plain aedes broker in this process on a free port.
 * Prints connect time, readings/s and memory. Numbers go in device-sim/README.md.
 */
import { createServer, type AddressInfo } from 'node:net'
import { Aedes } from 'aedes'
import mqtt from 'mqtt'
import { readingsFilters } from '../ledger/protocol/index.ts'
import { createFleet } from './fleet.ts'
import { memoryIdentity } from './identity.ts'
import { parseScenario } from './scenario/index.ts'

const n = Number(process.argv[2] ?? 2000)
const batch = Number(process.argv[3] ?? 100)
let url = process.argv[4]
let close = async () => {}
if (!url) {
  const broker = await Aedes.createBroker()
  const server = createServer(broker.handle)
  await new Promise<void>((r) => server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, r))
  url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`
  close = async () => {
    await new Promise<void>((r) => broker.close(() => r()))
    server.close()
  }
}
let received = 0
let errors = 0
const reconnects = 0
const ledger = await mqtt.connectAsync(url, { clientId: 'bench-ledger' })
ledger.on('message', () => {
  received++
})
await ledger.subscribeAsync(readingsFilters(), { qos: 1 })

const scenario = parseScenario({
  name: 'bench',
  seed: 1,
  shipments: [
    {
      shipmentId: 'b',
      product: 'p',
      storageClass: '2-8',
      devices: Array.from({ length: n }, (_, i) => ({ deviceId: `bench-${i}` })),
      legs: [{ durationMin: 15, model: 'reefer', setpointC: 5, ambient: { meanC: 20 } }],
    },
  ],
})
const key = new Uint8Array(32).fill(2)
const rss0 = process.memoryUsage().rss
const fleet = createFleet({
  scenario,
  startMs: Date.parse('2026-11-20T00:00:00Z'),
  acceleration: Infinity,
  identity: (id) => memoryIdentity(id, key),
  mqtt: { url, connectBatchSize: batch, connectBatchDelayMs: 20 },
  log: (_l, m) => {
    errors++
    if (errors < 5) console.error(m)
  },
})
const t0 = performance.now()
await fleet.start()
const tS = performance.now() // sampling starts now, while the last connections complete
const connectedCount = () => fleet.status().filter((s) => s.connected).length
let lastLog = 0
while (connectedCount() < n && performance.now() - t0 < 180_000) {
  await new Promise((r) => setTimeout(r, 200))
  if (performance.now() - lastLog > 5000) {
    lastLog = performance.now()
    console.error(
      `connected ${connectedCount()}/${n} after ${((lastLog - t0) / 1000).toFixed(0)} s, ${reconnects} reconnects, ${errors} errors`,
    )
  }
}
const t1 = performance.now()
const connected = connectedCount()
await fleet.finished
const t2 = performance.now()
while (received < 4 * n && performance.now() - t2 < 60_000) await new Promise((r) => setTimeout(r, 50))
const t3 = performance.now()
const rss = process.memoryUsage().rss
console.log(
  JSON.stringify({
    devices: n,
    batch,
    connected,
    connectSeconds: +((t1 - t0) / 1000).toFixed(2),
    readings: 4 * n,
    received,
    sampleSignPublishSeconds: +((t3 - tS) / 1000).toFixed(2),
    readingsPerSecond: Math.round((4 * n) / ((t3 - tS) / 1000)),
    rssMiBPerDevice: +((rss - rss0) / n / 2 ** 20).toFixed(3),
    rssMiB: Math.round(rss / 2 ** 20),
  }),
)
await fleet.stop()
await ledger.endAsync()
await close()
