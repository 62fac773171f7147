/**
 * Device users on a real nats-server (one node: permissions do not depend on
 * clustering): a device logs in over MQTT with its derived password, publishes
 * only its own readings subject, subscribes only its own receipt and resend
 * subjects, and gets receipts the ingest publishes over NATS. A wrong password
 * and a revoked device are refused.
 */
import t from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import mqtt, { type MqttClient } from 'mqtt'
import { connect } from '@nats-io/transport-node'
import { jetstreamManager } from '@nats-io/jetstream'
import { deviceTopic } from '../../ledger/protocol/index.ts'
import { deviceNatsPassword, natsAuthorizationConf } from '../nats-auth.ts'
import { deviceSubject } from '../../ledger/cluster/index.ts'
import { NATS_SERVER, startNatsCluster } from './nats-process.ts'

const secret = new Uint8Array(32).fill(7)
const ingest = { user: 'coldproof-ingest', pass: 'ingest-secret-for-tests' }

function mqttConnect(url: string, user: string, password: string): Promise<{ client?: MqttClient; code?: number }> {
  return new Promise((resolve) => {
    const c = mqtt.connect(url, {
      clientId: user,
      username: user,
      password,
      protocolVersion: 4,
      clean: true,
      reconnectPeriod: 0,
      connectTimeout: 30_000,
    })
    c.once('connect', () => resolve({ client: c }))
    c.once('error', (e) => {
      c.end(true)
      resolve({ code: (e as { code?: number }).code ?? -1 })
    })
  })
}

t.test(
  'NATS device users and permissions',
  { skip: NATS_SERVER ? false : "nats-server not found (install Debian's nats-server; .ci/run does)" },
  async (t) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'coldproof-nats-auth-'))
    t.teardown(() => rmSync(dir, { recursive: true, force: true }))
    const devices = [
      { deviceId: 'probe-a', revoked: false },
      { deviceId: 'probe-b', revoked: false },
      { deviceId: 'probe-gone', revoked: true },
    ]
    const cluster = await startNatsCluster(
      t,
      dir,
      natsAuthorizationConf({ secret, devices, ingest: { user: ingest.user, password: ingest.pass } }),
      1,
    )
    await cluster.waitForJetStream(ingest)
    const nc = await connect({ servers: cluster.natsUrls, user: ingest.user, pass: ingest.pass })
    t.teardown(() => nc.close())
    const jsm = await jetstreamManager(nc)
    await jsm.streams.add({ name: 'READINGS', subjects: ['coldproof.v1.*.*.readings'], num_replicas: 1 })

    const url = cluster.mqttUrls[0]
    t.ok((await mqttConnect(url, 'probe-a', 'not-the-password')).code, 'a wrong password is refused')
    t.ok(
      (await mqttConnect(url, 'probe-gone', deviceNatsPassword(secret, 'probe-gone'))).code,
      'a revoked device has no user',
    )

    const { client: a } = await mqttConnect(url, 'probe-a', deviceNatsPassword(secret, 'probe-a'))
    t.ok(a, 'a registered device logs in with its derived password')
    t.teardown(() => a?.end(true))
    const received: string[] = []
    a!.on('message', (topic, payload) => received.push(`${topic}=${payload.toString()}`))
    const grants = await a!
      .subscribeAsync(
        [deviceTopic('probe-a', 'receipt'), deviceTopic('probe-a', 'resend'), deviceTopic('probe-b', 'receipt')],
        { qos: 1 },
      )
      .catch((e) => (e as { packet: { granted: number[] } }).packet.granted.map((qos) => ({ qos })))
    t.same(
      grants.map((g) => g.qos),
      [1, 1, 128],
      "own receipt and resend granted, another device's receipt refused",
    )

    await a!.publishAsync(deviceTopic('probe-a', 'readings'), Buffer.from('own'), { qos: 1 })
    // nats-server drops a publish without permission (and still PUBACKs it): it must not reach the stream.
    await a!.publishAsync(deviceTopic('probe-b', 'readings'), Buffer.from('forged'), { qos: 1 })
    // Its own readings under a wrong partition digit pass, for the ingest to refuse as ERR_TOPIC_INVALID (as on every broker).
    const wrongPartition = deviceTopic('probe-a', 'readings').replace(
      /^coldproof\/v1\/([0-9a-f])\//,
      (_m, p: string) => `coldproof/v1/${((parseInt(p, 16) + 1) % 16).toString(16)}/`,
    )
    await a!.publishAsync(wrongPartition, Buffer.from('wrong-partition'), { qos: 1 })
    await a!.publishAsync(deviceTopic('probe-a', 'readings'), Buffer.from('own-2'), { qos: 1 })
    const stream = await jsm.streams.get('READINGS')
    for (
      let until = Date.now() + 30_000;
      (await jsm.streams.info('READINGS')).state.messages < 3 && Date.now() < until;
    )
      await new Promise((r) => setTimeout(r, 50))
    const stored = []
    for (let seq = 1; seq <= (await jsm.streams.info('READINGS')).state.last_seq; seq++) {
      const m = await stream.getMessage({ seq })
      if (m) stored.push(`${m.subject}=${new TextDecoder().decode(m.data)}`)
    }
    t.same(
      stored,
      [
        `${deviceSubject('probe-a', 'readings')}=own`,
        `${wrongPartition.replaceAll('/', '.')}=wrong-partition`,
        `${deviceSubject('probe-a', 'readings')}=own-2`,
      ],
      "only the device's own readings (any partition digit) reach the stream, payload unchanged",
    )

    // A receipt published by the ingest over NATS core reaches the device's MQTT subscription.
    for (let until = Date.now() + 30_000; !received.length && Date.now() < until; ) {
      nc.publish(deviceSubject('probe-a', 'receipt'), 'r1')
      nc.publish(deviceSubject('probe-b', 'receipt'), 'not-for-a')
      await nc.flush()
      await new Promise((r) => setTimeout(r, 100))
    }
    t.ok(
      received.length > 0 && received.every((m) => m === `${deviceTopic('probe-a', 'receipt')}=r1`),
      'the device receives its own receipt only',
    )
  },
)
