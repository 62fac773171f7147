/**
 * Derived data is checked (issue 13, item 3): a real ledger (devices, a
 * shipment opened and closed, readings, checkpoints) is damaged in one
 * derived key at a time, the way a bad sector or a stray write could, while
 * every entry stays intact. The offline check (verify-ledger's reader) and
 * the live check (the open ledger's snapshot, as the dashboard runs it) must
 * both fail with the code of that kind of key and name the key.
 */
import t from 'tap'
import { cp } from 'node:fs/promises'
import { join } from 'node:path'
import { ClassicLevel } from 'classic-level'
import { openLedger } from '../store/ledger.ts'
import { openLedgerDirReader } from '../store/fsck-reader.ts'
import { checkLedger, type LedgerReader } from '../store/fsck.ts'
import { K, parseKey } from '../store/keys-layout.ts'
import { toBase64, toHex } from '../protocol/bytes.ts'
import { signedReading, testDevice } from '../tlog/test/entries.ts'
import { tempDir } from './support.ts'

const T = Date.UTC(2026, 10, 3)
const enc = new TextEncoder()
const dec = new TextDecoder()

async function build(dir: string): Promise<void> {
  const ledger = await openLedger({ dir, checkpointEvery: 7, checkpointIntervalMs: 0 })
  const devs = [testDevice('derived-a', 31), testDevice('derived-b', 32)]
  for (const d of devs) await ledger.registerDevice({ deviceId: d.id, publicKey: toHex(d.publicKey), by: 'qa' })
  await ledger.createShipment({
    shipmentId: 'SHP-D',
    product: 'Vaccine',
    route: { from: 'A', to: 'B' },
    devices: devs.map((d) => d.id),
    profile: { id: 'p' },
    startAt: T + 5 * 60_000,
    by: 'qa',
  })
  for (let i = 0; i < 12; i++) {
    for (const d of devs) {
      const p = signedReading(d, 450, T + d.seq * 60_000)
      await ledger.appendReading({ payload: toBase64(p), deviceId: d.id, seq: d.seq }, T + i * 60_000)
    }
    if (i === 8) await ledger.closeShipment({ shipmentId: 'SHP-D', closedAt: T + 8 * 60_000, by: 'qa' })
  }
  await ledger.close()
}

type Damage = (db: ClassicLevel<string, Uint8Array>) => Promise<string>

const edit =
  (key: string, f: (v: Record<string, unknown>) => void): Damage =>
  async (db) => {
    const v = JSON.parse(dec.decode((await db.get(key))!)) as Record<string, unknown>
    f(v)
    await db.put(key, enc.encode(JSON.stringify(v)))
    return key
  }
async function nthReadingKey(db: ClassicLevel<string, Uint8Array>, n: number): Promise<string> {
  let seen = 0
  for await (const k of db.keys({ gte: K.byTypePrefix('reading'), lt: `${K.byTypePrefix('reading')}~` }))
    if (seen++ === n) return k
  throw new Error(`fewer than ${n + 1} readings in the ledger`)
}
const del =
  (key: string): Damage =>
  async (db) => {
    await db.del(key)
    return key
  }

