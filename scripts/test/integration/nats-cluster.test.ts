/**
 * The cluster mode on one machine (docs/SCALING.md, issue 15): three
 * nats-server nodes on loopback ports, two ingest partitions over R3 streams,
 * the root log, and a device-sim fleet logging in over MQTT with per-device
 * NATS users. The fleet publishes before, across and after a SIGKILL of the
 * node every device and the ingest are connected to; the node is restarted.
 * Then nothing is lost or stored twice (every device's records against its
 * partition's ledger), every chain is intact, receipts came back over NATS
 * and emptied the device buffers, and the signed root checkpoint commits to
 * each partition's final checkpoint. A shipment whose two loggers live in
 * different partitions gets a partitioned evidence bundle that verifies under
 * the root key (and is refused with a partition left out).
 *
 * Timing-independent: the fleet's samples are taken by runUntil (simulated
 * time, no wall clock), and every wait is on a condition with a ceiling.
 * Skipped, with the reason, when the nats-server binary cannot be found.
 */
import t from 'tap'
import { join } from 'node:path'
import { readFileSync } from 'node:fs'
import { jetstreamManager } from '@nats-io/jetstream'
import { createFleet } from '../../../device-sim/index.ts'
import { startClusterIngest } from '../../../ledger/cluster/index.ts'
import { verifyRootLog } from '../../../ledger/cluster/index.ts'
import { readingOfEntry } from '../../../ledger/tlog/index.ts'
import { buildPartitionedBundle } from '../../../dashboard/evidence/build.ts'
import { collectPartitionedBundleInputs } from '../../../dashboard/evidence/collect-partitioned.ts'
import { verifyBundle } from '../../../dashboard/evidence/verify.ts'
import { BUILTIN_PROFILES } from '../../../dashboard/compliance/index.ts'
import { ingestPartitionOf, streamName } from '../../../ledger/cluster/index.ts'
import { deviceNatsPassword, natsAuthorizationConf } from '../../../broker/nats-auth.ts'
import { NATS_SERVER, startNatsCluster } from '../../../broker/test/nats-process.ts'
import {
  checkDeviceInLedger,
  describeFailure,
  fsck,
  producedCollector,
  smallScenario,
  START,
  tempDir,
  waitFor,
} from './support.ts'

const PARTITIONS = 2
const MIN = 60_000

