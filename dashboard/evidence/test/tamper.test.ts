/**
 * The tamper suite: a real bundle from a real ledger trail (fixture.ts),
 * tampered with one way at a time; each must come out NOT VERIFIED with the
 * specific reason and the reading or entry it concerns. The untampered bundle
 * verifies with both signature engines, and `coldproof verify` (a child
 * process) agrees with the function, with the right exit codes.
 */
import t from 'tap'
import type { Test } from 'tap'
import { execFile } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import * as ed from '@noble/ed25519'
import { sha256 } from '@noble/hashes/sha2.js'
import { canonicalJsonBytes } from '../../../ledger/tlog/index.ts'
import { signNote, parseNote, verifierKey } from '../../../ledger/tlog/index.ts'
import {
  assemblePayload,
  decodeReading,
  encodeRecord,
  fromBase64,
  readingSigningMessage,
  toBase64,
  utf8,
} from '../../../ledger/protocol/index.ts'
import { nobleSign } from '../../../ledger/protocol/test/support.ts'
import { loadShipment } from '../../server/shipment-data.ts'
import { buildBundle } from '../build.ts'
import { collectBundleInputs, createBundleBuilder } from '../collect.ts'
import { bundleHash, type EntryRef, type EvidenceBundle } from '../format.ts'
import { verifyBundle, type VerifyReasonCode, type CheckId, type VerifyReport } from '../verify.ts'
import { buildTrail, dev, type Trail } from './fixture.ts'
import { relog, moveAfter, type LoggedRef } from './relog.ts'
import { recomputeResult } from '../recompute.ts'
import type { ShipmentCloseBody, ShipmentCreateBody } from '../../../ledger/tlog/index.ts'

const run = promisify(execFile)
const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')

let trail: Trail
let json: string
let otherJson: string
let key: string

t.before(async () => {
  trail = await buildTrail()
  json = buildBundle(await collectBundleInputs(trail.ledger, trail.shipmentId)).json
  otherJson = buildBundle(await collectBundleInputs(trail.ledger, trail.otherShipmentId)).json
  key = trail.ledger.verifierKey
})
t.teardown(() => trail?.close())

const clone = (): EvidenceBundle => JSON.parse(json)
const chainOf = (b: EvidenceBundle, id: string) => b.chains.find((c) => c.deviceId === id)!
const entryOf = (r: EntryRef) => JSON.parse(new TextDecoder().decode(fromBase64(r.entry)))
const setEntry = (r: EntryRef, e: unknown) => {
  r.entry = toBase64(canonicalJsonBytes(e))
}
const seqOf = (r: EntryRef) => entryOf(r).body.seq as number

function failures(r: VerifyReport, check: CheckId) {
  return r.checks.find((c) => c.id === check)!.failures
}

/** Requires NOT VERIFIED and a failure of `check` with `code` matching `where`. */
function requireReason(
  t: Test,
  r: VerifyReport,
  check: CheckId,
  code: VerifyReasonCode,
  where: { deviceId?: string; seq?: number; entryIndex?: number; path?: string } = {},
) {
  t.equal(r.result, 'NOT VERIFIED', 'NOT VERIFIED')
  t.notOk(r.checks.find((c) => c.id === check)!.ok, `check "${check}" fails`)
  const f = failures(r, check).find(
    (x) =>
      x.code === code && Object.entries(where).every(([k, v]) => (x as unknown as Record<string, unknown>)[k] === v),
  )
  t.ok(
    f,
    `${check}: ${code} ${JSON.stringify(where)} — got ${JSON.stringify(failures(r, check).map((x) => [x.code, x.deviceId, x.seq, x.entryIndex, x.path]))}`,
  )
}

const verify = (b: EvidenceBundle | string, engine: 'webcrypto' | 'noble' = 'webcrypto') =>
  verifyBundle(typeof b === 'string' ? b : JSON.stringify(b), { trustedKey: key, engine })

