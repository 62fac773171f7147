/**
 * Attacks on the broker from outside (issue 17): a wrong-password flood on the
 * ingest's service account, idle sockets, MQTT 3.1 and 5 CONNECTs, and a
 * refusal flood in the log. Every assertion is on an outcome (who got in,
 * what was refused with which code, how many password checks ran), never on
 * how long something took.
 */
import t from 'tap'
import { createMemoryRegistry } from '../registry.ts'
import { hashServicePassword } from '../service-accounts.ts'
import { deviceTopic } from '../../ledger/protocol/index.ts'
import {
  captureLogger,
  deviceOptions,
  endClient,
  idleSocket,
  makeDevice,
  mustConnect,
  publish,
  rawConnect,
  startBroker,
  until,
  TEST_SCRYPT,
} from './support.ts'

const INGEST = 'coldproof-ingest'
const RIGHT = 'the right ingest password'

async function ingestAccount() {
  return { [INGEST]: { role: 'ingest' as const, passwordHash: await hashServicePassword(RIGHT, TEST_SCRYPT) } }
}
const portOf = (url: string) => Number(new URL(url).port)

t.test(
  'a wrong-password flood: backoff without scrypt, the ingest still gets in from its own address, devices unaffected',
  async (t) => {
    let now = Date.now()
    const guard = { freeFailures: 3, baseDelayMs: 600_000, maxDelayMs: 600_000, concurrency: 1, maxPending: 4 }
    const { broker, url, registry } = await startBroker(t, {
      clock: () => now,
      serviceAccounts: await ingestAccount(),
      loginGuard: guard,
    })
    const port = portOf(url)
    const dev = makeDevice('fridge-1')
    registry.register(dev.id, dev.publicKey)

    // The ingest has logged in from 127.0.0.1 before the attack.
    t.equal(
      await rawConnect({ port, clientId: 'ingest-a', username: INGEST, password: RIGHT }),
      0,
      'the ingest logs in',
    )

    // 40 wrong passwords at once from 127.0.0.2, and a device logging in and publishing in the middle of it.
    const flood = Array.from({ length: 40 }, (_, i) =>
      rawConnect({ port, localAddress: '127.0.0.2', clientId: `x${i}`, username: INGEST, password: `guess-${i}` }),
    )
    const device = await mustConnect(url, deviceOptions(dev, { password: dev.token({ timeMs: now }) }))
    await publish(device, deviceTopic(dev.id, 'readings'), dev.readings(1)[0])
    t.pass('the device logged in and its publish was acknowledged during the flood')
    const codes = await Promise.all(flood)
    t.ok(
      codes.every((c) => c === 3 || c === 4 || c === 5),
      `every wrong password refused (codes ${[...new Set(codes)].join(', ')})`,
    )
    const m1 = broker.metrics()
    t.ok(
      m1.logins.passwordChecks <= 1 + guard.maxPending + guard.freeFailures,
      `at most a bounded number of scrypt checks ran for 40 tries (${m1.logins.passwordChecks})`,
    )
    t.ok(m1.refusals.login_busy + m1.refusals.login_backoff > 0, 'the rest were refused before any check')
    t.equal(
      m1.refusals.bad_password + m1.refusals.login_busy + m1.refusals.login_backoff,
      40,
      'each try refused once, under one reason',
    )

    // Backing off: further tries run no scrypt at all, from the attacker's address or another one.
    const checks = broker.metrics().logins.passwordChecks
    for (let i = 0; i < 10; i++)
      t.equal(
        await rawConnect({ port, localAddress: '127.0.0.2', username: INGEST, password: RIGHT }),
        5,
        'attacker address: CONNACK 5, even with the right password',
      )
    t.equal(
      await rawConnect({ port, localAddress: '127.0.0.3', username: INGEST, password: 'another guess' }),
      5,
      'a fresh address: the account is backing off',
    )
    t.equal(broker.metrics().logins.passwordChecks, checks, 'no password check ran while backing off')
    t.equal(broker.metrics().refusals.login_backoff, m1.refusals.login_backoff + 11)

    // The ingest's own address logged in before: the account's backoff does not hold it back.
    t.equal(
      await rawConnect({ port, clientId: 'ingest-b', username: INGEST, password: RIGHT }),
      0,
      'the ingest reconnects from its own address',
    )
    t.equal(broker.metrics().logins.passwordChecks, checks + 1, 'one check: its own')

    // The backoff is capped: after it, a fresh address with the right password gets in.
    now += guard.maxDelayMs + 1
    t.equal(
      await rawConnect({ port, localAddress: '127.0.0.3', clientId: 'ingest-c', username: INGEST, password: RIGHT }),
      0,
      'after the backoff, the right password works from anywhere',
    )
    t.same(broker.metrics().logins.pendingChecks, 0, 'no check left queued')
    await endClient(device)
  },
)

