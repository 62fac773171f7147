/**
 * CONNECT: every bad credential kind is refused with its MQTT 3.1.1 CONNACK
 * return code (section 3.2.2.3) and logged with its reason, never the secret;
 * registration and revocation take effect without a restart; no token replay.
 */
import t from 'tap'
import { randomBytes } from 'node:crypto'
import {
  connect,
  deviceOptions,
  endClient,
  ingestOptions,
  makeDevice,
  mustConnect,
  closed,
  startBroker,
  INGEST_PASSWORD,
} from './support.ts'

t.test('refused CONNECTs: return code, reason counted, reason logged, secret never logged', async (t) => {
  const now = Date.now()
  const { url, registry, broker, log } = await startBroker(t, { clock: () => now, tokenSkewMs: 120_000 })
  const dev = makeDevice('fridge-7')
  const revoked = makeDevice('revoked-1')
  const stranger = makeDevice('not-registered')
  registry.register(dev.id, dev.publicKey)
  registry.register(revoked.id, revoked.publicKey)
  registry.revoke(revoked.id)
  const other = makeDevice('other')

  const tokens: string[] = []
  const tok = (s: string) => {
    tokens.push(s)
    return s
  }
  const cases: { name: string; opts: Parameters<typeof connect>[1]; code: number; reason: string }[] = [
    { name: 'anonymous', opts: { clientId: 'anon' }, code: 5, reason: 'anonymous' },
    {
      name: 'unknown device',
      opts: { clientId: stranger.id, username: stranger.id, password: tok(stranger.token({ timeMs: now })) },
      code: 4,
      reason: 'unknown_device',
    },
    {
      name: 'revoked device with a valid token',
      opts: { clientId: revoked.id, username: revoked.id, password: tok(revoked.token({ timeMs: now })) },
      code: 5,
      reason: 'device_revoked',
    },
    {
      name: 'token signed by another key',
      opts: {
        clientId: dev.id,
        username: dev.id,
        password: tok(dev.token({ timeMs: now, signWith: other.secretKey })),
      },
      code: 4,
      reason: 'bad_signature',
    },
    {
      name: 'token for another audience',
      opts: { clientId: dev.id, username: dev.id, password: tok(dev.token({ timeMs: now, audience: 'someone-else' })) },
      code: 4,
      reason: 'bad_signature',
    },
    {
      name: 'malformed token',
      opts: { clientId: dev.id, username: dev.id, password: 'not a token!' },
      code: 4,
      reason: 'token_malformed',
    },
    { name: 'no password', opts: { clientId: dev.id, username: dev.id }, code: 4, reason: 'token_malformed' },
    {
      name: 'token older than the skew window',
      opts: { clientId: dev.id, username: dev.id, password: tok(dev.token({ timeMs: now - 120_001 })) },
      code: 4,
      reason: 'token_expired',
    },
    {
      name: 'token ahead of the skew window',
      opts: { clientId: dev.id, username: dev.id, password: tok(dev.token({ timeMs: now + 120_001 })) },
      code: 4,
      reason: 'token_from_future',
    },
    {
      name: 'client id differs from device id',
      opts: { clientId: 'other-id', username: dev.id, password: tok(dev.token({ timeMs: now })) },
      code: 2,
      reason: 'client_id_mismatch',
    },
    {
      name: 'username neither account nor device id',
      opts: { clientId: 'Bad User', username: 'Bad User', password: 'x' },
      code: 4,
      reason: 'bad_username',
    },
    {
      name: 'service account, wrong password',
      opts: ingestOptions({ password: 'wrong horse battery staple' }),
      code: 4,
      reason: 'bad_password',
    },
    {
      name: "service account using a device's client id",
      opts: ingestOptions({ clientId: dev.id }),
      code: 2,
      reason: 'client_id_mismatch',
    },
    {
      name: 'keepalive 0 (never times out)',
      opts: { ...deviceOptions(dev), keepalive: 0 },
      code: 5,
      reason: 'keepalive_out_of_range',
    },
  ]
  for (const c of cases) {
    const before = broker.metrics().refusals
    const r = await connect(url, c.opts)
    t.equal(r.ok, false, `${c.name}: refused`)
    if (!r.ok) t.equal(r.code, c.code, `${c.name}: CONNACK ${c.code} (${r.message})`)
    const after = broker.metrics().refusals as Record<string, number>
    t.equal(after[c.reason], (before as Record<string, number>)[c.reason] + 1, `${c.name}: counted as ${c.reason}`)
    t.match(log.text(), new RegExp(`"reason":"${c.reason}"`), `${c.name}: logged with its reason`)
  }
  const text = log.text()
  for (const s of [...tokens, INGEST_PASSWORD, 'wrong horse battery staple'])
    t.notOk(text.includes(s), 'no secret in the log')
  t.equal(broker.metrics().connections.current, 0, 'nobody got in')

  // and the right credentials work, for both kinds
  const ok = await mustConnect(url, { clientId: dev.id, username: dev.id, password: dev.token({ timeMs: now }) })
  const ing = await mustConnect(url, ingestOptions())
  t.equal(broker.metrics().connections.current, 2)
  await endClient(ok)
  await endClient(ing)
})