t.test('the untampered bundle verifies with both engines when the key is pinned', async (t) => {
  for (const engine of ['webcrypto', 'noble'] as const) {
    const r = await verify(json, engine)
    t.equal(r.result, 'VERIFIED', engine)
    t.equal(r.engine.used, engine)
    t.ok(
      r.checks.every((c) => c.ok),
      `every check ok (${engine})`,
    )
    t.equal(r.bundleSha256, bundleHash(json))
  }
  const b = clone()
  t.equal(b.claimed.verdict, 'FAIL', 'the trail has an excursion that fails the shipment')
  t.ok(
    chainOf(b, trail.devices.a.deviceId).before,
    'logger a started before the window: the reading before it is included',
  )
  const closeAnchors = entryOf(b.shipment.close!).body.anchors as { deviceId: string; seq: number }[]
  for (const c of b.chains)
    t.equal(
      seqOf(c.readings[c.readings.length - 1]),
      closeAnchors.find((x) => x.deviceId === c.deviceId)!.seq,
      `${c.deviceId}: the chain ends at the close anchor`,
    )
  // The trail's acknowledgement was logged after the close: it is in the post-close supplement, not the frozen bundle.
  t.ok(b.acknowledgements.length === 0, 'the frozen bundle holds no acknowledgement logged after the close')
  const sup = JSON.parse(
    (await createBundleBuilder(trail.ledger)(trail.shipmentId, { postClose: true })).json,
  ) as EvidenceBundle
  t.ok(sup.acknowledgements.length === 1, "the acknowledgement is in the supplement's audit trail")
  // An open shipment: every check runs, but completeness at the end cannot be proven.
  const open = await verify(otherJson)
  requireReason(t, open, 'shipment', 'SHIPMENT_NOT_CLOSED')
  t.ok(open.provisional, 'reported as provisional')
  t.same(
    open.checks.filter((c) => !c.ok).map((c) => c.id),
    ['shipment'],
    'only the shipment check fails',
  )
})

t.test('the claimed result is what the dashboard shows', async (t) => {
  const d = await loadShipment(trail.ledger, trail.shipmentId, () => false)
  t.same(clone().claimed, JSON.parse(JSON.stringify(d.result)))
})

t.test('without a pinned key the bundle is NOT VERIFIED, and says why', async (t) => {
  const r = await verifyBundle(json)
  requireReason(t, r, 'ledger-key', 'LEDGER_KEY_NOT_PINNED')
  t.match(
    failures(r, 'ledger-key')[0].message,
    /NOT PINNED — the checkpoint was checked only against the key inside the bundle/,
  )
  t.ok(
    r.checks.filter((c) => c.id !== 'ledger-key').every((c) => c.ok),
    'everything else checks out',
  )
})

t.test('the builder hands out the same bytes while the evidence is unchanged', async (t) => {
  const build = createBundleBuilder(trail.ledger)
  const x = await build(trail.shipmentId)
  await trail.ledger.checkpoint()
  const y = await build(trail.shipmentId)
  t.equal(y.sha256, x.sha256)
  t.equal(x.sha256, bundleHash(x.json))
  t.equal((await verify(x.json)).result, 'VERIFIED')
})

t.test('a temperature changed', async (t) => {
  const b = clone()
  const ref = chainOf(b, trail.devices.a.deviceId).readings[30]
  const e = entryOf(ref)
  const d = decodeReading(fromBase64(e.body.payload))
  const record = encodeRecord({ ...d.fields, tempCentiC: 500 })
  e.body.payload = toBase64(assemblePayload(record, d.signature))
  setEntry(ref, e)
  const r = await verify(b)
  requireReason(t, r, 'signatures', 'SIGNATURE_INVALID', { deviceId: trail.devices.a.deviceId, seq: d.fields.seq })
  requireReason(t, r, 'inclusion', 'INCLUSION_FAILED', { entryIndex: ref.index })
})

t.test('a reading dropped from the middle', async (t) => {
  const b = clone()
  const rs = chainOf(b, trail.devices.a.deviceId).readings
  const gone = seqOf(rs[20])
  rs.splice(20, 1)
  const r = await verify(b)
  requireReason(t, r, 'chains', 'CHAIN_GAP', { deviceId: trail.devices.a.deviceId, seq: gone + 1 })
  t.match(failures(r, 'chains')[0].message, new RegExp(`seq ${gone} missing`))
})

