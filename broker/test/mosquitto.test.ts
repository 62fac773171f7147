/**
 * Any standard broker works (ARCHITECTURE.md decision 10): the same device and
 * ingest traffic through Debian's Mosquitto, configured as docs/OPERATIONS.md
 * shows (listener, password file, ACL file with per-device patterns). The
 * readings arrive byte for byte, decode, verify under the device key with
 * Node's crypto (signed with noble) and chain. With an external broker,
 * device authentication is that broker's job: here a per-device password in
 * Mosquitto's password file.
 *
 * Skipped, with the reason, only when the mosquitto binary cannot be found
 * (.ci/run installs it).
 */
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync, chmodSync } from 'node:fs'
import path from 'node:path'
import type { MqttClient } from 'mqtt'
import {
  decodeReading,
  deviceTopic,
  encodeReceipt,
  equalBytes,
  GENESIS_PREV_HASH,
  parseDeviceTopic,
  readingHash,
  readingsFilters,
  readingSigningMessage,
} from '../../ledger/protocol/index.ts'
import { nodeVerify } from '../../ledger/protocol/test/support.ts'
import {
  closed,
  collect,
  connect,
  connectCollecting,
  endClient,
  makeDevice,
  mustConnect,
  publish,
  subscribe,
  until,
} from './support.ts'
import { MOSQUITTO, MOSQUITTO_PASSWD, startMosquitto } from './mosquitto-process.ts'

const INGEST_USER = 'coldproof-ingest'
const INGEST_PASSWORD = 'ingest password for mosquitto'

/** The ```conf block of docs/OPERATIONS.md that starts with "# /etc/mosquitto/coldproof.acl". */
function documentedAcl(): string {
  const doc = readFileSync(new URL('../../docs/OPERATIONS.md', import.meta.url), 'utf8')
  const m = /```conf\n# \/etc\/mosquitto\/coldproof\.acl\n([\s\S]*?)```/.exec(doc)
  if (!m) throw new Error('docs/OPERATIONS.md has no "# /etc/mosquitto/coldproof.acl" block')
  return m[1]
}

