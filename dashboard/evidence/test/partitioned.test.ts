/**
 * Partitioned evidence bundles (version 3, docs/BUNDLE.md): a cluster data
 * directory laid out as `coldproof start --cluster` lays it out (two partition
 * ledgers on real LevelDB, the root log), a shipment whose two loggers live in
 * different partitions, readings signed by device keys. The bundle proves every
 * reading up to the signed root checkpoint and verifies; each link tampered
 * with (partition entry, partition proof, root entry, root proof, root
 * checkpoint signature, a dropped partition) is refused with its reason code;
 * `coldproof report --bundle --data` writes it and `coldproof verify` accepts it.
 */
import t from 'tap'
import type { Test } from 'tap'
import { execFile } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { canonicalJsonBytes } from '../../../ledger/tlog/index.ts'
import type { Ledger } from '../../../ledger/store/index.ts'
import type { RootLog } from '../../../ledger/cluster/index.ts'
import { createClusterShipment } from '../../../ledger/cluster/index.ts'
import { fromBase64, toBase64, utf8 } from '../../../ledger/protocol/index.ts'
import { buildBundle, buildPartitionedBundle } from '../build.ts'
import { collectBundleInputs } from '../collect.ts'
import { collectPartitionedBundleInputs } from '../collect-partitioned.ts'
import { bundleHash, type EntryRef, type PartitionedEvidenceBundle } from '../format.ts'
import { verifyBundle, type CheckId, type VerifyReasonCode, type VerifyReport } from '../verify.ts'
import { BUILTIN_PROFILES } from '../../compliance/index.ts'
import { nextReadingBody, MIN, T0, type Dev } from './fixture.ts'
import { buildPartitionedTrail, idIn, type PartitionedTrail } from './partitioned-fixture.ts'

const exec = promisify(execFile)
const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')
const cli = (...args: string[]) =>
  exec(process.execPath, [join(repo, 'bin', 'coldproof.js'), ...args], { cwd: repo }).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  )

let trail: PartitionedTrail
let SHIP: string
let ledgers: Ledger[]
let root: RootLog
let tick: () => Promise<unknown>
let a: Dev, b: Dev, c: Dev
let json: string
let rootKey: string
let data: string

t.before(async () => {
  data = t.testdir()
  trail = await buildPartitionedTrail(data)
  ;({ ledgers, root, tick, json, shipmentId: SHIP } = trail)
  ;({ a, b, c } = trail.devices)
  rootKey = root.verifierKey
})
t.teardown(() => trail?.close())

const clone = (): PartitionedEvidenceBundle => JSON.parse(json)
const section = (x: PartitionedEvidenceBundle, k: number) => x.partitions.find((p) => p.partition === k)!
const entryOf = (r: EntryRef) => JSON.parse(new TextDecoder().decode(fromBase64(r.entry)))
const flip = (h: string) => {
  const x = fromBase64(h)
  x[0] ^= 1
  return toBase64(x)
}
const verify = (x: PartitionedEvidenceBundle | string, opts: { trustedKey?: string } = { trustedKey: rootKey }) =>
  verifyBundle(typeof x === 'string' ? x : JSON.stringify(x), opts)

function requireReason(t: Test, r: VerifyReport, check: CheckId, code: VerifyReasonCode, partition?: number) {
  t.equal(r.result, 'NOT VERIFIED', 'NOT VERIFIED')
  const fs = r.checks.find((x) => x.id === check)!.failures
  t.ok(
    fs.some((f) => f.code === code && (partition === undefined || f.partition === partition)),
    `${check}: ${code}${partition === undefined ? '' : ` in partition ${partition}`} — got ${JSON.stringify(r.checks.flatMap((x) => x.failures.map((f) => [x.id, f.code, f.partition])))}`,
  )
}