t.test('a reading dropped from the end', async (t) => {
  const b = clone()
  const rs = chainOf(b, trail.devices.b.deviceId).readings
  rs.pop()
  const r = await verify(b)
  requireReason(t, r, 'chains', 'CHAIN_END_MISMATCH', {
    deviceId: trail.devices.b.deviceId,
    seq: seqOf(rs[rs.length - 1]),
  })
})

t.test('two readings swapped', async (t) => {
  const b = clone()
  const rs = chainOf(b, trail.devices.a.deviceId).readings
  ;[rs[10], rs[11]] = [rs[11], rs[10]]
  const r = await verify(b)
  requireReason(t, r, 'chains', 'CHAIN_ORDER', { deviceId: trail.devices.a.deviceId, seq: seqOf(rs[11]) })
})

t.test('a reading re-signed with another key', async (t) => {
  const b = clone()
  const ref = chainOf(b, trail.devices.a.deviceId).readings[5]
  const e = entryOf(ref)
  const d = decodeReading(fromBase64(e.body.payload))
  e.body.payload = toBase64(assemblePayload(d.record, nobleSign(readingSigningMessage(d.record), dev('mallory').seed)))
  setEntry(ref, e)
  const r = await verify(b)
  requireReason(t, r, 'signatures', 'SIGNATURE_INVALID', {
    deviceId: trail.devices.a.deviceId,
    seq: d.fields.seq,
    entryIndex: ref.index,
  })
})

t.test('a device key swapped (and every reading re-signed with it)', async (t) => {
  const b = clone()
  const mallory = dev('mallory')
  const reg = b.devices.find((d) => d.deviceId === trail.devices.b.deviceId)!.register
  const e = entryOf(reg)
  e.body.publicKey = mallory.publicKey
  setEntry(reg, e)
  // Key swap alone: the readings no longer verify, and the registration is not the logged one.
  const r1 = await verify(b)
  requireReason(t, r1, 'signatures', 'SIGNATURE_INVALID', { deviceId: trail.devices.b.deviceId })
  requireReason(t, r1, 'inclusion', 'INCLUSION_FAILED', { entryIndex: reg.index })
  // Re-signing everything with the swapped key fixes the signatures but not the log.
  for (const ref of chainOf(b, trail.devices.b.deviceId).readings) {
    const x = entryOf(ref)
    const d = decodeReading(fromBase64(x.body.payload))
    x.body.payload = toBase64(assemblePayload(d.record, nobleSign(readingSigningMessage(d.record), mallory.seed)))
    setEntry(ref, x)
  }
  const r2 = await verify(b)
  requireReason(t, r2, 'inclusion', 'INCLUSION_FAILED', { entryIndex: reg.index })
  requireReason(t, r2, 'inclusion', 'INCLUSION_FAILED', { deviceId: trail.devices.b.deviceId, seq: 2 })
})

t.test('the rule profile loosened', async (t) => {
  const b = clone()
  const e = entryOf(b.shipment.create)
  // 2–15 °C instead of 2–8 °C: the excursion would no longer count.
  e.body.profile.range.highCentiC = 1500
  e.body.profile.zones[0].limitCentiC = 1500
  e.body.profile.mktMaxCentiC = 1500
  setEntry(b.shipment.create, e)
  const r = await verify(b)
  requireReason(t, r, 'profile', 'PROFILE_HASH_MISMATCH', {
    entryIndex: b.shipment.create.index,
    path: '$.shipment.create.body.profileHash',
  })
  // ... and with the logged hash rewritten to match: the entry is no longer the logged one.
  e.body.profileHash = Buffer.from(sha256(canonicalJsonBytes(e.body.profile))).toString('hex')
  setEntry(b.shipment.create, e)
  const r2 = await verify(b)
  requireReason(t, r2, 'inclusion', 'INCLUSION_FAILED', { entryIndex: b.shipment.create.index })
  requireReason(t, r2, 'profile', 'PROFILE_HASH_MISMATCH', { path: '$.claimed.profile.hash' })
})

t.test('the claimed verdict changed', async (t) => {
  const b = clone()
  b.claimed.verdict = 'PASS'
  requireReason(t, await verify(b), 'result', 'RESULT_MISMATCH', { path: '$.claimed.verdict' })
})

