/**
 * The chaos suite's audit (scripts/chaos/audit.ts) must be able to fail: a
 * real ledger on disk, a device's signed log with one reading the ledger never
 * got, one inside a declared gap, and a rejected message that is neither
 * quarantined nor counted.
 */
import t from 'tap'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { openLedger } from '../../ledger/store/index.ts'
import { toBase64, toHex } from '../../ledger/protocol/index.ts'
import { nextReading, simDevice, tempDir, T0 } from '../../ledger/test/support.ts'
import { audit } from '../chaos/audit.ts'
import { SIGNED_LOG } from '../chaos/fleet-child.ts'

const frame = (p: Uint8Array) => {
  const b = Buffer.alloc(4 + p.length)
  b.writeUInt32BE(p.length, 0)
  b.set(p, 4)
  return b
}

t.test('the audit reports a lost reading, a declared gap and an unaccounted rejection', async (t) => {
  const tmp = await tempDir('coldproof-chaos-audit-')
  t.teardown(tmp.remove)
  const ledgerDir = join(tmp.dir, 'ledger')
  const ledger = await openLedger({ dir: ledgerDir, clock: () => T0 + 60_000, checkpointIntervalMs: 0 })
  const a = simDevice('probe-a', 1)
  await ledger.registerDevice({ deviceId: a.id, publicKey: toHex(a.publicKey), by: 'qa' })
  const p = [1, 2, 3, 4, 5, 6].map((i) => nextReading(a, 500, T0 + i * 1000))
  const body = (k: number) => ({ payload: toBase64(p[k]!), deviceId: a.id, seq: k + 1 })
  await ledger.appendReading(body(0), T0)
  await ledger.appendReading(body(1), T0)
  await ledger.holdReading(body(3), T0)
  await ledger.holdReading(body(4), T0)
  await ledger.declareGap({
    deviceId: a.id,
    fromSeq: 3,
    toSeq: 3,
    cause: 'buffer-overflow',
    by: 'ingest',
    detail: 'qa',
  })
  const kept = Buffer.from([1, 2, 3])
  await ledger.quarantine({
    reason: 'ERR_READING_TRUNCATED',
    message: 'qa',
    time: T0,
    topic: 'x',
    raw: kept.toString('base64'),
    rawLength: 3,
  })
  await ledger.close()
  // The device signed all six; seq 6 never reached the ledger.
  const fleetDir = join(tmp.dir, 'fleet')
  mkdirSync(join(fleetDir, a.id), { recursive: true })
  writeFileSync(join(fleetDir, a.id, SIGNED_LOG), Buffer.concat(p.map(frame)))

  const r = await audit({
    ledgerDir,
    fleetDir,
    fleetDevices: [a.id],
    shipments: [],
    sent: [
      { kind: 'random bytes', expect: 'quarantine', deviceId: a.id, payload: kept, outcome: 'puback' },
      { kind: 'bit-flipped', expect: 'quarantine', deviceId: a.id, payload: Buffer.from([9, 9, 9]), outcome: 'puback' },
      { kind: 'oversized packet', expect: 'refused', deviceId: a.id, payload: Buffer.alloc(0), outcome: 'refused' },
      { kind: 'replay', expect: 'duplicate', deviceId: a.id, payload: Buffer.from(p[0]!), outcome: 'puback' },
    ],
  })
  t.equal(r.produced, 6, 'six signed')
  t.equal(r.stored, 4, 'seq 1, 2, 4, 5 stored')
  t.equal(r.inGaps, 1, 'seq 3 in the declared gap')
  t.same(
    r.gaps.map((g) => [g.deviceId, g.fromSeq, g.toSeq, g.cause]),
    [[a.id, 3, 3, 'buffer-overflow']],
  )
  t.same(r.lost, [{ deviceId: a.id, seq: 6 }], 'seq 6 is a loss')
  t.same(r.duplicates, [])
  t.same(r.rejected.quarantinedByReason, { ERR_READING_TRUNCATED: 1 })
  t.same(r.rejected.refusedByKind, { 'oversized packet': 1 })
  t.same(
    r.rejected.unaccounted,
    [{ kind: 'bit-flipped', expect: 'quarantine' }],
    'the message neither quarantined nor counted',
  )
  t.equal(r.rejected.duplicatesAnswered, 1)
  t.equal(r.rejected.inLog, 0)
})
