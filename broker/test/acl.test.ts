/**
 * Topic ACL over real sockets: a device publishes only its own readings and
 * subscribes only its own receipt and resend topics; the ingest subscribes
 * readings and publishes receipts and resend requests. A refused publish
 * closes the connection (MQTT 3.1.1 has no negative PUBACK, [MQTT-3.3.5-2]);
 * a refused subscription gets SUBACK 0x80 and the connection stays.
 */
import t from 'tap'
import { deviceTopic, encodeReceipt, encodeResend, readingHash, readingsFilters } from '../../ledger/protocol/index.ts'
import {
  closed,
  collect,
  deviceOptions,
  endClient,
  ingestOptions,
  makeDevice,
  mustConnect,
  publish,
  sleep,
  startBroker,
  subscribe,
} from './support.ts'

t.test('device publishes its readings; ingest receives them; receipts and resend reach the device', async (t) => {
  const { url, registry, broker } = await startBroker(t)
  const dev = makeDevice('pallet-12')
  registry.register(dev.id, dev.publicKey)
  const ingest = await mustConnect(url, ingestOptions())
  t.same(await subscribe(ingest, readingsFilters()), [1], 'ingest may subscribe to all readings')
  const device = await mustConnect(url, deviceOptions(dev))
  t.same(
    await subscribe(device, [deviceTopic(dev.id, 'receipt'), deviceTopic(dev.id, 'resend')]),
    [1, 1],
    'device may subscribe its receipt and resend topics',
  )

  const readings = dev.readings(3)
  const got = collect(ingest, 3)
  for (const r of readings) await publish(device, deviceTopic(dev.id, 'readings'), r)
  const msgs = await got.done
  t.same(
    msgs.map((m) => m.topic),
    readings.map(() => deviceTopic(dev.id, 'readings')),
  )
  t.same(
    msgs.map((m) => Buffer.from(m.payload).toString('hex')),
    readings.map((r) => Buffer.from(r).toString('hex')),
    'bytes arrive exactly as signed',
  )

  const toDevice = collect(device, 2)
  await publish(ingest, deviceTopic(dev.id, 'receipt'), encodeReceipt({ seq: 3, hash: readingHash(readings[2]) }))
  await publish(ingest, deviceTopic(dev.id, 'resend'), encodeResend({ from: 1, to: 2 }))
  t.same(
    (await toDevice.done).map((m) => m.topic).sort(),
    [deviceTopic(dev.id, 'receipt'), deviceTopic(dev.id, 'resend')].sort(),
  )
  const m = broker.metrics()
  t.ok(m.messagesIn >= 5, `messages in counted (${m.messagesIn})`)
  t.ok(m.messagesOut >= 5, `messages out counted (${m.messagesOut})`)
  t.ok(m.bytesIn > 0 && m.bytesOut > 0, 'bytes counted')
  t.equal(m.connections.current, 2)
  await endClient(device)
  await endClient(ingest)
})

t.test('cross-device publish: refused, connection closed, nothing delivered', async (t) => {
  const { url, registry, broker, log } = await startBroker(t)
  const a = makeDevice('dev-a'),
    b = makeDevice('dev-b')
  registry.register(a.id, a.publicKey)
  registry.register(b.id, b.publicKey)
  const ingest = await mustConnect(url, ingestOptions())
  await subscribe(ingest, readingsFilters())
  const seen = collect(ingest, 1)
  const device = await mustConnect(url, deviceOptions(a))
  const gone = closed(device)
  device.publish(deviceTopic(b.id, 'readings'), Buffer.from(a.readings(1)[0]), { qos: 1 })
  await gone
  t.equal(broker.metrics().refusals.publish_denied, 1)
  t.match(log.text(), /"reason":"publish_denied"/)
  // a device may not forge receipts either
  const again = await mustConnect(url, deviceOptions(a))
  const gone2 = closed(again)
  again.publish(deviceTopic(a.id, 'receipt'), Buffer.from(encodeReceipt({ seq: 1, hash: new Uint8Array(32) })), {
    qos: 1,
  })
  await gone2
  t.equal(broker.metrics().refusals.publish_denied, 2)
  await sleep(50)
  t.equal(seen.got.length, 0, 'the ingest received nothing')
  await endClient(device)
  await endClient(again)
  await endClient(ingest)
})

t.test('subscriptions outside the ACL get 0x80 and the connection stays', async (t) => {
  const { url, registry, broker } = await startBroker(t)
  const a = makeDevice('dev-a'),
    b = makeDevice('dev-b')
  registry.register(a.id, a.publicKey)
  registry.register(b.id, b.publicKey)
  const device = await mustConnect(url, deviceOptions(a))
  const granted = await subscribe(device, [
    deviceTopic(b.id, 'receipt'), // another device's receipts
    readingsFilters()[0], // everyone's readings
    '#',
    deviceTopic(a.id, 'receipt'), // its own: allowed
  ])
  t.same(granted, [128, 128, 128, 1], 'refused filters 0x80, allowed one granted')
  t.equal(broker.metrics().refusals.subscribe_denied, 3)
  t.ok(device.connected, 'still connected')
  // still usable: a publish to its own readings goes through
  await publish(device, deviceTopic(a.id, 'readings'), a.readings(1)[0])
  t.ok(device.connected)

  const ingest = await mustConnect(url, ingestOptions())
  t.same(
    await subscribe(ingest, ['#', deviceTopic(a.id, 'receipt'), 'coldproof/v1/+/+/+']),
    [128, 128, 128],
    'ingest may not read receipts or everything',
  )
  t.same(await subscribe(ingest, [deviceTopic(a.id, 'readings')]), [1], 'ingest may read one device')
  await endClient(device)
  await endClient(ingest)
})

t.test('partitioned ingest: only its partitions', async (t) => {
  const { hashServicePassword } = await import('../service-accounts.ts')
  const { TEST_SCRYPT } = await import('./support.ts')
  const { url } = await startBroker(t, {
    serviceAccounts: {
      'ingest-p3': {
        role: 'ingest',
        partitions: [3],
        passwordHash: await hashServicePassword('partition three password', TEST_SCRYPT),
      },
    },
  })
  const c = await mustConnect(url, {
    clientId: 'ingest-p3-0',
    username: 'ingest-p3',
    password: 'partition three password',
  })
  t.same(await subscribe(c, [...readingsFilters([3]), ...readingsFilters([4]), ...readingsFilters()]), [1, 128, 128])
  await endClient(c)
})