t.test('the claimed MKT changed', async (t) => {
  const b = clone()
  b.claimed.sensors[0].stats.mktCentiC! -= 150
  requireReason(t, await verify(b), 'result', 'RESULT_MISMATCH', { path: '$.claimed.sensors[0].stats.mktCentiC' })
})

t.test('the claimed MKT made a fraction (not canonical JSON): reported, never thrown', async (t) => {
  const b = clone()
  b.claimed.sensors[0].stats.mktCentiC = 1.5
  requireReason(t, await verify(b), 'result', 'RESULT_MISMATCH', { path: '$.claimed.sensors[0].stats.mktCentiC' })
})

t.test('an inclusion proof altered', async (t) => {
  const b = clone()
  const ref = chainOf(b, trail.devices.a.deviceId).readings[3]
  const h = fromBase64(ref.proof[1])
  h[0] ^= 0x01
  ref.proof[1] = toBase64(h)
  requireReason(t, await verify(b), 'inclusion', 'INCLUSION_FAILED', {
    entryIndex: ref.index,
    deviceId: trail.devices.a.deviceId,
    seq: seqOf(ref),
  })
})

t.test('the checkpoint forged', async (t) => {
  const b = clone()
  // A bigger tree size under the old signature.
  b.checkpoint = b.checkpoint.replace(/^(.*\n)(\d+)\n/, (_m, o: string, n: string) => `${o}${Number(n) + 1}\n`)
  requireReason(t, await verify(b), 'checkpoint', 'CHECKPOINT_SIGNATURE')
})

t.test('the checkpoint signed by another key', async (t) => {
  const b = clone()
  const seed = sha256(utf8('mallory ledger'))
  ed.hashes.sha512 ??= (await import('@noble/hashes/sha2.js')).sha512
  const pub = ed.getPublicKey(seed)
  const { text } = parseNote(b.checkpoint)
  const name = text.split('\n')[0]
  b.checkpoint = signNote(text, name, (m) => ed.sign(m, seed), pub)
  b.ledger.verifierKey = verifierKey(name, pub)
  requireReason(t, await verify(b), 'checkpoint', 'CHECKPOINT_SIGNATURE')
  // Without a pinned key the forger's own key would check out: that is why it is NOT VERIFIED.
  const r = await verifyBundle(JSON.stringify(b))
  t.ok(r.checks.find((c) => c.id === 'checkpoint')!.ok, 'the forged checkpoint matches the key inside the bundle')
  requireReason(t, r, 'ledger-key', 'LEDGER_KEY_NOT_PINNED')
})

t.test('a duplicated reading', async (t) => {
  const b = clone()
  const rs = chainOf(b, trail.devices.a.deviceId).readings
  rs.splice(8, 0, structuredClone(rs[8]))
  requireReason(t, await verify(b), 'chains', 'CHAIN_DUPLICATE', {
    deviceId: trail.devices.a.deviceId,
    seq: seqOf(rs[8]),
  })
})

t.test('a reading moved to another shipment', async (t) => {
  // This shipment's reading, put into the other shipment's bundle (with its own, valid, proof).
  const other: EvidenceBundle = JSON.parse(otherJson)
  const moved = chainOf(clone(), trail.devices.a.deviceId).readings[25]
  chainOf(other, trail.devices.c.deviceId).readings.splice(10, 0, moved)
  const r = await verifyBundle(JSON.stringify(other), { trustedKey: key })
  requireReason(t, r, 'membership', 'DEVICE_NOT_IN_SHIPMENT', {
    deviceId: trail.devices.a.deviceId,
    entryIndex: moved.index,
  })
  // And the whole bundle relabelled as the other shipment.
  const b = clone()
  b.shipmentId = trail.otherShipmentId
  requireReason(t, await verify(b), 'shipment', 'SHIPMENT_MISMATCH', { entryIndex: b.shipment.create.index })
})

t.test('the first reading of the window dropped, or the reading before it', async (t) => {
  const b = clone()
  const c = chainOf(b, trail.devices.a.deviceId)
  const second = c.readings[1]
  c.readings.shift()
  requireReason(t, await verify(b), 'chains', 'CHAIN_START_UNPROVEN', {
    deviceId: trail.devices.a.deviceId,
    seq: seqOf(second),
  })
  const b2 = clone()
  const c2 = chainOf(b2, trail.devices.a.deviceId)
  c2.before = null
  requireReason(t, await verify(b2), 'chains', 'CHAIN_START_UNPROVEN', {
    deviceId: trail.devices.a.deviceId,
    seq: seqOf(c2.readings[0]),
  })
})

