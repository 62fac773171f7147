/**
 * The ingest may stop reading its socket (it does at its in-flight cap,
 * ledger/ingest/in-flight-cap.ts): the broker waits for it without the drain
 * timeout (broker/drain-wait.ts), where any other slow reader is disconnected.
 * Real broker, real sockets speaking MQTT 3.1.1; the two slow readers are raw
 * sockets so that "not reading" is exact (socket paused, nothing buffered by a client library).
 */
import t from 'tap'
import net from 'node:net'
import mqttPacket from 'mqtt-packet'
import { deviceTopic, readingsFilters } from '../../ledger/protocol/index.ts'
import { hashServicePassword } from '../service-accounts.ts'
import {
  deviceOptions,
  endClient,
  INGEST_PASSWORD,
  makeDevice,
  mustConnect,
  sleep,
  startBroker,
  TEST_SCRYPT,
  until,
} from './support.ts'

/** A persistent QoS 1 subscriber to every reading over a plain socket; paused once subscribed. */
async function slowReader(port: number, username: string, clientId: string) {
  const socket = net.connect({ port, host: '127.0.0.1' })
  socket.on('error', () => {})
  const parser = mqttPacket.parser({ protocolVersion: 4 })
  const got: Buffer[] = []
  let closed = false
  socket.on('close', () => {
    closed = true
  })
  const subscribed = new Promise<void>((resolve, reject) => {
    parser.on('packet', (p) => {
      if (p.cmd === 'connack') {
        if (p.returnCode !== 0) return reject(new Error(`CONNACK ${p.returnCode}`))
        socket.write(
          mqttPacket.generate({
            cmd: 'subscribe',
            messageId: 1,
            subscriptions: readingsFilters().map((topic) => ({ topic, qos: 1 as const })),
          }),
        )
      } else if (p.cmd === 'suback') resolve()
      else if (p.cmd === 'publish') {
        got.push(Buffer.from(p.payload))
        if (p.qos > 0) socket.write(mqttPacket.generate({ cmd: 'puback', messageId: p.messageId! }))
      }
    })
  })
  socket.on('data', (d) => parser.parse(d))
  socket.write(
    mqttPacket.generate({
      cmd: 'connect',
      protocolId: 'MQTT',
      protocolVersion: 4,
      clean: false,
      // Long: the broker's keepalive must not end the connection while the test holds it unread.
      keepalive: 1200,
      clientId,
      username,
      password: Buffer.from(INGEST_PASSWORD),
    }),
  )
  await subscribed
  socket.pause()
  return { socket, got, isClosed: () => closed }
}

t.test('a slow ingest is waited for; a slow observer is disconnected after drainTimeoutMs', async (t) => {
  const drainTimeoutMs = 50
  const hash = await hashServicePassword(INGEST_PASSWORD, TEST_SCRYPT)
  const { url, registry, log } = await startBroker(t, {
    drainTimeoutMs,
    // Large readings fill the sockets' buffers in few messages (the broker does not read their contents).
    maxPayloadBytes: 64 * 1024,
    serviceAccounts: {
      ingest: { role: 'ingest', passwordHash: hash },
      watch: { role: 'observer', passwordHash: hash },
    },
  })
  const port = Number(new URL(url).port)
  const ingest = await slowReader(port, 'ingest', 'ingest-0')
  const observer = await slowReader(port, 'watch', 'watch-0')
  t.teardown(() => {
    ingest.socket.destroy()
    observer.socket.destroy()
  })
  const dev = makeDevice('reefer-bp')
  registry.register(dev.id, dev.publicKey)
  const device = await mustConnect(url, deviceOptions(dev))
  t.teardown(() => endClient(device))

  // 400 x 60 KB (24 MB): far more than two loopback sockets buffer, so both readers' sockets fill.
  const n = 400
  const payloads = Array.from({ length: n }, (_, i) => Buffer.alloc(60 * 1024, i % 251))
  for (const p of payloads) device.publish(deviceTopic(dev.id, 'readings'), p, { qos: 1 })

  await until(() => /"clientId":"watch-0","err":"drain timeout"/.test(log.text()))
  t.pass('the observer that stopped reading was disconnected (drain timeout)')
  // Both received the same deliveries in the same order, so the ingest's socket was full too. This margin
  // can only let a broker that times the ingest out pass by chance, never fail one that waits for it.
  await sleep(10 * drainTimeoutMs)
  ingest.socket.resume()
  // A reader the broker dropped gets what was sent before the drop, then the close.
  await until(() => ingest.got.length >= n || ingest.isClosed())
  t.equal(ingest.got.length, n, 'every reading delivered once')
  t.ok(
    ingest.got.every((b, i) => b.equals(payloads[i]!)),
    'in publish order, byte for byte',
  )
  t.notOk(ingest.isClosed(), 'on the one connection it never lost')
  t.notMatch(log.text(), /"clientId":"ingest-0","err"/, 'no client error for the ingest')
})
