/**
 * The ingest's in-flight cap (ledger/ingest/in-flight-cap.ts): with its
 * commits held back it takes exactly `maxInFlight` messages and reads no
 * further; once they commit it goes on, and every reading is stored exactly
 * once, each PUBACK after its commit, nothing left unacknowledged at the
 * broker; also when the connection drops while a message waits at the cap.
 * Real broker (aedes), real MQTT clients, a real ledger whose reading writes
 * wait at a gate the test opens.
 */
import t, { type Test as TT } from 'tap'
import { openLedger, type Ledger } from '../store/ledger.ts'
import { createIngest } from '../ingest/ingest.ts'
import { decodeReading, equalBytes, fromBase64 } from '../protocol/index.ts'
import { DeviceLoop, simDevice, startBroker, tempDir, waitFor, T0 } from './support.ts'

const NOW = T0 + 3_600_000
const CAP = 4

async function setup(t: TT, clientId: string) {
  const broker = await startBroker()
  const { dir, remove } = await tempDir()
  const ledger = await openLedger({ dir, clock: () => NOW, checkpointIntervalMs: 0 })
  const d = simDevice('probe-cap', 9)
  await ledger.registerDevice({ deviceId: d.id, publicKey: d.publicKey, by: 'qa' })
  let open!: () => void
  const gate = new Promise<void>((r) => {
    open = r
  })
  let held = 0
  const gated = new Proxy(ledger, {
    get(target, prop) {
      if (prop === 'appendReading')
        return async (...args: Parameters<Ledger['appendReading']>) => {
          held++
          await gate
          return target.appendReading(...args)
        }
      const v = Reflect.get(target, prop, target) as unknown
      return typeof v === 'function' ? v.bind(target) : v
    },
  })
  const ingest = createIngest({
    ledger: gated,
    url: broker.url,
    clientId,
    maxInFlight: CAP,
    mqttOptions: { reconnectPeriod: 50 },
  })
  // aedes emits 'ack' when a subscriber PUBACKs a delivered QoS 1 message.
  const acked = new Set<number>()
  const early: number[] = []
  broker.broker.on('ack', (packet, client) => {
    if (client?.id !== clientId || !packet || !('payload' in packet)) return
    const seq = decodeReading(new Uint8Array(packet.payload as Buffer)).fields.seq
    acked.add(seq)
    if ((ledger.device(d.id)?.highest ?? 0) < seq) early.push(seq)
  })
  await ingest.start()
  const dev = new DeviceLoop(d)
  await dev.connect(broker.url)
  t.teardown(async () => {
    open()
    await ingest.close().catch(() => {})
    await dev.close().catch(() => {})
    await ledger.close().catch(() => {})
    await broker.close()
    await remove()
  })
  /** QoS 1 messages the broker still holds for the ingest, unacknowledged. */
  const unacked = async () => {
    let n = 0
    const persistence = (
      broker.broker as unknown as { persistence: { outgoingStream(c: { id: string }): AsyncIterable<unknown> } }
    ).persistence
    for await (const _ of persistence.outgoingStream({ id: clientId })) n++
    return n
  }
  return { ledger, ingest, dev, acked, early, unacked, open: () => open(), held: () => held }
}

/** Every reading of `dev` stored exactly once, in seq order, with its exact signed bytes. */
async function storedOnce(t: TT, ledger: Ledger, dev: DeviceLoop, n: number) {
  const stored = await ledger.readingsByDevice(dev.d.id)
  t.equal(stored.length, n, `${n} readings stored, none twice`)
  t.ok(
    stored.every((e, i) => equalBytes(fromBase64(e.entry.body.payload), dev.sent.get(i + 1)!)),
    'seq 1..n, the exact signed bytes',
  )
}

t.test('at the cap the ingest reads no further; after the commits everything is stored once', async (t) => {
  const { ledger, ingest, dev, acked, early, unacked, open, held } = await setup(t, 'ingest-cap')
  const n = 40
  for (let i = 0; i < n; i++) dev.send(500 + i, T0 + i * 60_000)

  // The cap is reached and the next message waits: the ingest holds exactly CAP, uncommitted.
  await waitFor(() => ingest.stats().inFlightWaits >= 1 && held() >= 1, 'a message waiting at the cap', 60_000)
  t.equal(ingest.stats().pending, CAP, `${CAP} messages in flight`)
  t.equal(ingest.stats().received, CAP, 'nothing more was taken in')
  t.equal(acked.size, 0, 'none acknowledged: none is durable')

  open()
  await waitFor(() => ingest.stats().readings === n && ingest.stats().pending === 0, 'all committed', 60_000)
  await waitFor(async () => acked.size === n && (await unacked()) === 0, 'every PUBACK at the broker', 60_000)
  const s = ingest.stats()
  t.equal(s.inFlightPeak, CAP, `never more than ${CAP} in flight`)
  // The test device may send a reading twice (it re-sends unreceipted ones when its subscription is confirmed).
  t.equal(s.received, n + s.duplicates, 'everything else received was a copy')
  t.same(early, [], 'no PUBACK before the commit of its message')
  await storedOnce(t, ledger, dev, n)
})

t.test('a connection lost while a message waits at the cap loses and duplicates nothing', async (t) => {
  const { ledger, ingest, dev, acked, early, unacked, open, held } = await setup(t, 'ingest-cap-drop')
  const n = 20
  for (let i = 0; i < n; i++) dev.send(500 + i, T0 + i * 60_000)
  await waitFor(() => ingest.stats().inFlightWaits >= 1 && held() >= 1, 'a message waiting at the cap', 60_000)

  // Drop the ingest's connection under it; mqtt.js reconnects to the persistent session. The commits go on
  // once the old connection is gone: the waiting message then belongs to a lost connection.
  const client = ingest.client!
  const lost = new Promise<void>((r) => client.once('close', () => r()))
  client.stream.destroy()
  await lost
  open()

  await waitFor(() => ingest.stats().readings === n && ingest.stats().pending === 0, 'all committed', 60_000)
  await waitFor(async () => acked.size === n && (await unacked()) === 0, 'every PUBACK at the broker', 60_000)
  const s = ingest.stats()
  t.ok(s.inFlightPeak <= CAP, `never more than ${CAP} in flight (peak ${s.inFlightPeak})`)
  // The ones in flight at the drop committed, but their PUBACKs belonged to the lost connection: redelivered, judged copies.
  t.ok(s.duplicates >= 1, `redeliveries judged as copies (${s.duplicates})`)
  t.equal(s.received, n + s.duplicates, 'everything else received was a copy')
  t.same(early, [], 'no PUBACK before the commit of its message')
  await storedOnce(t, ledger, dev, n)
})
