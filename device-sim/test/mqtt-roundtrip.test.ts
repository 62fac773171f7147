/**
 * A real MQTT round trip: an aedes broker on a free port that checks each
 * device's signed login token with Node's crypto, a device fleet publishing
 * over real sockets, and a stand-in "ledger" client that verifies every
 * payload, publishes receipts and resend requests, and watches the buffers.
 */
import t from 'tap'
import { createServer, type AddressInfo } from 'node:net'
import { existsSync } from 'node:fs'
import { verify as nodeVerify } from 'node:crypto'
import { Aedes } from 'aedes'
import mqtt from 'mqtt'
import {
  authSigningMessage,
  decodeAuthToken,
  decodeReading,
  deviceTopic,
  encodeReceipt,
  encodeResend,
  readingHash,
  readingsFilters,
  toHex,
  GENESIS_PREV_HASH,
} from '../../ledger/protocol/index.ts'
import { createFleet } from '../fleet.ts'
import { nodeKey, smallScenario, START, verifyWithNode } from './helpers.ts'

const AUDIENCE = 'coldproof-test'

async function until(cond: () => boolean, what: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

t.test('devices publish signed readings over MQTT; receipts prune, resend re-sends', async (t) => {
  const dir = t.testdir()
  const scenario = smallScenario({ devices: 2, durationMin: 120 })
  // Register keys first (as start-up code does), so the broker can check logins.
  const records = createFleet({ scenario, dataDir: dir, startMs: START, log: () => {} }).provisioningRecords()
  const keys = new Map(records.map((r) => [r.deviceId, nodeKey(r.publicKey)]))

  const logins: string[] = []
  const broker = await Aedes.createBroker({
    authenticate(client, username, password, done) {
      if (username === 'ledger') return done(null, true)
      const key = username ? keys.get(username) : undefined
      let ok = false
      try {
        const tok = decodeAuthToken(password?.toString('utf8') ?? '')
        ok =
          !!key &&
          client.id === username &&
          nodeVerify(null, authSigningMessage(username as string, AUDIENCE, tok.body), key, tok.signature)
      } catch {
        ok = false
      }
      if (ok) logins.push(username as string)
      done(null, ok)
    },
  })
  const server = createServer(broker.handle)
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`
  t.teardown(async () => {
    await new Promise<void>((r) => broker.close(() => r()))
    await new Promise<void>((r) => server.close(() => r()))
  })

  const ledger = await mqtt.connectAsync(url, {
    clientId: 'ledger',
    username: 'ledger',
    clean: true,
    protocolVersion: 4,
  })
  t.teardown(() => ledger.endAsync())
  const got = new Map<string, Uint8Array[]>()
  ledger.on('message', (topic, payload) => {
    const p = new Uint8Array(payload)
    const f = decodeReading(p).fields
    t.equal(topic, deviceTopic(f.deviceId, 'readings'), "on the device's own readings topic")
    got.set(f.deviceId, [...(got.get(f.deviceId) ?? []), p])
  })
  await ledger.subscribeAsync(readingsFilters(), { qos: 1 })

  // 5 simulated minutes every 25 ms of wall-clock time.
  const fleet = createFleet({
    scenario,
    dataDir: dir,
    startMs: START,
    acceleration: 12_000,
    mqtt: { url, audience: AUDIENCE },
    log: () => {},
  })
  t.teardown(() => fleet.stop())
  await fleet.start()
  await fleet.finished
  await until(() => [...got.values()].every((ps) => ps.length >= 25) && got.size === 2, 'all 50 readings')
  t.same([...new Set(logins)].sort(), ['dev-1', 'dev-2'], 'both devices logged in with a valid signed token')

  for (const [id, ps] of got) {
    const uniq = new Map(ps.map((p) => [decodeReading(p).fields.seq, p]))
    t.equal(uniq.size, 25, `${id}: seq 1..25 received`)
    let prev = GENESIS_PREV_HASH
    let ok = true
    for (let s = 1; s <= 25; s++) {
      const p = uniq.get(s) as Uint8Array
      ok &&=
        verifyWithNode(p, keys.get(id) as ReturnType<typeof nodeKey>) &&
        toHex(decodeReading(p).fields.prevHash) === toHex(prev)
      prev = readingHash(p)
    }
    t.ok(ok, `${id}: every signature verifies with Node crypto and the chain links`)
  }

  const run = new URL('../../ledger/protocol/independent/run-python.ts', import.meta.url)
  if (existsSync(run)) {
    const { verifyWithPython, pythonAvailable } = (await import(
      run.href
    )) as typeof import('../../ledger/protocol/independent/run-python.ts')
    if (await pythonAvailable()) {
      const ordered = [...got.values()].flatMap((ps) =>
        [...new Map(ps.map((p) => [decodeReading(p).fields.seq, p])).entries()]
          .sort((a, b) => a[0] - b[0])
          .map(([, p]) => p),
      )
      const res = await verifyWithPython(Object.fromEntries(records.map((r) => [r.deviceId, r.publicKey])), ordered)
      t.equal(res.results.length, 50)
      t.ok(
        res.results.every((r) => r.ok && r.signatureValid === true && r.chain?.status === 'ok'),
        'the independent Python verifier accepts all 50 readings and their chains',
      )
    } else t.comment('python3 not available: independent cross-check skipped')
  }

  const d1 = fleet.devices.find((d) => d.deviceId === 'dev-1')!
  t.equal(d1.status().buffered, 25, 'nothing receipted yet: all 25 buffered')
  t.ok(d1.status().connected)
  const p20 = [...got.get('dev-1')!].find((p) => decodeReading(p).fields.seq === 20)!
  await ledger.publishAsync(
    deviceTopic('dev-1', 'receipt'),
    Buffer.from(encodeReceipt({ seq: 20, hash: readingHash(p20) })),
    { qos: 1 },
  )
  await until(() => d1.status().buffered === 5, "the receipt to prune dev-1's buffer")
  t.equal(d1.status().receiptedSeq, 20, 'receipt pruned seq 1..20')

  const before = got.get('dev-1')!.length
  await ledger.publishAsync(deviceTopic('dev-1', 'resend'), Buffer.from(encodeResend({ from: 22, to: 24 })), { qos: 1 })
  await until(() => got.get('dev-1')!.length >= before + 3, 'the resent range')
  t.same(
    got
      .get('dev-1')!
      .slice(before)
      .map((p) => decodeReading(p).fields.seq),
    [22, 23, 24],
    'resend sent 22..24 again',
  )
  t.equal(fleet.devices.find((d) => d.deviceId === 'dev-2')!.status().buffered, 25, 'the other device is unaffected')
})

t.test('works against a broker without authentication, and resends the buffer on reconnect', async (t) => {
  const dir = t.testdir()
  const scenario = smallScenario({ devices: 1, durationMin: 60 })
  const broker = await Aedes.createBroker()
  const server = createServer(broker.handle)
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`
  t.teardown(async () => {
    await new Promise<void>((r) => broker.close(() => r()))
    await new Promise<void>((r) => server.close(() => r()))
  })
  // First run with no broker reachable is simulated by running samples before connecting.
  const offline = createFleet({ scenario, dataDir: dir, startMs: START, log: () => {} })
  offline.runUntil(START + 30 * 60_000)
  await offline.stop()

  const seen: number[] = []
  const ledger = await mqtt.connectAsync(url, { clientId: 'ledger', clean: true })
  t.teardown(() => ledger.endAsync())
  ledger.on('message', (_topic, payload) => seen.push(decodeReading(new Uint8Array(payload)).fields.seq))
  await ledger.subscribeAsync(readingsFilters(), { qos: 1 })
  const fleet = createFleet({
    scenario,
    dataDir: dir,
    startMs: START,
    acceleration: 12_000,
    mqtt: { url },
    log: () => {},
  })
  t.teardown(() => fleet.stop())
  await fleet.start()
  await fleet.finished
  await until(() => seen.length >= 13, '13 readings')
  t.same(seen.slice(0, 7), [1, 2, 3, 4, 5, 6, 7], 'the 7 readings buffered offline go first, in order')
  t.same(seen.slice(7, 13), [8, 9, 10, 11, 12, 13], 'then the live ones')
})

t.test(
  'a connectivity-loss window really disconnects; the readings taken offline arrive after it, in order',
  async (t) => {
    const dir = t.testdir()
    const scenario = smallScenario({
      devices: 1,
      durationMin: 90,
      faults: { connectivityLoss: [{ fromMin: 20, toMin: 50 }] },
    })
    const broker = await Aedes.createBroker()
    const disconnects: string[] = []
    broker.on('clientDisconnect', (c) => {
      if (c.id !== 'ledger') disconnects.push(c.id)
    })
    const server = createServer(broker.handle)
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`
    t.teardown(async () => {
      await new Promise<void>((r) => broker.close(() => r()))
      await new Promise<void>((r) => server.close(() => r()))
    })
    const seen: number[] = []
    const ledger = await mqtt.connectAsync(url, { clientId: 'ledger', clean: true })
    t.teardown(() => ledger.endAsync())
    ledger.on('message', (_topic, payload) => seen.push(decodeReading(new Uint8Array(payload)).fields.seq))
    await ledger.subscribeAsync(readingsFilters(), { qos: 1 })
    // 5 simulated minutes every 100 ms: slow enough for the reconnect to happen mid-run.
    const fleet = createFleet({
      scenario,
      dataDir: dir,
      startMs: START,
      acceleration: 3000,
      mqtt: { url },
      log: () => {},
    })
    t.teardown(() => fleet.stop())
    await fleet.start()
    await fleet.finished
    await until(() => new Set(seen).size >= 19, 'all 19 readings')
    t.ok(disconnects.includes('dev-1'), 'the device dropped its MQTT connection during the window')
    const firstOffline = seen.indexOf(5) // minute 20 is seq 5
    t.ok(firstOffline > 0, 'readings 5.. were sent')
    t.same(seen.slice(0, 4), [1, 2, 3, 4], 'before the window: live')
    t.same(
      [...new Set(seen)].sort((a, b) => a - b),
      Array.from({ length: 19 }, (_, i) => i + 1),
      'nothing lost',
    )
    const order = seen.filter((s, i) => seen.indexOf(s) === i)
    t.same(
      order,
      [...order].sort((a, b) => a - b),
      'first arrivals in sequence order',
    )
  },
)