t.test('the partitioned bundle proves both partitions up to the root checkpoint and verifies', async (t) => {
  const x = clone()
  t.equal(x.version, 3)
  t.same(
    x.partitions.map((p) => p.partition),
    [0, 1],
    'one section per partition holding a logger',
  )
  t.same(
    section(x, 0).chains.map((ch) => ch.deviceId),
    [a.deviceId],
    'partition 0 holds logger a',
  )
  t.same(
    section(x, 1).chains.map((ch) => ch.deviceId),
    [b.deviceId],
    'partition 1 holds logger b',
  )
  t.same(
    entryOf(section(x, 0).shipment.create).body.cluster,
    { partitions: 2, devices: [b.deviceId, a.deviceId] },
    'each slice names every logger',
  )
  t.notOk(json.includes(c.deviceId), 'the unrelated logger of partition 0 is not in the bundle')
  for (const engine of ['webcrypto', 'noble'] as const) {
    const r = await verifyBundle(json, { trustedKey: rootKey, engine })
    t.equal(
      r.result,
      'VERIFIED',
      `VERIFIED (${engine}): ${JSON.stringify(r.checks.filter((c) => !c.ok).map((c) => c.failures.slice(0, 3)))}`,
    )
    t.equal(r.partitions?.length, 2)
    t.equal(r.checkpoint?.origin, 'pt.local/root', "the checkpoint reported is the root's")
    t.same(
      r.claimed?.sensors.map((s) => s.deviceId).sort(),
      [a.deviceId, b.deviceId].sort(),
      'the result covers both loggers',
    )
  }
  t.equal(x.claimed.verdict, 'FAIL', "logger b's excursion fails the shipment")
  // Chosen by the logs alone: later readings, checkpoints and root ticks leave a closed shipment's bundle as it was.
  await ledgers[1].appendReading(nextReadingBody(b, T0 + 90 * MIN, 500), T0 + 91 * MIN)
  for (const l of ledgers) await l.checkpoint()
  await tick()
  t.equal(
    bundleHash(buildPartitionedBundle(await collectPartitionedBundleInputs(ledgers, root, SHIP)).json),
    bundleHash(json),
    'the same bytes after the logs grew',
  )
})

t.test("keys: the root key must be pinned; a pinned partition key must be that partition's", async (t) => {
  requireReason(t, await verify(json, {}), 'ledger-key', 'LEDGER_KEY_NOT_PINNED')
  requireReason(
    t,
    await verify(json, { trustedKey: section(clone(), 0).ledger.verifierKey }),
    'checkpoint',
    'CHECKPOINT_SIGNATURE',
  )
  const keys = { 0: ledgers[0].verifierKey, 1: ledgers[1].verifierKey }
  t.equal(
    (await verifyBundle(json, { trustedKey: rootKey, partitionKeys: keys })).result,
    'VERIFIED',
    'the right partition keys pinned',
  )
  requireReason(
    t,
    await verifyBundle(json, { trustedKey: rootKey, partitionKeys: { 0: keys[1], 1: keys[0] } }),
    'checkpoint',
    'CHECKPOINT_SIGNATURE',
    0,
  )
})

t.test('each link tampered with is refused with its reason', async (t) => {
  // Partition entry: a reading of partition 1 altered (its receive time): not in the partition checkpoint.
  let x = clone()
  const r1 = section(x, 1).chains[0].readings[3]
  const e = entryOf(r1)
  e.time += 1
  r1.entry = toBase64(canonicalJsonBytes(e))
  requireReason(t, await verify(x), 'inclusion', 'INCLUSION_FAILED', 1)
  // Partition proof: one hash of a reading's inclusion path.
  x = clone()
  const r0 = section(x, 0).chains[0].readings[2]
  r0.proof[0] = flip(r0.proof[0])
  requireReason(t, await verify(x), 'inclusion', 'INCLUSION_FAILED', 0)
  // Root entry: the record of another (earlier) checkpoint of the partition.
  x = clone()
  const earlier = root.leaves().find((l) => l.p === 1)!
  section(x, 1).rootEntry.entry = toBase64(utf8(JSON.stringify({ p: 1, note: earlier.note })))
  requireReason(t, await verify(x), 'inclusion', 'ROOT_ENTRY_MISMATCH', 1)
  // Root entry claimed for the other partition (p of the leaf is bound to the section).
  x = clone()
  section(x, 0).rootEntry = section(clone(), 1).rootEntry
  requireReason(t, await verify(x), 'inclusion', 'ROOT_ENTRY_MISMATCH', 0)
  // Root proof: one hash of the root entry's inclusion path; and a wrong index.
  x = clone()
  section(x, 0).rootEntry.proof[0] = flip(section(x, 0).rootEntry.proof[0])
  requireReason(t, await verify(x), 'inclusion', 'ROOT_INCLUSION_FAILED', 0)
  x = clone()
  section(x, 1).rootEntry.index += 1
  requireReason(t, await verify(x), 'inclusion', 'ROOT_INCLUSION_FAILED', 1)
  // Root checkpoint signature: altered, and re-signed by another key.
  x = clone()
  const lines = x.checkpoint.split('\n')
  const sig = lines[lines.length - 2].split(' ')
  sig[sig.length - 1] = flip(sig[sig.length - 1])
  lines[lines.length - 2] = sig.join(' ')
  x.checkpoint = lines.join('\n')
  requireReason(t, await verify(x), 'checkpoint', 'CHECKPOINT_SIGNATURE')
  // Partition checkpoint: altered signature (the root entry then no longer records it either).
  x = clone()
  const pl = section(x, 1).checkpoint.split('\n')
  const ps = pl[pl.length - 2].split(' ')
  ps[ps.length - 1] = flip(ps[ps.length - 1])
  pl[pl.length - 2] = ps.join(' ')
  section(x, 1).checkpoint = pl.join('\n')
  requireReason(t, await verify(x), 'checkpoint', 'CHECKPOINT_SIGNATURE', 1)
  requireReason(t, await verify(x), 'inclusion', 'ROOT_ENTRY_MISMATCH', 1)
  // A dropped partition: the other slice names every logger, so the missing one is seen.
  x = clone()
  x.partitions = x.partitions.filter((p) => p.partition !== 1)
  requireReason(t, await verify(x), 'shipment', 'PARTITION_MISSING')
  // A partition's evidence inside its section: the chain's last reading dropped.
  x = clone()
  section(x, 1).chains[0].readings.pop()
  requireReason(t, await verify(x), 'chains', 'CHAIN_END_MISMATCH', 1)
  // Sections swapped between partition numbers: origins and root entries no longer match.
  x = clone()
  section(x, 0).partition = 9
  requireReason(t, await verify(x), 'checkpoint', 'PARTITION_MISMATCH', 9)
})