t.test(
  'three NATS nodes, two partitions, a node killed mid-run',
  { skip: NATS_SERVER ? false : "nats-server not found (install Debian's nats-server; .ci/run does)" },
  async (t) => {
    const dir = await tempDir(t, 'nats-cluster')
    const secret = new Uint8Array(32).fill(42)
    const ingestUser = { user: 'coldproof-ingest', pass: 'cluster-test ingest password' }

    // Three loggers per ingest partition.
    const ids: string[] = []
    for (let i = 0; ids.length < 3 * PARTITIONS; i++) {
      const id = `nc-probe-${i}`
      if (ids.filter((x) => ingestPartitionOf(x, PARTITIONS) === ingestPartitionOf(id, PARTITIONS)).length < 3)
        ids.push(id)
    }
    const cluster = await startNatsCluster(
      t,
      dir,
      natsAuthorizationConf({
        secret,
        devices: ids.map((deviceId) => ({ deviceId, revoked: false })),
        ingest: { user: ingestUser.user, password: ingestUser.pass },
      }),
    )
    await cluster.waitForJetStream(ingestUser)
    const [n1] = cluster.nodes

    const ingest = await startClusterIngest({
      servers: cluster.natsUrls,
      user: ingestUser.user,
      pass: ingestUser.pass,
      dataDir: join(dir, 'data'),
      partitions: PARTITIONS,
      replicas: 3,
      rootIntervalMs: 100,
      ingest: { gapCheckIntervalMs: 500 },
    })
    let ingestOpen = true
    t.teardown(async () => {
      if (ingestOpen) await ingest.close()
    })
    const ledgerOf = (id: string) => ingest.workers[ingestPartitionOf(id, PARTITIONS)].ledger

    const produced = producedCollector()
    // acceleration 1, a sample every 5 simulated minutes: the fleet's timer takes only the first
    // sample; the test takes the rest with runUntil, so the phases below do not depend on timing.
    const durationMin = 300
    const perDevice = durationMin / 5 + 1
    const fleet = createFleet({
      scenario: smallScenario('nats', ids, durationMin),
      dataDir: join(dir, 'devices'),
      startMs: START,
      acceleration: 1,
      receiptTimeoutMs: 2000,
      log: (level, msg) => {
        if (process.env.COLDPROOF_TEST_DEBUG) console.error(level, msg)
      },
      onReading: produced.onReading,
      mqtt: {
        url: cluster.mqttUrls[0],
        password: (id) => deviceNatsPassword(secret, id),
        reconnectMinMs: 200,
        reconnectMaxMs: 2000,
        // mqtt.js tries the nodes in turn on each reconnect; every device starts on n1, the node killed below.
        mqttOptions: {
          servers: cluster.mqttUrls.map((u) => ({
            host: '127.0.0.1',
            port: Number(new URL(u).port),
            protocol: 'mqtt' as const,
          })),
        },
      },
    })
    t.teardown(() => fleet.stop())
    for (const rec of fleet.provisioningRecords()) await ingest.registerDevice({ ...rec, by: 'integration-test' })
    // A shipment whose two loggers live in different partitions: its bundle is proven up to the root checkpoint at the end.
    const shipLoggers = [
      ids[0],
      ids.find((id) => ingestPartitionOf(id, PARTITIONS) !== ingestPartitionOf(ids[0], PARTITIONS))!,
    ]
    await ingest.createShipment({
      shipmentId: 'NC-SHIP-1',
      product: 'test vaccine (2-8 °C)',
      route: { from: 'a', to: 'b' },
      devices: shipLoggers,
      profile: BUILTIN_PROFILES['refrigerated-2-8'],
      startAt: START,
      by: 'integration-test',
    })
    await fleet.start()
    t.ok(
      fleet.devices.every((d) => d.status().connected),
      'every device logged in over MQTT with its NATS user',
    )

    const committed = () => ids.reduce((n, id) => n + (ledgerOf(id).device(id)?.contiguous ?? 0), 0)
    // Before: a third of the run, committed.
    fleet.runUntil(START + (durationMin / 3) * MIN)
    const before = produced.total()
    await waitFor(() => committed() >= before, `the first ${before} readings to be committed`)

    // Across: a burst in flight, then the node holding every device and the ingest's connection dies.
    fleet.runUntil(START + (durationMin / 2) * MIN)
    const killedAt = Date.now()
    await n1.kill()
    t.notOk(n1.running, 'n1 killed (SIGKILL) with readings in flight')

    // After: the rest of the run while n1 is down, in steps, each step taken once every device is back.
    for (let step = 1; step <= 5; step++) {
      await waitFor(
        () => fleet.devices.every((d) => d.status().connected),
        'every device to reconnect to a surviving node',
      ).catch((e) => {
        // Diagnosis: what the surviving nodes said about MQTT connections.
        for (const n of cluster.nodes.slice(1))
          t.comment(
            `${n.name}:\n${readFileSync(join(dir, `${n.name}.log`), 'utf8')
              .split('\n')
              .filter((l) => /MQTT|mqtt|JetStream|WRN/.test(l) && !/route/.test(l))
              .slice(-15)
              .join('\n')}`,
          )
        throw e
      })
      fleet.runUntil(START + (durationMin / 2 + (durationMin / 2) * (step / 5)) * MIN)
    }
    t.equal(produced.total(), ids.length * perDevice, `the fleet produced ${perDevice} readings per device`)
    await waitFor(() => committed() === ids.length * perDevice, 'every reading to be committed with n1 down', 90_000)
    // Figures for docs/SCALING.md, never asserted.
    t.comment(
      `n1 killed: every reading committed ${Date.now() - killedAt} ms after the kill (${ids.length * perDevice} readings)`,
    )

    // The node comes back and catches up with its streams.
    await n1.restart()
    const jsm = await jetstreamManager(ingest.nc)
    for (let k = 0; k < PARTITIONS; k++) {
      await waitFor(async () => {
        const info = await jsm.streams.info(streamName(k, PARTITIONS)).catch(() => undefined)
        const peers = [
          info?.cluster?.leader,
          ...(info?.cluster?.replicas ?? []).filter((r) => r.current).map((r) => r.name),
        ]
        return peers.includes('n1') && peers.filter(Boolean).length === 3
      }, `stream of partition ${k} to have n1 back as a current replica`)
    }
    t.pass('n1 restarted and rejoined every partition stream')

    // Receipts came back over NATS (core publish to the MQTT subscription) and emptied every buffer.
    await waitFor(
      () => fleet.status().every((s) => s.buffered === 0),
      'every device buffer to be emptied by receipts',
      90_000,
    )
    for (const s of fleet.status())
      t.equal(s.receiptedSeq, perDevice, `${s.deviceId}: receipted up to its last reading`)

    for (const id of ids) {
      const c = await checkDeviceInLedger(ledgerOf(id), id, produced.of(id))
      t.ok(
        c.entries === perDevice && c.exact && c.linked,
        `${id}: partition ${ingestPartitionOf(id, PARTITIONS)} holds seq 1..${perDevice} once each, byte for byte, chained (${JSON.stringify(c)})`,
      )
    }
    for (const w of ingest.workers) {
      t.equal(w.ingest.stats().quarantined, 0, `partition ${w.partition}: nothing quarantined`)
      t.equal(
        w.ledger.devices().length,
        ids.filter((id) => ingestPartitionOf(id, PARTITIONS) === w.partition).length,
        `partition ${w.partition} holds only its own devices`,
      )
    }

    await fleet.stop()
    // The partitioned evidence bundle of the shipment: every reading → its partition checkpoint → the root checkpoint.
    // Closed at the earlier of the two loggers' last device times, so both chains cover the close.
    const lastTime = async (id: string) =>
      readingOfEntry((await ledgerOf(id).readingsByDevice(id, perDevice, perDevice))[0].entry).fields.deviceTimeMs
    await ingest.closeShipment({
      shipmentId: 'NC-SHIP-1',
      closedAt: Math.min(...(await Promise.all(shipLoggers.map(lastTime)))),
      by: 'integration-test',
    })
    for (const w of ingest.workers) await w.ledger.checkpoint()
    await ingest.tick()
    const bundle = buildPartitionedBundle(
      await collectPartitionedBundleInputs(
        ingest.workers.map((w) => w.ledger),
        ingest.root,
        'NC-SHIP-1',
      ),
    )
    t.same(
      bundle.bundle.partitions.map((p) => p.chains.map((c) => c.readings.length)),
      [[perDevice], [perDevice]],
      "the bundle holds both loggers' chains, one per partition",
    )
    const verified = await verifyBundle(bundle.json, { trustedKey: ingest.root.verifierKey })
    t.equal(
      verified.result,
      'VERIFIED',
      `the partitioned bundle verifies under the root key ${JSON.stringify(verified.checks.filter((c) => !c.ok).map((c) => c.failures.slice(0, 2)))}`,
    )
    const dropped = { ...bundle.bundle, partitions: bundle.bundle.partitions.slice(1) }
    t.ok(
      (await verifyBundle(JSON.stringify(dropped), { trustedKey: ingest.root.verifierKey })).checks.some((c) =>
        c.failures.some((f) => f.code === 'PARTITION_MISSING'),
      ),
      'with a partition left out it is refused',
    )
    const vkeys = new Map(ingest.workers.map((w) => [w.partition, w.ledger.verifierKey]))
    const finals = new Map(ingest.workers.map((w) => [w.partition, w.ledger]))
    await ingest.close()
    ingestOpen = false
    const root = ingest.root.latest()
    t.ok(root, 'a signed root checkpoint exists')
    const v = await verifyRootLog(root!.note, ingest.root.verifierKey, ingest.root.leaves(), vkeys)
    for (const [k, ledger] of finals) {
      const a = ledger.latestAnchor()!
      t.same(
        v.partitions.get(k),
        { size: a.size, rootHash: a.rootHash, note: a.note },
        `the root checkpoint commits to partition ${k}'s final checkpoint (size ${a.size})`,
      )
      const report = await fsck(ledger.dir)
      t.ok(report.ok, `partition ${k}: the integrity checker accepts its ledger${describeFailure(report)}`)
    }
    // A root that lies about a partition is refused.
    const forged = ingest.root.leaves().map((l, i) => (i === 0 ? { ...l, p: (l.p + 1) % PARTITIONS } : l))
    await t.rejects(
      verifyRootLog(root!.note, ingest.root.verifierKey, forged, vkeys),
      { code: 'ERR_LEDGER_CLUSTER_ROOT' },
      'leaves that do not match the root checkpoint are refused',
    )
  },
)
