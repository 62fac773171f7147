/**
 * QoS 1 to the ingest's persistent session (clean = false): what is published
 * while it is away is delivered when it returns, up to the per-session queue
 * cap; beyond the cap the newest messages are dropped and counted (the
 * device's store-and-forward and the ledger's resend recover them,
 * ARCHITECTURE.md decision 5).
 */
import t from 'tap'
import { deviceTopic, readingsFilters } from '../../ledger/protocol/index.ts'
import {
  connectCollecting,
  deviceOptions,
  endClient,
  ingestOptions,
  makeDevice,
  mustConnect,
  publish,
  startBroker,
  subscribe,
  until,
} from './support.ts'

t.test('queued QoS 1 delivery to a reconnecting persistent subscriber', async (t) => {
  const { url, registry } = await startBroker(t)
  const dev = makeDevice('reefer-1')
  registry.register(dev.id, dev.publicKey)
  const first = await mustConnect(url, ingestOptions({ clean: false }))
  t.same(await subscribe(first, readingsFilters()), [1])
  await endClient(first)

  const device = await mustConnect(url, deviceOptions(dev))
  const readings = dev.readings(20)
  for (const r of readings) await publish(device, deviceTopic(dev.id, 'readings'), r)

  const back = connectCollecting(url, ingestOptions({ clean: false }))
  t.equal(await back.connected, true, 'session present')
  await until(() => back.got.length >= 20)
  t.same(
    back.got.map((b) => b.toString('hex')),
    readings.map((r) => Buffer.from(r).toString('hex')),
    'all 20, in order, byte for byte',
  )
  await endClient(device)
  await endClient(back.client)
})

t.test('offline queue cap: newest dropped, counted, logged; older ones kept', async (t) => {
  const { url, registry, broker, log } = await startBroker(t, { maxQueuedMessages: 5 })
  const dev = makeDevice('reefer-2')
  registry.register(dev.id, dev.publicKey)
  const first = await mustConnect(url, ingestOptions({ clean: false }))
  await subscribe(first, readingsFilters())
  await endClient(first)

  const device = await mustConnect(url, deviceOptions(dev))
  const readings = dev.readings(10)
  for (const r of readings.slice(0, 8)) await publish(device, deviceTopic(dev.id, 'readings'), r)
  t.equal(broker.metrics().offlineQueueDropped, 3, '3 over the cap of 5')
  t.match(log.text(), /"event":"offline_queue_full"/)

  const back = connectCollecting(url, ingestOptions({ clean: false }))
  await back.connected
  await until(() => back.got.length >= 5)
  t.same(
    back.got.map((b) => b.toString('hex')),
    readings.slice(0, 5).map((r) => Buffer.from(r).toString('hex')),
    'the oldest 5 are delivered',
  )
  // once acknowledged the queue has room again: live delivery continues
  for (const r of readings.slice(8)) await publish(device, deviceTopic(dev.id, 'readings'), r)
  await until(() => back.got.length >= 7)
  t.same(
    back.got.slice(5).map((b) => b.toString('hex')),
    readings.slice(8).map((r) => Buffer.from(r).toString('hex')),
  )
  t.equal(broker.metrics().offlineQueueDropped, 3, 'nothing more dropped')
  await endClient(device)
  await endClient(back.client)
})

t.test('a device reconnecting with clean = false keeps its receipt subscription (re-checked by the ACL)', async (t) => {
  const { url, registry } = await startBroker(t)
  const dev = makeDevice('reefer-3')
  registry.register(dev.id, dev.publicKey)
  const d1 = await mustConnect(url, deviceOptions(dev, { clean: false }))
  await subscribe(d1, [deviceTopic(dev.id, 'resend')])
  await endClient(d1)
  const ingest = await mustConnect(url, ingestOptions())
  await publish(ingest, deviceTopic(dev.id, 'resend'), Uint8Array.of(1, 0, 0, 0, 1, 0, 0, 0, 2))
  const d2 = connectCollecting(url, deviceOptions(dev, { clean: false }))
  t.equal(await d2.connected, true)
  await until(() => d2.got.length >= 1)
  t.same([...d2.got[0]], [1, 0, 0, 0, 1, 0, 0, 0, 2])
  await endClient(ingest)
  await endClient(d2.client)
})