t.test("a single-log bundle of one partition's slice is not the shipment: PARTITION_MISSING", async (t) => {
  const slice = buildBundle(await collectBundleInputs(ledgers[1], SHIP)).json
  requireReason(t, await verifyBundle(slice, { trustedKey: ledgers[1].verifierKey }), 'shipment', 'PARTITION_MISSING')
})

t.test('a cluster shipment is refused whole when a logger is not registered in its partition', async (t) => {
  const ghost = idIn('pt-ghost', 1)
  await t.rejects(
    createClusterShipment(ledgers, {
      shipmentId: 'PT-SHIP-2',
      product: 'p',
      route: { from: 'a', to: 'b' },
      devices: [a.deviceId, ghost],
      profile: BUILTIN_PROFILES['refrigerated-2-8'],
      startAt: T0,
      by: 't',
    }),
    { code: 'ERR_LEDGER_DEVICE_UNKNOWN' },
  )
  t.notOk(ledgers[0].shipment('PT-SHIP-2'), 'no slice was written in partition 0')
  await t.rejects(
    ledgers[1].createShipment({
      shipmentId: 'PT-SHIP-3',
      product: 'p',
      route: { from: 'a', to: 'b' },
      devices: [b.deviceId],
      profile: BUILTIN_PROFILES['refrigerated-2-8'],
      startAt: T0,
      by: 't',
      cluster: { partitions: 2, devices: [a.deviceId] },
    }),
    { code: 'ERR_ENTRY_BAD_FIELD' },
    'a slice must be listed in its cluster list',
  )
})

t.test('coldproof report --bundle --data <cluster data dir> writes it; coldproof verify accepts it', async (t) => {
  await trail.close()
  const out = join(data, 'bundle.json')
  const rep = await cli('report', SHIP, '--bundle', '--data', data, '--out', out)
  t.equal(rep.code, 0, `report exit 0: ${rep.stderr}`)
  const p = (k: number) => `${k}=${join(data, 'cluster', 'partitions', `p${k}`, 'ledger.vkey')}`
  const ok = await cli(
    'verify',
    out,
    '--key',
    join(data, 'cluster', 'root', 'ledger.vkey'),
    '--partition-key',
    p(0),
    '--partition-key',
    p(1),
  )
  t.equal(ok.code, 0, `verify exit 0: ${ok.stderr}`)
  t.match(ok.stdout, /^VERIFIED: authentic evidence of a FAIL/)
  t.match(
    ok.stdout,
    /partitioned: partition 0 \(pt\.local\/p0, size \d+\), partition 1 \(pt\.local\/p1, size \d+\) under root checkpoint pt\.local\/root/,
  )
  t.match(ok.stdout, /partition 1 signed by pt\.local\/p1 \(pinned\)/, 'the partition keys given are pinned')
  const bad = clone()
  bad.partitions.pop()
  await writeFile(out, JSON.stringify(bad))
  const no = await cli('verify', out, '--key', join(data, 'cluster', 'root', 'ledger.vkey'))
  t.equal(no.code, 1, 'a bundle with a partition left out: exit 1')
  t.match(no.stdout, /PARTITION_MISSING/)
})
