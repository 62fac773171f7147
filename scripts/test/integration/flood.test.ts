/**
 * A flood from one stolen device key (issue 13, item 7): real broker, ingest
 * and LevelDB. The thief logs in again and again (a fresh valid token each
 * time) and floods garbage, forged readings far ahead of the chain and a fork.
 * The broker's per-device rate limit holds across the reconnects (a frozen
 * broker clock: the bucket never refills, so exactly `burst` publishes get
 * through in all), the quarantine and the held store stay within their caps,
 * the database grows by a bounded amount, and an honest device is unaffected.
 */
import t from 'tap'
import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { pino } from 'pino'
import { createBroker, hashServicePassword } from '../../../broker/index.ts'
import { openLedger } from '../../../ledger/store/index.ts'
import { createIngest } from '../../../ledger/ingest/index.ts'
import { heldCount } from '../../../ledger/store/index.ts'
import { deviceTopic, STATUS } from '../../../ledger/protocol/index.ts'
import { closed, deviceOptions, endClient, makeDevice, mustConnect } from '../../../broker/test/support.ts'
import { signFields } from '../../../ledger/test/support.ts'
import { INGEST_PASSWORD, INGEST_USER, tempDir, waitFor } from './support.ts'

async function dirBytes(dir: string): Promise<number> {
  let n = 0
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true }))
    if (e.isFile()) n += (await stat(join(e.parentPath, e.name))).size
  return n
}

t.test(
  'one stolen key flooding through reconnects: rate limit, quarantine caps and held caps hold; the database stays small',
  async (t) => {
    const dir = await tempDir(t, 'flood')
    const caps = { maxRecords: 10_000, maxBytes: 32 << 20, maxPerDevice: 40 }
    const ledger = await openLedger({ dir: join(dir, 'ledger'), quarantineCaps: caps })
    const frozen = Date.now()
    const burst = 300
    const broker = await createBroker({
      registry: { lookupDevice: async (id) => ledger.lookupDevice(id) },
      serviceAccounts: {
        [INGEST_USER]: {
          passwordHash: await hashServicePassword(INGEST_PASSWORD, { N: 2 ** 12, r: 8, p: 1 }),
          role: 'ingest',
        },
      },
      host: '127.0.0.1',
      port: 0,
      logger: pino({ level: 'silent' }),
      clock: () => frozen,
      rateLimit: { perSecond: 1, burst, maxDelayMs: 0 },
    })
    const { url } = await broker.listen()
    const ingest = createIngest({
      ledger,
      url,
      username: INGEST_USER,
      password: INGEST_PASSWORD,
      maxHeldPerDevice: 20,
      maxHeldAhead: 200,
      gapCheckIntervalMs: 0,
    })
    await ingest.start()
    t.teardown(async () => {
      await ingest.close()
      await broker.close()
      await ledger.close()
    })
    const thief = makeDevice('stolen-key')
    const honest = makeDevice('honest-probe')
    for (const d of [thief, honest]) await ledger.registerDevice({ deviceId: d.id, publicKey: d.publicKey, by: 'qa' })
    const [first] = thief.readings(1, frozen - 3_600_000)
    const honestReadings = honest.readings(11, frozen - 3_600_000)

    // The thief's own chain starts genuinely; the honest device stores 10 readings.
    const h = await mustConnect(url, deviceOptions(honest))
    for (const r of honestReadings.slice(0, 10))
      await h.publishAsync(deviceTopic(honest.id, 'readings'), Buffer.from(r), { qos: 1 })
    await waitFor(() => ledger.device(honest.id)?.contiguous === 10, 'the honest readings stored')
    const before = await dirBytes(join(dir, 'ledger'))

    const secret = {
      id: thief.id,
      seed: thief.secretKey,
      publicKey: thief.publicKey,
      seq: 0,
      prev: new Uint8Array(32),
      topic: deviceTopic(thief.id, 'readings'),
    }
    const forged = (seq: number, i: number) =>
      signFields(secret, {
        deviceId: thief.id,
        seq,
        deviceTimeMs: frozen - 60_000,
        tempCentiC: i % 1000,
        prevHash: new Uint8Array(randomBytes(32)),
        ...(i % 7 === 0 ? { status: STATUS.BUFFER_OVERFLOW } : {}),
      })
    let sent = 0
    for (let round = 0; round < 20; round++) {
      // A fresh login each round: a rate limit per connection would refill here.
      const c = await mustConnect(url, { ...deviceOptions(thief), reconnectPeriod: 0 })
      c.on('error', () => {})
      const writes: Promise<unknown>[] = []
      for (let i = 0; i < 100; i++, sent++) {
        const kind = sent % 4
        const payload =
          sent === 0
            ? first
            : kind === 0
              ? new Uint8Array(randomBytes(60))
              : kind === 1
                ? forged(1, sent)
                : forged(3 + ((sent * 7919) % 100_000), sent)
        writes.push(c.publishAsync(deviceTopic(thief.id, 'readings'), Buffer.from(payload), { qos: 0 }).catch(() => {}))
      }
      // Every publish written to the socket, or the broker closed the connection (rate limited).
      await Promise.race([Promise.all(writes), closed(c)])
      // A graceful end: what is still in the socket's buffer goes out first.
      await new Promise<void>((resolve) => c.end(false, {}, () => resolve()))
    }
    t.comment(`the thief sent ${sent} messages over 20 logins`)
    // The last thief connection is closed: everything the broker let through is ahead of this honest reading.
    await h.publishAsync(deviceTopic(honest.id, 'readings'), Buffer.from(honestReadings[10]), { qos: 1 })
    await waitFor(
      () => ledger.device(honest.id)?.contiguous === 11,
      'the honest device unaffected: its next reading stored',
    )
    await ledger.barrier()
    await endClient(h)

    const st = ingest.stats()
    const fromThief = st.received - 11
    t.ok(fromThief > 0, 'the flood reached the ingest')
    t.ok(
      fromThief <= burst,
      `the broker let ${fromThief} of ${sent} through: at most the bucket's ${burst} over 20 logins`,
    )
    t.ok(broker.metrics().refusals.rate_limited >= 1, 'the flood was refused by the rate limit')
    const s = ledger.stats()
    const kept = s.quarantineKept!
    t.ok(
      (kept.byDevice[thief.id] ?? 0) <= caps.maxPerDevice,
      `the thief's quarantine records: ${kept.byDevice[thief.id]} kept, at most ${caps.maxPerDevice}`,
    )
    t.ok((s.quarantineDropped ?? 0) > 0, `${s.quarantineDropped} rejections counted but not kept`)
    const d = ledger.device(thief.id)!
    t.ok(heldCount(d) <= 20 + 200, `the thief's held readings: ${heldCount(d)}, within maxHeldPerDevice + maxHeldAhead`)
    t.ok((s.entriesByType['reading.fork'] ?? 0) <= 1, 'at most one fork entry for the stolen key')
    t.ok(ledger.size() < 40, `the log holds ${ledger.size()} entries`)
    const growth = (await dirBytes(join(dir, 'ledger'))) - before
    t.comment(`database growth during the flood: ${growth} bytes`)
    t.ok(growth < 4 << 20, `the database grew by ${growth} bytes (< 4 MiB)`)
  },
)
