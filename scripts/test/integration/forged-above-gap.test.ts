/**
 * A forged reading above a gap cannot block a device's chain (issue 13, "Chains
 * a gap cannot block"): with the device's own key (a leaked key, faulty
 * firmware), a reading whose seq jumps ahead of the chain and whose prevHash is
 * made up reaches the ingest first. It is held, not chained and not receipted;
 * the genuine readings of a real device-sim device fill the gap and are
 * chained; the forged one is quarantined and, once the genuine reading of its
 * seq is chained, logged as a fork; the receipt advances and the device's
 * buffer drains. Real embedded broker, real ingest, ledger in a temp dir.
 */
import t from 'tap'
import { randomBytes } from 'node:crypto'
import mqtt from 'mqtt'
import {
  createFleet,
  memoryIdentity,
  deviceAuthToken,
  signRecord,
  DEFAULT_AUDIENCE,
} from '../../../device-sim/index.ts'
import {
  deviceTopic,
  encodeRecord,
  equalBytes,
  fromBase64,
  readingHash,
  toHex,
} from '../../../ledger/protocol/index.ts'
import {
  checkDeviceInLedger,
  describeFailure,
  fsck,
  ledgerStack,
  producedCollector,
  registerFleet,
  smallScenario,
  START,
  tempDir,
  waitFor,
} from './support.ts'

t.test('a forged reading above a gap is held, the genuine readings chain past it, the buffer drains', async (t) => {
  const id = 'forge-1'
  const { ledger, url, ledgerDir, shutdown } = await ledgerStack(t, await tempDir(t, 'forged'))

  const identity = memoryIdentity(id, new Uint8Array(randomBytes(32)))
  const produced = producedCollector()
  const N = 60 / 5 + 1
  const fleet = createFleet({
    scenario: smallScenario('forged', [id], 60),
    startMs: START,
    acceleration: 12_000,
    identity: () => identity,
    mqtt: { url, mqttOptions: { reconnectPeriod: 100 } },
    log: () => {},
    onReading: produced.onReading,
  })
  t.teardown(() => fleet.stop())
  await registerFleet(ledger, fleet)

  // The forger logs in with the device's key before the device starts and publishes seq 3 over a made-up prevHash.
  const forged = signRecord(
    encodeRecord({
      deviceId: id,
      seq: 3,
      deviceTimeMs: START + 10 * 60_000,
      tempCentiC: 450,
      prevHash: new Uint8Array(32).fill(0x5a),
    }),
    identity.secretKey,
  )
  const forger = await mqtt.connectAsync(url, {
    clientId: id,
    username: id,
    password: deviceAuthToken(id, identity.secretKey, DEFAULT_AUDIENCE),
    protocolVersion: 4,
    reconnectPeriod: 0,
  })
  await forger.publishAsync(deviceTopic(id, 'readings'), Buffer.from(forged), { qos: 1 })
  await forger.endAsync()
  await waitFor(() => ledger.device(id)?.highest === 3, 'the forged seq 3 to be held')
  t.match(
    ledger.device(id),
    { contiguous: 0, highest: 3, gaps: [[1, 2]] },
    'held above the gap 1..2, the head stays at 0',
  )
  t.equal((await ledger.readingsByDevice(id)).length, 0, 'nothing of it is in the log')

  await fleet.start()
  await fleet.finished
  t.equal(produced.of(id).length, N, `the device produced ${N} readings`)
  const device = fleet.devices[0]
  await waitFor(() => ledger.device(id)?.contiguous === N, `the ledger to chain ${id} 1..${N}`)
  await waitFor(() => device.status().buffered === 0, 'the final receipt to empty the device buffer')
  t.match(device.status(), { buffered: 0, receiptedSeq: N })

  const c = await checkDeviceInLedger(ledger, id, produced.of(id))
  t.equal(c.entries, N, 'every genuine reading chained once')
  t.ok(c.exact && c.linked, 'the exact bytes the device signed, in an unbroken chain')
  const q = (await ledger.quarantined()).filter((r) => r.deviceId === id)
  t.match(q, [{ reason: 'ERR_HELD_UNLINKED', seq: 3 }], 'the forged reading is quarantined with its reason')
  t.ok(equalBytes(fromBase64(q[0].raw), forged))
  const forks = await ledger.entriesByType('reading.fork')
  t.equal(forks.length, 1, 'the forged and the genuine seq 3 are logged as a fork')
  t.same(
    new Set(forks[0].entry.body.payloads.map((b) => toHex(readingHash(fromBase64(b))))),
    new Set([forged, produced.of(id)[2]].map((p) => toHex(readingHash(p)))),
  )
  t.match(
    ledger.device(id),
    { compromised: { seq: 3, forkIndex: forks[0].entry.index } },
    'the device is flagged compromised',
  )

  await fleet.stop()
  await shutdown()
  const report = await fsck(ledgerDir)
  t.ok(report.ok, `checkLedger accepts the ledger${describeFailure(report)}`)
  t.same(
    report.forks.map((f) => [f.deviceId, f.seq]),
    [[id, 3]],
  )
})
