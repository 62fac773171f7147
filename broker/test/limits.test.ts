/**
 * Size and rate limits: the offending client is disconnected with a clear
 * log line, and the broker keeps serving everyone else.
 */
import t from 'tap'
import net from 'node:net'
import { deviceTopic, readingsFilters } from '../../ledger/protocol/index.ts'
import {
  closed,
  collect,
  deviceOptions,
  endClient,
  ingestOptions,
  makeDevice,
  mustConnect,
  publish,
  startBroker,
  subscribe,
} from './support.ts'

t.test('oversized payloads: disconnected, logged, broker still serves others', async (t) => {
  const { url, registry, broker, log } = await startBroker(t, { maxPayloadBytes: 1024, maxPacketBytes: 2048 })
  const big = makeDevice('big-mouth'),
    good = makeDevice('good-one')
  registry.register(big.id, big.publicKey)
  registry.register(good.id, good.publicKey)
  const ingest = await mustConnect(url, ingestOptions())
  await subscribe(ingest, readingsFilters())

  // over maxPayloadBytes but under maxPacketBytes: checked in authorizePublish
  const c1 = await mustConnect(url, deviceOptions(big))
  const gone1 = closed(c1)
  c1.publish(deviceTopic(big.id, 'readings'), Buffer.alloc(1500, 1), { qos: 1 })
  await gone1
  t.equal(broker.metrics().refusals.payload_too_large, 1)
  t.match(log.text(), /payload of 1500 bytes .* exceeds 1024/)

  // 1 MiB: refused from the packet header, before the body is buffered
  const c2 = await mustConnect(url, deviceOptions(big))
  const gone2 = closed(c2)
  c2.publish(deviceTopic(big.id, 'readings'), Buffer.alloc(1024 * 1024, 2), { qos: 1 })
  await gone2
  t.equal(broker.metrics().refusals.packet_too_large, 1)
  t.match(log.text(), /packet header announces \d+ bytes, limit 2048/)

  // a raw socket announcing 200 MB and sending little: closed without waiting for the body
  const raw = net.connect(Number(new URL(url).port), '127.0.0.1')
  await new Promise<void>((r) => raw.once('connect', () => r()))
  const rawClosed = new Promise<void>((r) => raw.once('close', () => r()))
  raw.write(Buffer.from([0x10, 0xff, 0xff, 0xff, 0x5f])) // CONNECT, remaining length ~200 MB
  await rawClosed
  t.equal(broker.metrics().refusals.packet_too_large, 2, 'an unauthenticated giant is refused too')

  // any packet type: a SUBSCRIBE of 3000 bytes (likely whole within one socket read)
  const c4 = await mustConnect(url, deviceOptions(big))
  const gone4 = closed(c4)
  c4.subscribe(`coldproof/v1/${'x'.repeat(3000)}`, { qos: 1 }, () => {})
  await gone4
  t.equal(broker.metrics().refusals.packet_too_large, 3, 'an oversized SUBSCRIBE too')
  await endClient(c4)

  // the broker is still up and serving
  const c3 = await mustConnect(url, deviceOptions(good))
  const got = collect(ingest, 1)
  const reading = good.readings(1)[0]
  await publish(c3, deviceTopic(good.id, 'readings'), reading)
  t.same(Buffer.from((await got.done)[0].payload), Buffer.from(reading), 'another device still delivers')
  await endClient(c1)
  await endClient(c2)
  await endClient(c3)
  await endClient(ingest)
})

