/**
 * What docs/PROTOCOL.md promises a device, through the whole system as
 * `coldproof start` wires it (embedded broker with signed-token logins,
 * ingest, ledger, dashboard), with a real MQTT client over 127.0.0.1:
 * the login audience is the configured one; registration publishes the
 * retained seq-0 receipt; a wrong partition digit is refused as
 * ERR_TOPIC_INVALID (quarantined and counted, the connection stays up, as
 * behind an external broker); an exact replay is counted as a duplicate in
 * the ingest's stats and in /metrics.
 */
import t from 'tap'
import { join } from 'node:path'
import { readFileSync } from 'node:fs'
import { startSystem } from '../../system.ts'
import { LOCAL_ACCESS_FILE, type LocalAccess } from '../../local-access.ts'
import { decodeReceipt, deviceTopic, partitionOf, readingHash, toHex } from '../../../ledger/protocol/index.ts'
import {
  connect,
  connectCollecting,
  deviceOptions,
  endClient,
  makeDevice,
  publish,
  subscribe,
} from '../../../broker/test/support.ts'
import { tempDir, waitFor } from './support.ts'

const AUDIENCE = 'coldproof-test-eu-1'

t.test('registration receipt, wrong partition, replay counter and audience on the embedded broker', async (t) => {
  const dir = await tempDir(t, 'device-protocol')
  const dataDir = join(dir, 'system')
  const sys = await startSystem({ dataDir, httpPort: 0, mqttPort: 0, demo: false, quiet: true, audience: AUDIENCE })
  t.teardown(() => sys.close())
  t.equal(sys.broker?.audience, AUDIENCE, 'the broker uses the configured audience')

  const dev = makeDevice('spec-probe-1')
  // A token for another audience is refused: the audience is part of what the device signs.
  const wrong = await connect(sys.mqttUrl, {
    ...deviceOptions(dev, { password: dev.token({ audience: 'coldproof' }) }),
    reconnectPeriod: 0,
  })
  t.match(wrong, { ok: false, code: 4 }, 'unregistered (and wrong audience): CONNACK 4')

  await sys.ledger.registerDevice({ deviceId: dev.id, publicKey: dev.publicKey, by: 'device-protocol.test' })
  const wrongAudience = await connect(sys.mqttUrl, {
    ...deviceOptions(dev, { password: dev.token({ audience: 'coldproof' }) }),
    reconnectPeriod: 0,
  })
  t.match(wrongAudience, { ok: false, code: 4 }, 'registered, token for another audience: CONNACK 4')
  if (wrongAudience.ok) await endClient(wrongAudience.client)

  // Registered before the device ever connected: the seq-0 receipt waits for it, retained.
  const c = connectCollecting(sys.mqttUrl, deviceOptions(dev, { password: dev.token({ audience: AUDIENCE }) }))
  t.teardown(() => endClient(c.client))
  const receipts: { seq: number; hash: string }[] = []
  c.client.on('message', (topic, payload) => {
    if (topic === deviceTopic(dev.id, 'receipt')) {
      const r = decodeReceipt(new Uint8Array(payload))
      receipts.push({ seq: r.seq, hash: toHex(r.hash) })
    }
  })
  await c.connected
  t.same(await subscribe(c.client, [deviceTopic(dev.id, 'receipt'), deviceTopic(dev.id, 'resend')]), [1, 1])
  await waitFor(() => receipts.length >= 1, 'the seq-0 receipt')
  t.same(receipts[0], { seq: 0, hash: '00'.repeat(32) }, 'seq 0 with 32 zero bytes')

  // A wrong partition digit on its own readings topic: the ingest quarantines it as ERR_TOPIC_INVALID.
  const [r1] = dev.readings(1, Date.UTC(2026, 10, 20, 6))
  const p = partitionOf(dev.id)
  const wrongTopic = `coldproof/v1/${((p + 1) % 16).toString(16)}/${dev.id}/readings`
  await publish(c.client, wrongTopic, r1)
  await waitFor(
    () => (sys.ledger.stats().quarantineByReason.ERR_TOPIC_INVALID ?? 0) === 1,
    'the wrong-partition reading quarantined',
  )
  const q = (await sys.ledger.quarantined({ limit: 10 })).find((x) => x.reason === 'ERR_TOPIC_INVALID')
  t.match(q, { topic: wrongTopic, rawLength: r1.length }, 'its quarantine record keeps the topic and bytes')
  t.ok(c.client.connected, 'the connection stays up')
  t.notOk(sys.broker!.metrics().refusals.publish_denied, 'the broker did not refuse it itself')

  // The same reading on its topic is stored and receipted; the exact same bytes again are a duplicate.
  await publish(c.client, deviceTopic(dev.id, 'readings'), r1)
  await waitFor(() => receipts.some((r) => r.seq === 1), 'receipt 1')
  t.equal(receipts.find((r) => r.seq === 1)!.hash, toHex(readingHash(r1)))
  await publish(c.client, deviceTopic(dev.id, 'readings'), r1)
  await waitFor(() => sys.ingest.stats().duplicates === 1, 'the replay counted')
  t.equal(sys.ledger.device(dev.id)?.contiguous, 1, 'stored once')

  const access = JSON.parse(readFileSync(join(dataDir, LOCAL_ACCESS_FILE), 'utf8')) as LocalAccess
  const res = await fetch(`${sys.url}/metrics`, { headers: { authorization: `Bearer ${access.token}` } })
  t.equal(res.status, 200)
  const text = await res.text()
  t.match(text, /^coldproof_ingest_duplicates_total 1$/m, '/metrics counts the replay')
  t.match(
    text,
    /^coldproof_quarantined_total\{reason="ERR_TOPIC_INVALID"\} 1$/m,
    '/metrics counts the wrong partition under its code',
  )
})