t.test('idle sockets: per-address cap, total cap (oldest closed); devices still log in', async (t) => {
  const { broker, url, registry } = await startBroker(t, {
    maxIdleSockets: 50,
    maxIdleSocketsPerAddress: 40,
    connectTimeoutMs: 600_000,
  })
  const port = portOf(url)
  const dev = makeDevice('fridge-2')
  registry.register(dev.id, dev.publicKey)
  const idle: ReturnType<typeof idleSocket>[] = []
  t.teardown(() => {
    for (const s of idle) s.socket.destroy()
  })

  // 100 from one address: 40 may wait, 60 are closed at once.
  for (let i = 0; i < 100; i++) idle.push(idleSocket(port, '127.0.0.2'))
  await until(() => broker.metrics().refusals.idle_socket_cap === 60)
  t.pass('60 sockets over the per-address cap refused')
  // 200 more from 20 other addresses (10 each, within the per-address cap): the total cap closes the oldest.
  for (let a = 0; a < 20; a++) for (let i = 0; i < 10; i++) idle.push(idleSocket(port, `127.0.1.${a + 1}`))
  await until(() => broker.metrics().refusals.idle_socket_evicted >= 190)
  t.equal(broker.metrics().idleSockets, 50, 'never more than maxIdleSockets idle sockets')

  const device = await mustConnect(url, deviceOptions(dev))
  await publish(device, deviceTopic(dev.id, 'readings'), dev.readings(1)[0])
  t.pass('a device logs in and publishes with 300 idle sockets thrown at the broker')
  t.equal(broker.metrics().connections.current, 1)
  await endClient(device)
})

t.test('a socket that sends no CONNECT is closed after connectTimeoutMs', async (t) => {
  const { broker, url, log } = await startBroker(t, { connectTimeoutMs: 300 })
  const s = idleSocket(portOf(url))
  t.teardown(() => s.socket.destroy())
  t.ok(await s.opened)
  await s.closed
  await until(() => broker.metrics().refusals.connect_timeout === 1)
  t.match(log.text(), /"reason":"connect_timeout"/, 'logged')
})

t.test('MQTT 3.1 (MQIsdp, level 3) and MQTT 5 are refused with CONNACK 1; 3.1.1 is accepted', async (t) => {
  const { broker, url, registry, log } = await startBroker(t)
  const port = portOf(url)
  const dev = makeDevice('fridge-3')
  registry.register(dev.id, dev.publicKey)
  t.equal(
    await rawConnect({ port, protocolVersion: 3, clientId: dev.id, username: dev.id, password: dev.token() }),
    1,
    'MQTT 3.1: unacceptable protocol version',
  )
  t.equal(
    await rawConnect({ port, protocolVersion: 5, clientId: dev.id, username: dev.id, password: dev.token() }),
    1,
    'MQTT 5: unacceptable protocol version',
  )
  t.equal(broker.metrics().refusals.protocol_version, 2)
  t.equal(broker.metrics().connections.current, 0, 'neither got in')
  t.match(log.text(), /"reason":"protocol_version".*level 3 \(MQIsdp\)/, 'logged with the level')
  t.equal(
    await rawConnect({ port, protocolVersion: 4, clientId: dev.id, username: dev.id, password: dev.token() }),
    0,
    'MQTT 3.1.1 accepted',
  )
})

t.test('a refusal flood: each refusal counted, the log keeps the first lines and one summary', async (t) => {
  const log = captureLogger()
  const { broker, url } = await startBroker(t, { logger: log.logger, securityLog: { burst: 3, windowMs: 3_600_000 } })
  const port = portOf(url)
  for (let i = 0; i < 10; i++) t.equal(await rawConnect({ port, clientId: `anon-${i}` }), 5, 'anonymous refused')
  const m = broker.metrics()
  t.equal(m.refusals.anonymous, 10, 'every refusal counted')
  t.equal(m.securityEvents.login_failed, 10, 'and as a failed login')
  t.equal(m.logSuppressed, 7)
  const lines = () => log.lines.map((l) => JSON.parse(l) as Record<string, unknown>)
  t.equal(lines().filter((l) => l.event === 'refused' && l.reason === 'anonymous').length, 3, 'three full lines')
  t.match(
    lines().find((l) => l.event === 'refused'),
    { reason: 'anonymous', kind: 'login_failed', clientId: 'anon-0', remote: '127.0.0.1', returnCode: 5 },
    'a line names reason, kind, client id and address',
  )
  await broker.close()
  t.match(
    lines().filter((l) => l.event === 'refused_suppressed'),
    [{ key: 'anonymous', suppressed: 7 }],
    'one summary line for the rest',
  )
})

t.test('login guard and cap options are validated', async (t) => {
  const { createBroker } = await import('../broker.ts')
  t.throws(() => createBroker({ registry: createMemoryRegistry(), loginGuard: { maxPending: 0 } }), RangeError)
  t.throws(() => createBroker({ registry: createMemoryRegistry(), maxIdleSockets: 0 }), /maxIdleSockets/)
})