t.test('rate limit: throttles first, disconnects a client that keeps flooding', async (t) => {
  // A frozen broker clock: the bucket never refills on its own, so what is
  // held and what is refused does not depend on how fast this machine runs.
  const frozen = Date.now()
  const { url, registry, broker, log } = await startBroker(t, {
    clock: () => frozen,
    rateLimit: { perSecond: 20, burst: 5, maxDelayMs: 200 },
  })
  const dev = makeDevice('chatty')
  registry.register(dev.id, dev.publicKey)
  const ingest = await mustConnect(url, ingestOptions())
  await subscribe(ingest, readingsFilters())

  // Within burst + the throttle allowance: everything arrives, some held back.
  const calm = await mustConnect(url, deviceOptions(dev))
  const readings = dev.readings(8)
  const got = collect(ingest, 8)
  await Promise.all(readings.map((r) => publish(calm, deviceTopic(dev.id, 'readings'), r)))
  t.equal((await got.done).length, 8, 'all 8 delivered')
  t.equal(broker.metrics().throttled, 3, 'the 3 publishes over the burst were held back, not refused')
  t.equal(broker.metrics().refusals.rate_limited, 0, 'nobody disconnected yet')
  t.equal(
    log.lines.filter((l) => /"event":"throttled"/.test(l)).length,
    1,
    'the rate-limit hit logged once for the connection',
  )
  await endClient(calm)

  // A flood far beyond what throttling absorbs: disconnected.
  const flood = await mustConnect(url, deviceOptions(dev))
  const gone = closed(flood)
  for (let i = 0; i < 200; i++) flood.publish(deviceTopic(dev.id, 'readings'), Buffer.from(readings[0]), { qos: 0 })
  await gone
  t.equal(broker.metrics().refusals.rate_limited, 1)
  t.match(log.text(), /"reason":"rate_limited"/)

  // the ingest is not rate limited and still connected
  t.ok(ingest.connected)
  await endClient(flood)
  await endClient(ingest)
})

t.test('rate limit: one bucket per device, so reconnecting in a loop does not refill it', async (t) => {
  // Frozen clock, no throttle allowance: the device may publish `burst` readings in all, however often it logs in.
  const frozen = Date.now()
  const burst = 5
  const { url, registry, broker } = await startBroker(t, {
    clock: () => frozen,
    rateLimit: { perSecond: 1, burst, maxDelayMs: 0 },
  })
  const dev = makeDevice('reconnector')
  registry.register(dev.id, dev.publicKey)
  const readings = dev.readings(3)
  let acked = 0,
    refusedAt = 0
  for (let round = 0; round < 8; round++) {
    const c = await mustConnect(url, deviceOptions(dev))
    const gone = closed(c)
    for (const r of readings) {
      // A PUBACK means the broker accepted the publish; a refused one closes the connection instead.
      const ok = await Promise.race([
        publish(c, deviceTopic(dev.id, 'readings'), r).then(() => true),
        gone.then(() => false),
      ])
      if (!ok) {
        refusedAt++
        break
      }
      acked++
    }
    await endClient(c)
  }
  t.equal(acked, burst, `${acked} publishes accepted over 8 logins: the bucket's ${burst}, not ${burst} per login`)
  t.equal(broker.metrics().refusals.rate_limited, refusedAt)
  t.ok(refusedAt >= 6, 'every later login is refused at its first publish')
})

t.test(
  'a device resending a large backlog at once is throttled, not disconnected (ARCHITECTURE.md decision 11)',
  async (t) => {
    // Real clock. While a socket read's publishes are held, aedes reads no more
    // of that socket, so the wait per read is at most (publishes per read) /
    // perSecond: about 350 readings of a 64 KiB read at 1000/s, well under
    // maxDelayMs. A slower machine only refills more tokens meanwhile.
    const { url, registry, broker } = await startBroker(t, {
      rateLimit: { perSecond: 1000, burst: 100, maxDelayMs: 2000 },
    })
    const dev = makeDevice('back-from-tunnel')
    registry.register(dev.id, dev.publicKey)
    const ingest = await mustConnect(url, ingestOptions())
    await subscribe(ingest, readingsFilters())
    const N = 2000
    const readings = dev.readings(N)
    const got = collect(ingest, N)
    const device = await mustConnect(url, deviceOptions(dev))
    await Promise.all(readings.map((r) => publish(device, deviceTopic(dev.id, 'readings'), r)))
    const msgs = await got.done
    t.equal(msgs.length, N, 'every reading delivered')
    t.ok(
      msgs.every((m, i) => Buffer.from(m.payload).equals(Buffer.from(readings[i]))),
      'in order',
    )
    t.ok(broker.metrics().throttled > 0, 'the backlog was throttled')
    t.equal(broker.metrics().refusals.rate_limited, 0, 'and never disconnected')
    t.ok(device.connected)
    await endClient(device)
    await endClient(ingest)
  },
)