t.test(
  'ColdProof through Mosquitto',
  {
    skip:
      !MOSQUITTO || !MOSQUITTO_PASSWD
        ? `mosquitto${MOSQUITTO ? '_passwd' : ''} not found (install Debian's mosquitto; .ci/run does)`
        : false,
  },
  async (t) => {
    const dir = t.testdir()
    const dev = makeDevice('mosq-dev-1')
    const other = makeDevice('mosq-dev-2')
    const devPassword = 'device one password'

    const passwd = path.join(dir, 'passwd')
    writeFileSync(passwd, '')
    chmodSync(passwd, 0o600)
    execFileSync(MOSQUITTO_PASSWD!, ['-b', passwd, INGEST_USER, INGEST_PASSWORD])
    execFileSync(MOSQUITTO_PASSWD!, ['-b', passwd, dev.id, devPassword])

    // The ACL file exactly as docs/OPERATIONS.md shows it ("Mosquitto").
    const acl = path.join(dir, 'acl')
    writeFileSync(acl, documentedAcl())
    chmodSync(acl, 0o600)

    const { url } = await startMosquitto(t, dir, [
      'allow_anonymous false',
      `password_file ${passwd}`,
      `acl_file ${acl}`,
    ])

    // Refusals are Mosquitto's now: anonymous and wrong password.
    const anon = await connect(url, { clientId: 'anon' })
    t.equal(anon.ok, false, 'anonymous refused by Mosquitto')
    const wrong = await connect(url, { clientId: dev.id, username: dev.id, password: 'nope' })
    t.equal(wrong.ok, false, 'wrong password refused by Mosquitto')

    const ingest: MqttClient = await mustConnect(url, {
      clientId: 'coldproof-ingest-0',
      username: INGEST_USER,
      password: INGEST_PASSWORD,
      clean: false,
    })
    t.same(await subscribe(ingest, readingsFilters()), [1], 'ingest subscribes all readings')
    const device = await mustConnect(url, { clientId: dev.id, username: dev.id, password: devPassword })
    // Mosquitto 2.0 grants any filter and applies the read ACL when delivering.
    await subscribe(device, [deviceTopic(dev.id, 'receipt'), deviceTopic(other.id, 'receipt')])

    const N = 25
    const readings = dev.readings(N)
    const got = collect(ingest, N)
    // Mosquitto drops a publish the ACL denies (MQTT 3.1.1 has no way to say so):
    // a forged reading for another device never reaches the ingest.
    await publish(device, deviceTopic(other.id, 'readings'), other.readings(1)[0])
    for (const r of readings) await publish(device, deviceTopic(dev.id, 'readings'), r)
    const msgs = await got.done
    t.equal(msgs.length, N)
    t.ok(
      msgs.every((m) => m.topic === deviceTopic(dev.id, 'readings')),
      "only the device's own topic arrived (the forged one was dropped)",
    )

    // The ingest's checks (decode, Node's Ed25519, chain) on what Mosquitto delivered.
    let prev = GENESIS_PREV_HASH
    let good = 0
    for (const [i, m] of msgs.entries()) {
      const payload = new Uint8Array(m.payload)
      const d = decodeReading(payload)
      const ok =
        d.fields.deviceId === dev.id &&
        d.fields.seq === i + 1 &&
        equalBytes(d.fields.prevHash, prev) &&
        nodeVerify(d.signature, readingSigningMessage(d.record), dev.publicKey)
      if (ok) good++
      prev = readingHash(payload)
    }
    t.equal(good, N, 'every reading decodes, verifies under the device key and chains')

    // Receipts back through Mosquitto. Another device's receipt goes first: had
    // the read ACL let it through, it would be the first message to arrive.
    const receipt = collect(device, 1)
    await publish(ingest, deviceTopic(other.id, 'receipt'), encodeReceipt({ seq: 1, hash: new Uint8Array(32) }))
    await publish(ingest, deviceTopic(dev.id, 'receipt'), encodeReceipt({ seq: N, hash: prev }))
    const first = (await receipt.done)[0]
    t.equal(first.topic, deviceTopic(dev.id, 'receipt'), "another device's receipt is not delivered (read ACL)")
    t.same([...first.payload], [...encodeReceipt({ seq: N, hash: prev })], 'own receipt delivered to the device')

    // Its own readings under a wrong partition digit pass the documented %u pattern (Mosquitto cannot compute
    // the digit) and reach the ingest, whose topic check refuses them as ERR_TOPIC_INVALID: the refusal is the
    // ingest's on every broker (docs/PROTOCOL.md, "Topics").
    const own = deviceTopic(dev.id, 'readings')
    const wrongTopic = own.replace(
      /^coldproof\/v1\/([0-9a-f])\//,
      (_m, p: string) => `coldproof/v1/${((parseInt(p, 16) + 1) % 16).toString(16)}/`,
    )
    const stray = collect(ingest, 1)
    await publish(device, wrongTopic, readings[0])
    t.equal((await stray.done)[0].topic, wrongTopic, 'a wrong partition digit reaches the ingest')
    t.throws(() => parseDeviceTopic(wrongTopic), { code: 'ERR_TOPIC_INVALID' }, 'which refuses it as ERR_TOPIC_INVALID')
    t.ok(device.connected, 'and the device stays connected')

    // persistent ingest session: readings published while it is away arrive on return
    await endClient(ingest)
    const more = dev.readings(N + 3).slice(N)
    for (const r of more) await publish(device, deviceTopic(dev.id, 'readings'), r)
    const back = connectCollecting(url, {
      clientId: 'coldproof-ingest-0',
      username: INGEST_USER,
      password: INGEST_PASSWORD,
      clean: false,
    })
    t.equal(await back.connected, true, 'session present')
    await until(() => back.got.length >= 3)
    t.same(
      back.got.map((b) => b.toString('hex')),
      more.map((r) => Buffer.from(r).toString('hex')),
      'queued readings delivered after reconnect',
    )

    const gone = closed(device)
    await endClient(device)
    await gone
    await endClient(back.client)
  },
)