t.test('a token is accepted once: replay refused with CONNACK 4', async (t) => {
  const { url, registry, broker } = await startBroker(t)
  const dev = makeDevice('replayer')
  registry.register(dev.id, dev.publicKey)
  const token = dev.token({ nonce: new Uint8Array(randomBytes(16)) })
  const first = await mustConnect(url, { clientId: dev.id, username: dev.id, password: token })
  await endClient(first)
  const again = await connect(url, { clientId: dev.id, username: dev.id, password: token })
  t.equal(again.ok, false)
  if (!again.ok) t.equal(again.code, 4)
  t.equal(broker.metrics().refusals.token_replayed, 1)
  // a fresh token (new nonce) is fine
  const fresh = await mustConnect(url, deviceOptions(dev))
  await endClient(fresh)
})

t.test('registration and revocation take effect live', async (t) => {
  const { url, registry, broker } = await startBroker(t)
  const dev = makeDevice('late-truck')
  const before = await connect(url, deviceOptions(dev))
  t.equal(before.ok, false)
  if (!before.ok) t.equal(before.code, 4, 'unknown before registration')

  registry.register(dev.id, dev.publicKey)
  const client = await mustConnect(url, deviceOptions(dev))
  t.pass('accepted right after registration, no restart')

  registry.revoke(dev.id)
  const gone = closed(client)
  t.equal(broker.disconnectDevice(dev.id), true, 'live connection found and closed')
  await gone
  t.equal(broker.disconnectDevice(dev.id), false, 'nothing left to close')
  const after = await connect(url, deviceOptions(dev))
  t.equal(after.ok, false)
  if (!after.ok) t.equal(after.code, 5, 'revoked: not authorized')
  await endClient(client)
})

t.test('max connections: CONNACK 3 beyond the limit', async (t) => {
  const { url, registry, broker } = await startBroker(t, { maxConnections: 1 })
  const a = makeDevice('dev-a'),
    b = makeDevice('dev-b')
  registry.register(a.id, a.publicKey)
  registry.register(b.id, b.publicKey)
  const ca = await mustConnect(url, deviceOptions(a))
  const rb = await connect(url, deviceOptions(b))
  t.equal(rb.ok, false)
  if (!rb.ok) t.equal(rb.code, 3, 'server unavailable')
  t.equal(broker.metrics().refusals.max_connections, 1)
  // the same device reconnecting takes over its own session: allowed at the limit
  const ca2 = await mustConnect(url, deviceOptions(a))
  t.pass('session takeover allowed at the limit')
  await endClient(ca2)
  await endClient(ca)
})

t.test('registry failure refuses with CONNACK 3 and the broker stays up', async (t) => {
  let fail = true
  const dev = makeDevice('flaky')
  const { url, broker } = await startBroker(t, {
    registry: {
      lookupDevice: async () => {
        if (fail) throw new Error('ledger closed')
        return { publicKey: dev.publicKey, revoked: false }
      },
    },
  })
  const r = await connect(url, deviceOptions(dev))
  t.equal(r.ok, false)
  if (!r.ok) t.equal(r.code, 3)
  t.equal(broker.metrics().refusals.registry_unavailable, 1)
  fail = false
  const c = await mustConnect(url, deviceOptions(dev))
  await endClient(c)
})