t.test('an entry given another index', async (t) => {
  const b = clone()
  const ref = chainOf(b, trail.devices.b.deviceId).readings[7]
  const real = ref.index
  ref.index = real + 1
  const r = await verify(b)
  requireReason(t, r, 'format', 'ENTRY_INDEX_MISMATCH', { entryIndex: real + 1 })
  requireReason(t, r, 'inclusion', 'INCLUSION_FAILED', { entryIndex: real + 1 })
})

t.test('a logger left out: its registration, or its whole chain', async (t) => {
  const b = clone()
  b.devices = b.devices.filter((d) => d.deviceId !== trail.devices.b.deviceId)
  const r = await verify(b)
  requireReason(t, r, 'devices', 'DEVICE_MISSING', { deviceId: trail.devices.b.deviceId })
  requireReason(t, r, 'signatures', 'SIGNATURE_INVALID', { deviceId: trail.devices.b.deviceId, seq: 1 })
  const b2 = clone()
  b2.chains = b2.chains.filter((c) => c.deviceId !== trail.devices.b.deviceId)
  const r2 = await verify(b2)
  requireReason(t, r2, 'chains', 'CHAIN_MISSING', { deviceId: trail.devices.b.deviceId })
  requireReason(t, r2, 'result', 'RESULT_MISMATCH')
})

/** The claimed result recomputed over what is left, as a forger who knows the engine would. */
function reclaim(b: EvidenceBundle): void {
  const fields = b.chains.flatMap((c) =>
    c.readings.map((r) => decodeReading(fromBase64(entryOf(r).body.payload)).fields),
  )
  b.claimed = recomputeResult(
    entryOf(b.shipment.create).body as ShipmentCreateBody,
    entryOf(b.shipment.close!).body as ShipmentCloseBody,
    fields,
  )
}
const failedChecks = (r: VerifyReport) => r.checks.filter((c) => !c.ok).map((c) => c.id)

t.test(
  'tail truncation: the readings of the excursion and everything after it dropped, the claim recomputed',
  async (t) => {
    const b = clone()
    const c = chainOf(b, trail.devices.a.deviceId)
    const cut = c.readings.findIndex(
      (r) => decodeReading(fromBase64(entryOf(r).body.payload)).fields.deviceTimeMs >= trail.startAt + 120 * 60_000,
    )
    const last = seqOf(c.readings[cut - 1])
    c.readings.splice(cut)
    reclaim(b)
    t.not(b.claimed.verdict, 'FAIL', `the truncated evidence would no longer fail (${b.claimed.verdict})`)
    const r = await verify(b)
    requireReason(t, r, 'chains', 'CHAIN_END_MISMATCH', { deviceId: trail.devices.a.deviceId, seq: last })
    t.same(failedChecks(r), ['chains'], 'the recomputed claim itself checks out: only the chain end gives it away')
  },
)

t.test('every reading stripped (and the reading before the window), the claim recomputed', async (t) => {
  const b = clone()
  for (const c of b.chains) {
    c.readings = []
    c.before = null
  }
  reclaim(b)
  const r = await verify(b)
  for (const id of [trail.devices.a.deviceId, trail.devices.b.deviceId])
    requireReason(t, r, 'chains', 'CHAIN_END_MISMATCH', { deviceId: id, seq: 0 })
  requireReason(t, r, 'chains', 'ANCHOR_MISMATCH', { deviceId: trail.devices.a.deviceId, seq: 3 })
  t.same(failedChecks(r), ['chains'])
})

t.test('readings cut from the middle for longer than the allowed gap, the claim recomputed', async (t) => {
  const b = clone()
  const rs = chainOf(b, trail.devices.b.deviceId).readings
  const first = seqOf(rs[10])
  rs.splice(10, 12) // 60 minutes of readings: more than the profile's 30-minute gap
  reclaim(b)
  t.equal(b.claimed.verdict, 'FAIL', 'logger a still fails the shipment; b now has a data gap')
  const r = await verify(b)
  requireReason(t, r, 'chains', 'CHAIN_GAP', { deviceId: trail.devices.b.deviceId, seq: first + 12 })
  t.same(failedChecks(r), ['chains'])
})

