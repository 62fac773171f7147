/**
 * The root log over real partition ledgers (no NATS needed): it records
 * signed partition checkpoints, signs root checkpoints that survive a reopen
 * (a torn last line is cut), proves a leaf's inclusion, and verifyRootLog
 * refuses leaves that do not match, a wrong key, and a shrinking partition.
 * Also the partition layout of the subjects.
 */
import t from 'tap'
import { appendFileSync } from 'node:fs'
import { generateKeyPairSync } from 'node:crypto'
import { join } from 'node:path'
import { openLedger } from '../store/ledger.ts'
import { fromBase64, partitionOf } from '../protocol/index.ts'
import { openRootLog, verifyRootInclusion, verifyRootLog } from './root-log.ts'
import { checkPartitionCount, ingestPartitionOf, partitionSubjects, streamName } from './subjects.ts'

const newKey = () =>
  generateKeyPairSync('ed25519').publicKey.export({ format: 'der', type: 'spki' }).subarray(12).toString('hex')

t.test('root log: record, sign, reopen, prove, verify', async (t) => {
  const dir = t.testdir()
  const ledgers = await Promise.all(
    [0, 1].map((k) => openLedger({ dir: join(dir, `p${k}`), origin: `test.local/p${k}`, checkpointIntervalMs: 0 })),
  )
  t.teardown(() => Promise.all(ledgers.map((l) => l.close())))
  const notes: string[][] = [[], []]
  for (const [k, l] of ledgers.entries()) {
    for (let i = 0; i < 2; i++) {
      await l.registerDevice({ deviceId: `dev-${k}-${i}`, publicKey: newKey(), by: 'test' })
      await l.checkpoint()
      notes[k].push(l.latestAnchor()!.note)
    }
  }
  const vkeys = new Map(ledgers.map((l, k) => [k, l.verifierKey]))
  const rootDir = join(dir, 'root')
  let root = await openRootLog({ dir: rootDir, origin: 'test.local/root' })
  await root.record(0, notes[0][0])
  await root.record(1, notes[1][0])
  await root.record(0, notes[0][1])
  const cp = await root.sign()
  t.equal(cp?.size, 3, 'a root checkpoint over three leaves')
  t.equal(await root.sign(), cp, 'nothing new: no new signature')
  await root.close()

  // A crash mid-append leaves a torn line: cut on reopen; the signed checkpoint still matches.
  appendFileSync(join(rootDir, 'partitions.log'), '{"p":1,"note":"torn')
  root = await openRootLog({ dir: rootDir, origin: 'test.local/root' })
  t.teardown(() => root.close())
  t.equal(root.leaves().length, 3, 'the torn line is cut off')
  t.same(root.latest(), cp, 'the latest root checkpoint is read back')
  await root.record(1, notes[1][1])
  const cp2 = (await root.sign())!

  const v = await verifyRootLog(cp2.note, root.verifierKey, root.leaves(), vkeys)
  t.equal(v.size, 4)
  t.equal(v.partitions.get(0)?.note, notes[0][1], 'partition 0: its newest checkpoint')
  t.equal(v.partitions.get(1)?.note, notes[1][1], 'partition 1: its newest checkpoint')

  const proof = await root.inclusionProof(1, 4)
  t.doesNotThrow(
    () => verifyRootInclusion(root.leaves()[1], 1, 4, proof, fromBase64(cp2.rootHash)),
    'a leaf is proven in the root checkpoint',
  )
  t.throws(
    () => verifyRootInclusion(root.leaves()[0], 1, 4, proof, fromBase64(cp2.rootHash)),
    'another leaf at that index is not',
  )

  const leaves = root.leaves()
  await t.rejects(
    verifyRootLog(
      cp2.note,
      root.verifierKey,
      leaves.map((l, i) => (i === 2 ? { ...l, note: notes[0][0] } : l)),
      vkeys,
    ),
    { code: 'ERR_LEDGER_CLUSTER_ROOT' },
    'a changed leaf does not hash to the root',
  )
  await t.rejects(
    verifyRootLog(cp2.note, ledgers[0].verifierKey, leaves, vkeys),
    { code: 'ERR_LEDGER_CLUSTER_ROOT' },
    'a root checkpoint under another key is refused',
  )
  await t.rejects(
    verifyRootLog(
      cp2.note,
      root.verifierKey,
      leaves,
      new Map([
        [0, ledgers[1].verifierKey],
        [1, ledgers[1].verifierKey],
      ]),
    ),
    { code: 'ERR_LEDGER_CLUSTER_ROOT' },
    'a partition checkpoint under the wrong key is refused',
  )
  await t.rejects(
    verifyRootLog(cp2.note, root.verifierKey, leaves.slice(0, 2), vkeys),
    { code: 'ERR_LEDGER_CLUSTER_ROOT' },
    'fewer leaves than the root covers are refused',
  )

  // A root that records a partition going backwards is refused.
  const other = await openRootLog({ dir: join(dir, 'root2'), origin: 'test.local/root2' })
  t.teardown(() => other.close())
  await other.record(0, notes[0][1])
  await other.record(0, notes[0][0])
  const back = (await other.sign())!
  await t.rejects(
    verifyRootLog(back.note, other.verifierKey, other.leaves(), vkeys),
    { code: 'ERR_LEDGER_CLUSTER_ROOT', message: /shrinks/ },
    'a shrinking partition is refused',
  )
})

t.test('partition layout: P divides 16, each topic digit in exactly one partition', async (t) => {
  for (const bad of [0, 3, 32, '2'])
    t.throws(() => checkPartitionCount(bad), { code: 'ERR_LEDGER_BAD_INPUT' }, `P = ${JSON.stringify(bad)} refused`)
  for (const p of [1, 2, 4, 8, 16]) {
    const all = Array.from({ length: p }, (_, k) => partitionSubjects(k, p)).flat()
    t.equal(new Set(all).size, 16, `P = ${p}: the 16 digits, none twice`)
  }
  t.same(partitionSubjects(1, 4), [
    'coldproof.v1.1.*.readings',
    'coldproof.v1.5.*.readings',
    'coldproof.v1.9.*.readings',
    'coldproof.v1.d.*.readings',
  ])
  t.equal(streamName(1, 4), 'COLDPROOF_READINGS_1_OF_4')
  t.equal(
    ingestPartitionOf('truck-7-probe-1', 4),
    partitionOf('truck-7-probe-1') % 4,
    'a device goes to its topic digit mod P',
  )
  t.throws(() => partitionSubjects(4, 4), { code: 'ERR_LEDGER_BAD_INPUT' })
})
