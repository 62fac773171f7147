/**
 * mqtts: with a certificate and key the broker speaks TLS only. The test
 * makes a throwaway certificate with the openssl command line, and is
 * skipped, with the reason, where openssl is missing.
 */
import t from 'tap'
import { readFileSync } from 'node:fs'
import { deviceTopic, readingsFilters } from '../../ledger/protocol/index.ts'
import {
  collect,
  connect,
  deviceOptions,
  endClient,
  ingestOptions,
  makeDevice,
  mustConnect,
  publish,
  startBroker,
  subscribe,
} from './support.ts'
import { NO_OPENSSL, openssl, selfSigned } from './self-signed.ts'

t.test('mqtts end to end', { skip: openssl ? false : NO_OPENSSL }, async (t) => {
  const dir = t.testdir()
  const { cert, key } = selfSigned(dir, 'broker')
  const ca = readFileSync(cert)
  const { url, registry } = await startBroker(t, { tls: { cert: ca, key: readFileSync(key) } })
  t.match(url, /^mqtts:\/\/127\.0\.0\.1:\d+$/)
  const dev = makeDevice('tls-dev')
  registry.register(dev.id, dev.publicKey)

  const ingest = await mustConnect(url, ingestOptions({ ca }))
  await subscribe(ingest, readingsFilters())
  const device = await mustConnect(url, deviceOptions(dev, { ca }))
  const got = collect(ingest, 1)
  const r = dev.readings(1)[0]
  await publish(device, deviceTopic(dev.id, 'readings'), r)
  t.same(Buffer.from((await got.done)[0].payload), Buffer.from(r), 'reading over TLS')

  const untrusted = await connect(url, deviceOptions(dev)) // no CA: certificate not trusted
  t.equal(untrusted.ok, false, 'a client that does not trust the certificate cannot connect')
  const plain = await connect(url.replace('mqtts:', 'mqtt:'), deviceOptions(dev))
  t.equal(plain.ok, false, 'plain MQTT is not spoken on the TLS port')
  await endClient(device)
  await endClient(ingest)
})
