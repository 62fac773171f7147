/**
 * A registration takes effect live (issue 4: "a registration or revocation
 * takes effect without a restart"), seen from the device: a logger switched
 * on before it was provisioned is refused (unknown_device), keeps trying, and
 * once the ledger registers it, it connects and everything it measured in the
 * meantime reaches the ledger. A refused CONNACK must not make the device give
 * up for good (mqtt.js 5 stops reconnecting after one unless
 * reconnectOnConnackError is set).
 */
import t from 'tap'
import { join } from 'node:path'
import { createFleet } from '../../../device-sim/index.ts'
import { openLedger } from '../../../ledger/store/index.ts'
import { createIngest } from '../../../ledger/ingest/index.ts'
import {
  checkDeviceInLedger,
  embeddedBroker,
  INGEST_PASSWORD,
  INGEST_USER,
  producedCollector,
  settlesWithin,
  smallScenario,
  START,
  tempDir,
  waitFor,
} from './support.ts'

t.test('a device refused before its registration connects once registered, without a restart', async (t) => {
  const dir = await tempDir(t, 'registration')
  const ledger = await openLedger({ dir: join(dir, 'ledger') })
  t.teardown(() => ledger.close())
  const broker = await embeddedBroker(ledger)
  const { url } = await broker.listen()
  t.teardown(() => broker.close())
  const ingest = createIngest({ ledger, url, username: INGEST_USER, password: INGEST_PASSWORD })
  t.teardown(() => ingest.close())
  await ingest.start()

  const id = 'late-reg-1'
  const N = 60 / 5 + 1
  const produced = producedCollector()
  const fleet = createFleet({
    scenario: smallScenario('late-reg', [id], 60),
    dataDir: join(dir, 'devices'),
    startMs: START,
    acceleration: 12_000,
    mqtt: { url, connectBatchTimeoutMs: 300, mqttOptions: { reconnectPeriod: 100 } },
    log: () => {},
    onReading: produced.onReading,
  })
  t.teardown(() => settlesWithin(fleet.stop(), 5000))
  await fleet.start()
  await fleet.finished
  const device = fleet.devices[0]
  await waitFor(() => broker.metrics().refusals.unknown_device >= 1, 'the broker to refuse the unregistered device')
  t.notOk(device.status().connected, 'not connected while unregistered')
  t.equal(device.status().buffered, N, 'everything it measured waits in its buffer')

  await ledger.registerDevice({ ...fleet.provisioningRecords()[0], by: 'integration-test' })
  const connected = await waitFor(
    () => device.status().connected,
    'the device to connect after its registration',
    5000,
  ).then(
    () => true,
    () => false,
  )
  t.ok(
    connected,
    `the device connected once registered (refused ${broker.metrics().refusals.unknown_device} time(s) before)`,
  )
  if (connected) {
    await waitFor(
      () => ledger.device(id)?.contiguous === N && device.status().buffered === 0,
      'its buffered readings in the ledger and receipted',
    )
    const c = await checkDeviceInLedger(ledger, id, produced.of(id))
    t.ok(c.exact && c.linked && c.entries === N, `1..${N} once each, unbroken`)
  }
})
