/**
 * The demo's receiving site: once every logger of a shipment has taken its
 * last sample and the ledger has receipted it all, the shipment is closed at
 * the device time of the last sample — and its evidence bundle then verifies
 * end to end against the pinned ledger key.
 */
import t from 'tap'
import { mkdtemp, rm, writeFile, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startSystem } from '../system.ts'
import { verifyBundle } from '../../dashboard/evidence/verify.ts'
import { createBundleBuilder } from '../../dashboard/evidence/collect.ts'
import { decodeReading, fromBase64 } from '../../ledger/protocol/index.ts'

t.test('a delivered shipment is closed at its last sample and its bundle verifies', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'coldproof-closer-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const scenario = {
    name: 'closer-test',
    acceleration: 100_000,
    shipments: [
      {
        shipmentId: 'closer-1',
        product: 'Test vials',
        storageClass: '2-8',
        devices: [{ deviceId: 'closer-dev-1' }],
        legs: [{ durationMin: 120, model: 'reefer', setpointC: 5, ambient: { meanC: 15 } }],
      },
    ],
  }
  const file = join(dir, 'scenario.json')
  await writeFile(file, JSON.stringify(scenario))
  const sys = await startSystem({ dataDir: join(dir, 'data'), httpPort: 0, mqttPort: 0, scenario: file, quiet: true })
  t.teardown(() => sys.close())

  const deadline = Date.now() + 45_000
  while (sys.ledger.shipment('closer-1')?.closedAt === undefined && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 200))
  const state = sys.ledger.shipment('closer-1')!
  t.ok(state.closedAt !== undefined, 'the shipment was closed')
  t.equal(state.closedBy, 'demo-receiving-site')

  const readings = (await sys.ledger.readingsByShipment('closer-1')).map(
    (e) => decodeReading(fromBase64(e.entry.body.payload)).fields,
  )
  const status = sys.fleet!.status()[0]
  t.equal(readings.length, status.seq, `every sample is in the ledger (${readings.length})`)
  t.equal(status.buffered, 0, 'nothing left unreceipted in the logger')
  t.equal(
    state.closedAt,
    Math.max(...readings.map((r) => r.deviceTimeMs)),
    'closed at the device time of the last sample',
  )

  const { json } = await createBundleBuilder(sys.ledger)('closer-1')
  const key = (await readFile(join(dir, 'data', 'ledger', 'ledger.vkey'), 'utf8')).trim()
  const report = await verifyBundle(json, { trustedKey: key, engine: 'noble' })
  t.equal(report.verified, true, 'the bundle of the closed shipment verifies with the pinned key')
})
