/**
 * The cluster mode's pipeline (docs/SCALING.md): three nats-server nodes on
 * this machine, R3 streams, and 1, 2 and 4 ingest partitions fed the same
 * signed readings. Readings/s from the first publish to the last commit in
 * the partition ledgers; each figure's note gives its ratio to the
 * single-process pipeline at saturation measured earlier in the same run.
 * Readings go in as JetStream-acknowledged publishes over one NATS connection
 * (in windows of 256), not one MQTT connection per device.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect } from '@nats-io/transport-node'
import { jetstream, jetstreamManager } from '@nats-io/jetstream'
import { createFleet } from '../../device-sim/index.ts'
import { parseScenario } from '../../device-sim/scenario/index.ts'
import { startClusterIngest } from '../../ledger/cluster/index.ts'
import { deviceSubject, ingestPartitionOf } from '../../ledger/cluster/index.ts'
import { natsAuthorizationConf } from '../../broker/nats-auth.ts'
import { NATS_SERVER, startNatsCluster } from '../../broker/test/nats-process.ts'
import { figure, repeat, StageFailed, type Figure } from './figures.ts'

const START = Date.parse('2026-01-01T00:00:00Z')
const INGEST = { user: 'bench-ingest', password: 'bench ingest password' }
const PUBLISHER = { user: 'bench-publisher', password: 'bench publisher password' }

export async function clusterPartitions(
  o: { devices: number; perDevice: number; runs: number; partitions: number[] },
  singleProcessRate: number,
): Promise<Figure[]> {
  if (!NATS_SERVER) throw new StageFailed('cluster', "nats-server not found (install Debian's nats-server package)")
  const dir = await mkdtemp(join(tmpdir(), 'coldproof-bench-cluster-'))
  const teardowns: (() => unknown)[] = []
  try {
    const ids = Array.from({ length: o.devices }, (_, i) => `bench-c-${i}`)
    const payloads: { id: string; p: Uint8Array }[] = []
    const fleet = createFleet({
      scenario: parseScenario({
        name: 'bench-cluster',
        seed: 3,
        startAt: new Date(START).toISOString(),
        shipments: [
          {
            shipmentId: 'bench-c',
            product: 'bench',
            storageClass: '2-8',
            devices: ids.map((deviceId) => ({ deviceId })),
            legs: [
              {
                durationMin: (o.perDevice - 1) * 5,
                model: 'reefer',
                setpointC: 5,
                doorOpeningsPerDay: 0,
                ambient: { meanC: 20, amplitudeC: 0 },
              },
            ],
          },
        ],
      }),
      startMs: START,
      acceleration: 1,
      log: () => {},
      onReading: (id, p) => payloads.push({ id, p }),
    })
    fleet.runUntil(START + o.perDevice * 5 * 60_000)
    // The publisher may publish readings subjects (devices cannot publish for each other; the ingest cannot publish readings).
    const auth = natsAuthorizationConf({ secret: new Uint8Array(32), devices: [], ingest: INGEST }).replace(
      'users: [',
      `users: [${JSON.stringify({ user: PUBLISHER.user, password: PUBLISHER.password, permissions: { publish: { allow: ['coldproof.v1.>', '$JS.API.>'] }, subscribe: { allow: ['_INBOX.>'] } } })},`,
    )
    const cluster = await startNatsCluster({ teardown: (f) => teardowns.push(f) }, dir, auth, 3)
    await cluster.waitForJetStream({ user: INGEST.user, pass: INGEST.password })
    const nc = await connect({ servers: cluster.natsUrls, user: PUBLISHER.user, pass: PUBLISHER.password })
    teardowns.push(() => nc.close())
    const js = jetstream(nc)
    const out: Figure[] = []
    for (const p of o.partitions) {
      const values = await repeat(o.runs, async (run) => {
        const ingest = await startClusterIngest({
          servers: cluster.natsUrls,
          user: INGEST.user,
          pass: INGEST.password,
          dataDir: join(dir, `p${p}-run${run}`),
          partitions: p,
          replicas: 3,
        })
        try {
          for (const rec of fleet.provisioningRecords()) await ingest.registerDevice({ ...rec, by: 'bench' })
          const committed = () =>
            ids.reduce((n, id) => n + (ingest.workers[ingestPartitionOf(id, p)].ledger.device(id)?.contiguous ?? 0), 0)
          const start = performance.now()
          let window: Promise<unknown>[] = []
          for (const { id, p: payload } of payloads) {
            window.push(js.publish(deviceSubject(id, 'readings'), payload))
            if (window.length >= 256) {
              await Promise.all(window)
              window = []
            }
          }
          await Promise.all(window)
          for (
            let last = committed(), moved = performance.now();
            committed() < payloads.length;
            await new Promise((r) => setTimeout(r, 5))
          ) {
            if (committed() !== last) {
              last = committed()
              moved = performance.now()
            }
            if (performance.now() - moved > 60_000)
              throw new StageFailed(
                'cluster',
                `${payloads.length - committed()} readings were never committed with ${p} partitions`,
              )
          }
          return (payloads.length * 1000) / (performance.now() - start)
        } finally {
          await ingest.close()
          // The next layout claims the same subjects: drop this one's streams.
          const jsm = await jetstreamManager(nc)
          for await (const s of jsm.streams.list())
            if (s.config.name.startsWith('COLDPROOF_READINGS_')) await jsm.streams.delete(s.config.name)
        }
      })
      const f = figure(
        `cluster.partitions_${p}`,
        'cluster',
        `cluster mode, 3 NATS nodes R3, ${p} partition${p > 1 ? 's' : ''}, ${o.devices} devices x ${o.perDevice}`,
        'readings/s',
        values,
        'higher',
      )
      f.note = `x${(f.median / singleProcessRate).toFixed(2)} of the single-process pipeline at saturation in this run; JetStream publishes over one NATS connection`
      out.push(f)
    }
    return out
  } finally {
    for (const f of teardowns.reverse()) await f()
    await rm(dir, { recursive: true, force: true })
  }
}
