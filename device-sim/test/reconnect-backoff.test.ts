/**
 * Reconnect backoff (docs/PROTOCOL.md, "Reconnect"): a logger the broker
 * refuses (not registered yet, revoked) keeps trying, but each failed attempt
 * doubles the delay (with jitter) up to a cap, and an accepted connection
 * resets it. A real aedes broker on a free port refuses the device's CONNECT
 * until the test "registers" it; the assertions count attempts over a window
 * and check the delays the link chose, never how fast anything ran.
 */
import t from 'tap'
import { createServer, type AddressInfo } from 'node:net'
import { Aedes } from 'aedes'
import { createMqttLink, reconnectDelayMs } from '../mqtt-link.ts'
import { memoryIdentity } from '../identity.ts'

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))
async function until(cond: () => boolean, what: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await sleep(20)
  }
}

t.test('reconnectDelayMs: doubling from the minimum, capped, equal jitter', async (t) => {
  t.equal(
    reconnectDelayMs(0, 1000, 300_000, () => 0),
    500,
    'random 0: half the delay',
  )
  t.equal(
    reconnectDelayMs(0, 1000, 300_000, () => 0.999999),
    1000,
    'random ~1: the whole delay',
  )
  t.equal(
    reconnectDelayMs(3, 1000, 300_000, () => 0.999999),
    8000,
    '2^3 s after three failures',
  )
  t.equal(
    reconnectDelayMs(9, 1000, 300_000, () => 0.999999),
    300_000,
    'capped at 5 min (2^9 s would be 512 s)',
  )
  t.equal(
    reconnectDelayMs(1e6, 1000, 300_000, () => 0),
    150_000,
    'no overflow for huge failure counts',
  )
  for (let f = 0; f < 12; f++) {
    const d = Math.min(300_000, 1000 * 2 ** f)
    const got = reconnectDelayMs(f, 1000, 300_000, Math.random)
    t.ok(got >= d / 2 && got <= d, `failures=${f}: ${got} in [${d / 2}, ${d}]`)
  }
})

t.test(
  'refused connects are spaced out increasingly; a device registered later connects; success resets the backoff',
  async (t) => {
    let registered = false
    let attempts = 0
    const broker = await Aedes.createBroker({
      authenticate(client, username, _password, done) {
        attempts++
        // CONNACK return code 5, "not authorized", as the real broker answers an unknown device.
        done(null, registered && username === client.id)
      },
    })
    const server = createServer(broker.handle)
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`
    t.teardown(async () => {
      await new Promise<void>((r) => broker.close(() => r()))
      await new Promise<void>((r) => server.close(() => r()))
    })

    const MIN = 50
    const scheduled: { failures: number; delayMs: number }[] = []
    const errors: string[] = []
    let connects = 0
    const link = createMqttLink({
      url,
      identity: memoryIdentity('backoff-1'),
      reconnectMinMs: MIN,
      reconnectMaxMs: 300_000,
      onReconnectScheduled: (failures, delayMs) => scheduled.push({ failures, delayMs }),
      onError: (e) => errors.push(e.message),
    })
    t.teardown(() => link.close())
    link.open({
      onConnect: () => {
        connects++
      },
      onReceipt() {},
      onResend() {},
    })

    const WINDOW = 2500
    await sleep(WINDOW)
    // With a fixed 50 ms period this would be about 50 attempts. With backoff the
    // delays are at least 25, 50, 100, …, 1600 ms (half of each doubling step), and
    // those first seven alone add up to more than the window: at most 8 attempts.
    t.ok(attempts >= 2, `the device kept trying (${attempts} attempts)`)
    t.ok(
      attempts <= 8,
      `refused attempts were spaced out: ${attempts} in ${WINDOW} ms (a fixed ${MIN} ms period: ~${WINDOW / MIN})`,
    )
    t.ok(
      errors.some((m) => /refused|authori/i.test(m)),
      `each refusal is reported (${errors[0]})`,
    )
    t.same(
      scheduled.map((s) => s.failures),
      scheduled.map((_, i) => i + 1),
      'one more failure counted per attempt',
    )
    scheduled.forEach((s, i) => {
      const d = MIN * 2 ** i
      t.ok(s.delayMs >= d / 2 && s.delayMs <= d, `attempt ${i + 2} waited ${s.delayMs} ms, within [${d / 2}, ${d}]`)
    })
    t.equal(link.connected, false)

    registered = true
    await until(() => link.connected, 'the registered device to connect')
    t.equal(connects, 1, 'connected once registered')

    // A good connection resets the backoff: a dropped connection is retried at the minimum delay.
    const before = scheduled.length
    const bc = (broker as unknown as { clients: Record<string, { close(): void }> }).clients['backoff-1']
    t.ok(bc, "the broker holds the device's connection")
    bc.close()
    await until(() => connects === 2, 'the reconnect after the drop')
    t.equal(scheduled.length, before + 1, 'one reconnect scheduled')
    t.equal(scheduled[before].failures, 0, 'after an accepted connection, the failure count starts again at 0')
    t.ok(scheduled[before].delayMs <= MIN, `and the delay is the minimum again (${scheduled[before].delayMs} ms)`)
  },
)

t.test('mqttOptions.reconnectPeriod 0 keeps its mqtt.js meaning: no reconnect', async (t) => {
  let attempts = 0
  const broker = await Aedes.createBroker({
    authenticate(_c, _u, _p, done) {
      attempts++
      done(null, false)
    },
  })
  const server = createServer(broker.handle)
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  t.teardown(async () => {
    await new Promise<void>((r) => broker.close(() => r()))
    await new Promise<void>((r) => server.close(() => r()))
  })
  const scheduled: number[] = []
  const link = createMqttLink({
    url: `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`,
    identity: memoryIdentity('no-retry-1'),
    mqttOptions: { reconnectPeriod: 0 },
    onReconnectScheduled: (_f, d) => scheduled.push(d),
    onError: () => {},
  })
  t.teardown(() => link.close())
  link.open({ onConnect() {}, onReceipt() {}, onResend() {} })
  await until(() => attempts >= 1, 'the first attempt')
  await sleep(500)
  t.equal(attempts, 1, 'one attempt only')
  t.same(scheduled, [], 'no reconnect scheduled')
})