t.test('a close anchor moved down (and the chain cut to match): the close is no longer the logged entry', async (t) => {
  const b = clone()
  const close = entryOf(b.shipment.close!)
  const rs = chainOf(b, trail.devices.b.deviceId).readings
  rs.splice(rs.length - 5)
  const end = rs[rs.length - 1]
  const anchor = close.body.anchors.find((x: { deviceId: string }) => x.deviceId === trail.devices.b.deviceId)
  anchor.seq = seqOf(end)
  anchor.hash = Buffer.from(sha256(fromBase64(entryOf(end).body.payload))).toString('hex')
  setEntry(b.shipment.close!, close)
  reclaim(b)
  const r = await verify(b)
  requireReason(t, r, 'inclusion', 'INCLUSION_FAILED', { entryIndex: b.shipment.close!.index })
  requireReason(t, r, 'chains', 'CLOSE_NOT_COVERED', { deviceId: trail.devices.b.deviceId })
  t.same(
    failures(r, 'chains').map((f) => f.code),
    ['CLOSE_NOT_COVERED'],
    "the chain ends at the moved anchor (no end mismatch), but no longer reaches the close, and the anchor is not the ledger's",
  )
  // The create anchor moved up, to start the chain later.
  const b2 = clone()
  const create = entryOf(b2.shipment.create)
  create.body.anchors[0].seq += 1
  setEntry(b2.shipment.create, create)
  const r2 = await verify(b2)
  requireReason(t, r2, 'inclusion', 'INCLUSION_FAILED', { entryIndex: b2.shipment.create.index })
  requireReason(t, r2, 'chains', 'ANCHOR_MISMATCH', { deviceId: trail.devices.a.deviceId })
})

t.test(
  'a hostile operator re-logs the entries under its own key: registration after the readings, close before the create',
  async (t) => {
    const isReg = (x: LoggedRef) =>
      x.role === 'device.register' &&
      x.entry.body &&
      (x.entry.body as { deviceId: string }).deviceId === trail.devices.b.deviceId
    const isBReading = (x: LoggedRef) =>
      x.role === 'reading' && (x.entry.body as { deviceId: string }).deviceId === trail.devices.b.deviceId
    const honest = await relog(clone(), (l) => l)
    t.equal(
      (await verifyBundle(JSON.stringify(honest.bundle), { trustedKey: honest.key })).result,
      'VERIFIED',
      "the same order under the operator's key verifies",
    )
    const late = await relog(clone(), (l) => moveAfter(l, isReg, isBReading))
    const r = await verifyBundle(JSON.stringify(late.bundle), { trustedKey: late.key })
    const reg = late.bundle.devices.find((d) => d.deviceId === trail.devices.b.deviceId)!.register
    requireReason(t, r, 'devices', 'READING_BEFORE_REGISTRATION', { deviceId: trail.devices.b.deviceId, seq: 1 })
    requireReason(t, r, 'devices', 'REGISTRATION_AFTER_CREATE', {
      deviceId: trail.devices.b.deviceId,
      entryIndex: reg.index,
    })
    t.same(failedChecks(r), ['devices'], "every proof checks out under the operator's key; the order does not")
    const early = await relog(clone(), (l) =>
      moveAfter(
        l,
        (x) => x.role === 'shipment.close',
        (x) => x.role === 'device.register',
      ),
    )
    const r2 = await verifyBundle(JSON.stringify(early.bundle), { trustedKey: early.key })
    requireReason(t, r2, 'shipment', 'SHIPMENT_MISMATCH', { entryIndex: early.bundle.shipment.close!.index })
  },
)

t.test('not a bundle at all', async (t) => {
  const r = await verifyBundle('{"format": "something-else"}', { trustedKey: key })
  requireReason(t, r, 'format', 'BUNDLE_VERSION')
  requireReason(t, await verifyBundle('not json', { trustedKey: key }), 'format', 'BUNDLE_MALFORMED')
})

