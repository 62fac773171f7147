/**
 * Signature checks on the verify pool's worker threads (verifyThreads > 0,
 * the default) and on the main thread (verifyThreads: 0) decide the same:
 * judged in arrival order, forged readings quarantined, and a revocation
 * committed after a message arrived still refuses it. Through `handle`, no
 * broker needed.
 */
import t from 'tap'
import { openLedger } from '../store/ledger.ts'
import { createIngest, type Outcome } from '../ingest/ingest.ts'
import { nextReading, simDevice, tempDir, T0 } from './support.ts'

for (const verifyThreads of [0, 1]) {
  t.test(
    `verifyThreads ${verifyThreads}: a burst is chained in arrival order, a forgery quarantined, a late revocation honoured`,
    async (t) => {
      const { dir, remove } = await tempDir()
      t.teardown(remove)
      const ledger = await openLedger({ dir, clock: () => T0 + 3_600_000, checkpointIntervalMs: 0 })
      t.teardown(() => ledger.close())
      const a = simDevice('pool-a', 1)
      const r = simDevice('pool-r', 2)
      for (const d of [a, r]) await ledger.registerDevice({ deviceId: d.id, publicKey: d.publicKey, by: 'qa' })
      const ingest = createIngest({ ledger, url: 'mqtt://127.0.0.1:1', gapCheckIntervalMs: 0, verifyThreads })
      t.teardown(() => ingest.close())

      // Handed over without waiting: every check starts at once, judging stays in order.
      const burst = Array.from({ length: 60 }, (_, i) => ingest.handle(a.topic, nextReading(a, 500, T0 + i * 1000)))
      const forged = ingest.handle(a.topic, nextReading(simDevice('pool-a', 9), 500, T0))
      const revokedLate = ingest.handle(r.topic, nextReading(r, 500, T0))
      const revoke = ledger.revokeDevice({ deviceId: r.id, reason: 'lost', by: 'qa' })
      const outcomes = await Promise.all(burst)
      t.same(
        outcomes.map((o) => (o as Extract<Outcome, { kind: 'stored' }>).seq),
        Array.from({ length: 60 }, (_, i) => i + 1),
        'stored in seq order',
      )
      t.match(await forged, { kind: 'quarantined', reason: 'ERR_READING_BAD_SIGNATURE' })
      await revoke
      const late = await revokedLate
      // Judged after the revocation was submitted: refused either at judging or when its commit met the revocation.
      t.match(late, { kind: 'quarantined', reason: 'ERR_REVOKED' }, 'a revocation after arrival refuses the reading')
      t.equal(ledger.device(a.id)!.contiguous, 60)
      await ingest.close()
      // After close the ingest still judges correctly (verifying inline).
      t.match(await ingest.handle(a.topic, nextReading(a, 500, T0 + 61_000)), { kind: 'stored', seq: 61 })
    },
  )
}

t.test('verifyThreads must be a non-negative integer', async (t) => {
  const { dir, remove } = await tempDir()
  t.teardown(remove)
  const ledger = await openLedger({ dir, checkpointIntervalMs: 0 })
  t.teardown(() => ledger.close())
  t.throws(() => createIngest({ ledger, url: 'mqtt://127.0.0.1:1', verifyThreads: -1 }), /verifyThreads/)
  t.throws(() => createIngest({ ledger, url: 'mqtt://127.0.0.1:1', verifyThreads: 1.5 }), /verifyThreads/)
})
