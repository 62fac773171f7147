/**
 * Start, stop and configuration: the published token vector logs in over a
 * real socket to a broker with that audience; start-up errors surface; close
 * is clean and idempotent.
 */
import t from 'tap'
import { readFileSync } from 'node:fs'
import net from 'node:net'
import { fromHex } from '../../ledger/protocol/index.ts'
import { createBroker } from '../broker.ts'
import { createMemoryRegistry } from '../registry.ts'
import { captureLogger, connect, endClient, startBroker } from './support.ts'

t.test('the docs/PROTOCOL.md token vector logs in to a broker with its audience', async (t) => {
  const v = JSON.parse(
    readFileSync(new URL('../../ledger/protocol/testdata/vectors/auth-token-1.json', import.meta.url), 'utf8'),
  )
  const { url, registry } = await startBroker(t, { audience: v.audience, clock: () => v.timeMs + 30_000 })
  registry.register(v.deviceId, fromHex(v.publicKey))
  const r = await connect(url, { clientId: v.deviceId, username: v.deviceId, password: v.token })
  t.equal(r.ok, true, 'accepted')
  if (r.ok) await endClient(r.client)
  const again = await connect(url, { clientId: v.deviceId, username: v.deviceId, password: v.token })
  t.equal(again.ok ? 0 : again.code, 4, 'and only once')
})

t.test('bad options fail at createBroker, not at the first login', async (t) => {
  const registry = createMemoryRegistry()
  t.throws(() => createBroker({ registry, serviceAccounts: { x: { role: 'ingest', passwordHash: 'plaintext' } } }), {
    code: 'ERR_PASSWORD_HASH',
  })
  t.throws(
    () =>
      createBroker({
        registry,
        serviceAccounts: { x: { role: 'admin' as 'ingest', passwordHash: 'scrypt$16$1$1$AAAA$' + 'A'.repeat(43) } },
      }),
    TypeError,
  )
  t.throws(() => createBroker({ registry, rateLimit: { perSecond: 0, burst: 1, maxDelayMs: 0 } }), RangeError)
  t.throws(() => createBroker({ registry, maxPayloadBytes: 100, maxPacketBytes: 50 }), RangeError)
  t.throws(() => createBroker({} as never), TypeError)
})

t.test('listen on a port in use rejects; close is clean and idempotent', async (t) => {
  const blocker = net.createServer()
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()))
  t.teardown(() => new Promise<void>((r) => blocker.close(() => r())))
  const port = (blocker.address() as net.AddressInfo).port
  const b = createBroker({ registry: createMemoryRegistry(), port, logger: captureLogger().logger })
  await t.rejects(b.listen(), { code: 'EADDRINUSE' })
  await b.close()
  await b.close()

  const { broker, url } = await startBroker(t)
  t.match(url, /^mqtt:\/\/127\.0\.0\.1:\d+$/, 'loopback by default')
  await t.rejects(broker.listen(), /already started/)
  await broker.close()
  await broker.close()
  const after = await connect(url, { clientId: 'x', username: 'x', password: 'y' })
  t.equal(after.ok, false, 'nothing listens after close')
  t.equal(broker.metrics().connections.current, 0)
})