t.test('coldproof verify (child process) agrees with the function and exits 0 only when verified', async (t) => {
  const dir = t.testdir()
  const good = join(dir, 'good.json'),
    bad = join(dir, 'bad.json'),
    keyFile = join(dir, 'ledger.vkey')
  const tampered = clone()
  tampered.claimed.verdict = 'PASS'
  await writeFile(good, json)
  await writeFile(bad, JSON.stringify(tampered))
  await writeFile(keyFile, key + '\n')
  const cli = (...args: string[]) =>
    run(process.execPath, [join(repo, 'bin', 'coldproof.js'), 'verify', ...args], { cwd: repo }).then(
      (r) => ({ code: 0, ...r }),
      (e: { code: number; stdout: string; stderr: string }) => e,
    )

  const ok = await cli(good, '--key', key)
  t.equal(ok.code, 0, 'exit 0 for the good bundle')
  t.match(
    ok.stdout,
    /^VERIFIED: authentic evidence of a FAIL — shipment BT-FRIDGE-1\n {2}The evidence is authentic and complete, and it shows the shipment FAILED its rules\./,
  )
  const okJson = await cli(good, '--key', keyFile, '--json', '--engine', 'noble')
  t.equal(okJson.code, 0)
  const fromCli = JSON.parse(okJson.stdout) as VerifyReport
  const fromFn = await verifyBundle(new Uint8Array(Buffer.from(json)), {
    trustedKey: key,
    engine: 'noble',
    trustedKeySource: `--key ${keyFile}`,
  })
  t.same(fromCli, JSON.parse(JSON.stringify(fromFn)), 'the CLI JSON is the function report')

  const nk = await cli(good)
  t.equal(nk.code, 1, 'exit 1 without a pinned key')
  t.match(nk.stdout, /^NOT VERIFIED/)
  t.match(nk.stdout, /NOT PINNED/)

  const tb = await cli(bad, '--key', key, '--json')
  t.equal(tb.code, 1, 'exit 1 for a tampered bundle')
  const rep = JSON.parse(tb.stdout) as VerifyReport
  t.equal(rep.result, 'NOT VERIFIED')
  t.same(
    rep.checks.filter((c) => !c.ok).map((c) => c.id),
    ['result'],
  )
  t.same(
    rep.checks.map((c) => [c.id, c.ok]),
    (await verify(tampered)).checks.map((c) => [c.id, c.ok]),
    'same checks as the function',
  )
  const human = await cli(bad, '--key', key)
  t.equal(human.code, 1)
  t.match(
    human.stdout,
    /^NOT VERIFIED: the evidence is not authentic or not complete — shipment BT-FRIDGE-1\n {2}The verdict cannot be relied on \(the bundle claims "PASS", unproven\)\./,
  )
  t.match(
    human.stdout,
    /✘ FAILED {2}recomputed result[\s\S]*RESULT_MISMATCH: \$\.claimed\.verdict: claimed "PASS", recomputed "FAIL"/,
  )

  const missing = await cli(join(dir, 'nope.json'), '--key', key)
  t.equal(missing.code, 2, 'exit 2 when the file cannot be read')
})

t.test('a bundle with an entry twice or a field the format does not define is refused', async (t) => {
  const base = JSON.parse(json) as EvidenceBundle
  const twiceDevice = structuredClone(base)
  twiceDevice.devices.push(structuredClone(twiceDevice.devices[0]))
  requireReason(t, await verify(twiceDevice), 'format', 'ENTRY_DUPLICATE', {
    entryIndex: base.devices[0].register.index,
  })
  const extraTop = JSON.parse(
    json.replace('"claimed": {', '"note": "VERIFIED - shipment OK", "claimed": {'),
  ) as EvidenceBundle
  requireReason(t, await verify(extraTop), 'format', 'BUNDLE_MALFORMED', {})
  const extraRef = structuredClone(base)
  ;(extraRef.chains[0].readings[0] as unknown as Record<string, unknown>).comment = 'x'
  const r = await verify(extraRef)
  t.equal(r.result, 'NOT VERIFIED')
  t.match(
    r.checks.find((c) => c.id === 'format')!.failures[0].message,
    /\$\.chains\[0\]\.readings\[0\]\."comment" is not a field/,
  )
})