const CASES: { name: string; code: string; damage: Damage }[] = [
  {
    name: 'a Merkle node changed',
    code: 'ERR_FSCK_DERIVED_NODE',
    damage: async (db) => {
      const k = K.node(2, 1)
      await db.put(k, new Uint8Array(32).fill(7))
      return k
    },
  },
  { name: 'a Merkle node deleted', code: 'ERR_FSCK_DERIVED_NODE', damage: del(K.node(1, 3)) },
  { name: 'a Merkle leaf deleted', code: 'ERR_FSCK_DERIVED_NODE', damage: del(K.node(0, 4)) },
  // Checkpoints are written when the ledger gets to them, so which index holds a reading is found, not assumed.
  {
    name: 'a by-type index key deleted',
    code: 'ERR_FSCK_DERIVED_INDEX',
    damage: async (db) => {
      const k = await nthReadingKey(db, 5)
      await db.del(k)
      return k
    },
  },
  {
    name: 'a by-type index key of another type',
    code: 'ERR_FSCK_DERIVED_INDEX',
    damage: async (db) => {
      const k = K.byType('alarm.ack', parseKey.byType(await nthReadingKey(db, 5)).index)
      await db.put(k, new Uint8Array(0))
      return k
    },
  },
  {
    name: 'a reading row with another hash',
    code: 'ERR_FSCK_DERIVED_INDEX',
    damage: edit(K.reading('derived-a', 5), (v) => {
      v.h = '00'.repeat(32)
    }),
  },
  { name: 'a reading row deleted', code: 'ERR_FSCK_DERIVED_INDEX', damage: del(K.reading('derived-b', 9)) },
  {
    name: 'a time index key deleted',
    code: 'ERR_FSCK_DERIVED_INDEX',
    damage: async (db) => {
      for await (const k of db.keys({ gte: 'rt!derived-a!', lt: 'rt!derived-a!~', limit: 1 })) {
        await db.del(k)
        return k
      }
      return ''
    },
  },
  {
    name: 'a shipment index key pointing elsewhere',
    code: 'ERR_FSCK_DERIVED_INDEX',
    damage: async (db) => {
      for await (const k of db.keys({ gte: 'rs!SHP-D!', lt: 'rs!SHP-D!~', limit: 1 })) {
        await db.put(k, enc.encode('2'))
        return k
      }
      return ''
    },
  },
  {
    name: 'a device state with another reading count',
    code: 'ERR_FSCK_DERIVED_STATE',
    damage: edit(K.device('derived-a'), (v) => {
      v.readings = 3
    }),
  },
  {
    name: 'a device state with another receipt hash',
    code: 'ERR_FSCK_DERIVED_STATE',
    damage: edit(K.device('derived-b'), (v) => {
      v.contiguousHash = 'ab'.repeat(32)
    }),
  },
  {
    name: 'a shipment state reopened',
    code: 'ERR_FSCK_DERIVED_STATE',
    damage: edit(K.shipment('SHP-D'), (v) => {
      delete v.closedAt
      delete v.closeIndex
    }),
  },
  {
    name: 'the counters changed',
    code: 'ERR_FSCK_DERIVED_STATE',
    damage: edit(K.stats, (v) => {
      v.entries = 1
    }),
  },
]

t.test('damaged derived data is found and named, offline and live', async (t) => {
  const { dir: base, remove } = await tempDir('coldproof-derived-base-')
  t.teardown(remove)
  await build(base)
  const vkey = await openLedgerDirReader(base).then(async (r) => {
    await r.close()
    return (await import('../store/ledger-key.ts')).readVerifierKey(base)
  })
  {
    const r = await openLedgerDirReader(base)
    const report = await checkLedger(r, { ledgerPublicKey: vkey })
    await r.close()
    t.ok(report.ok, `the intact ledger verifies: ${report.failure?.message ?? ''}`)
    t.ok((report.derivedKeys ?? 0) > 100, `${report.derivedKeys} derived keys compared`)
  }
  for (const c of CASES) {
    await t.test(c.name, async (t) => {
      const { dir, remove } = await tempDir('coldproof-derived-')
      t.teardown(remove)
      await cp(base, dir, { recursive: true })
      const db = new ClassicLevel<string, Uint8Array>(join(dir, 'db'), { keyEncoding: 'utf8', valueEncoding: 'view' })
      await db.open()
      const key = await c.damage(db)
      await db.close()
      t.ok(key, 'a key was damaged')

      const reader = await openLedgerDirReader(dir)
      const offline = await checkLedger(reader, { ledgerPublicKey: vkey })
      await reader.close()
      t.equal(offline.failure?.code, c.code, `offline: ${offline.failure?.message ?? 'ok?'}`)
      t.equal(offline.failure?.details.key, key, 'offline: names the key')

      // The live check: the dashboard's reader over the open ledger (the tree state is intact, so it opens).
      const ledger = await openLedger({ dir, checkpointIntervalMs: 0 })
      try {
        const size = ledger.size()
        const live: LedgerReader = {
          size: async () => size,
          entryBytes: (i) => ledger.entryBytes(i),
          latestCheckpoint: async () => ledger.latestCheckpoint()?.note,
          anchorCheckpoint: async () => ledger.latestAnchor()?.note,
          storeSnapshot: () => ledger.storeSnapshot(),
        }
        const r = await checkLedger(live, { ledgerPublicKey: vkey })
        t.equal(r.failure?.code, c.code, `live: ${r.failure?.message ?? 'ok?'}`)
      } finally {
        await ledger.close()
      }
    })
  }
})
