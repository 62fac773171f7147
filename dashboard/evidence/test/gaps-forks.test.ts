/**
 * Declared gaps, forks and old ledgers in the bundle: a gap entry excuses
 * exactly the range it declares (VERIFIED, verdict INCOMPLETE_EVIDENCE with
 * its cause); dropped, stretched or late gap entries do not; a fork makes the
 * logger's evidence from its seq on untrustworthy (DEVICE_COMPROMISED); a
 * shipment whose entries carry no anchors cannot be verified (ANCHOR_MISSING).
 */
import t from 'tap'
import { createHash } from 'node:crypto'
import {
  assemblePayload,
  encodeRecord,
  readingSigningMessage,
  toBase64,
  fromBase64,
  GENESIS_PREV_HASH,
} from '../../../ledger/protocol/index.ts'
import { nobleSign } from '../../../ledger/protocol/test/support.ts'
import { createBundleBuilder } from '../collect.ts'
import type { EvidenceBundle } from '../format.ts'
import { verifyBundle, type VerifyReport } from '../verify.ts'
import { loadShipment } from '../../server/shipment-data.ts'
import { buildGapTrail, T0, type Dev, type GapTrail } from './fixture.ts'
import { relog, moveAfter } from './relog.ts'
import { decodeReading } from '../../../ledger/protocol/index.ts'
import { recomputeResult } from '../recompute.ts'
import type { GapBody, ShipmentCloseBody, ShipmentCreateBody } from '../../../ledger/tlog/index.ts'

const codes = (r: VerifyReport) => r.checks.flatMap((c) => c.failures.map((f) => [c.id, f.code, f.deviceId ?? null]))

let gap: GapTrail
let genuine: string
t.before(async () => {
  gap = await buildGapTrail()
  genuine = (await createBundleBuilder(gap.ledger)(gap.shipmentId)).json
})
t.teardown(() => gap?.close())
const clone = (): EvidenceBundle => JSON.parse(genuine)
const gappyChain = (b: EvidenceBundle) => b.chains.find((c) => c.deviceId === gap.devices.gappy.deviceId)!

t.test('a declared gap: VERIFIED, and the verdict carries its cause', async (t) => {
  const r = await verifyBundle(genuine, { trustedKey: gap.ledger.verifierKey })
  t.equal(r.result, 'VERIFIED', JSON.stringify(codes(r)))
  const b = clone()
  t.equal(b.claimed.verdict, 'INCOMPLETE_EVIDENCE')
  t.match(
    b.claimed.reasons.find((x) => x.code === 'DECLARED_GAP'),
    { deviceId: gap.devices.gappy.deviceId, message: /seq 5\.\.6 declared lost \(resend-abandoned\), by ingest/ },
  )
  t.same(
    (await loadShipment(gap.ledger, gap.shipmentId, () => false)).result,
    b.claimed,
    'the dashboard shows the verdict the bundle claims',
  )
})

t.test('the gap entry dropped, or stretched over a reading that was logged', async (t) => {
  const b = clone()
  gappyChain(b).gaps = []
  const r = await verifyBundle(JSON.stringify(b), { trustedKey: gap.ledger.verifierKey })
  t.same(
    codes(r).filter(([c]) => c === 'chains'),
    [['chains', 'CHAIN_GAP', gap.devices.gappy.deviceId]],
  )
  t.same(
    [...new Set(codes(r).map(([c]) => c))],
    ['chains', 'result'],
    'and the claim no longer recomputes (it names the declared gap)',
  )
  const b2 = clone()
  gappyChain(b2).readings.splice(4, 1) // seq 7, just above the gap: the declared 5..6 no longer matches the hole 5..7
  const r2 = await verifyBundle(JSON.stringify(b2), { trustedKey: gap.ledger.verifierKey })
  t.ok(
    codes(r2).some(([, c]) => c === 'GAP_ENTRY_MISMATCH'),
    JSON.stringify(codes(r2)),
  )
})

t.test("a gap entry logged after the close does not excuse a closed shipment's evidence", async (t) => {
  const { bundle, key } = await relog(clone(), (l) =>
    moveAfter(
      l,
      (x) => x.role === 'gap',
      (x) => x.role === 'shipment.close',
    ),
  )
  const r = await verifyBundle(JSON.stringify(bundle), { trustedKey: key })
  t.same(
    codes(r)
      .filter(([c]) => c === 'chains')
      .map(([, c]) => c),
    ['GAP_AFTER_CLOSE', 'CHAIN_GAP'],
    'the late gap entry is refused and the hole is undeclared',
  )
})

t.test('a shipment whose entries carry no anchors (an old ledger) is NOT VERIFIED: ANCHOR_MISSING', async (t) => {
  const { bundle, key } = await relog(clone(), (l) => {
    for (const x of l)
      if (x.role === 'shipment.create' || x.role === 'shipment.close')
        delete (x.entry.body as { anchors?: unknown }).anchors
    return l
  })
  const r = await verifyBundle(JSON.stringify(bundle), { trustedKey: key })
  t.equal(r.result, 'NOT VERIFIED')
  t.equal(codes(r).filter(([, c]) => c === 'ANCHOR_MISSING').length, 4, 'create and close, each logger')
})

t.test(
  'a fork: the logger is compromised from its seq on; a fork logged after the close changes nothing',
  async (t) => {
    const forkOf = async (ledger: GapTrail['ledger'], d: Dev, seq: number) => {
      const stored = (await ledger.readingsByDevice(d.deviceId, seq, seq))[0].entry.body.payload
      const record = encodeRecord({
        deviceId: d.deviceId,
        seq,
        deviceTimeMs: T0 + 12 * 60_000,
        tempCentiC: 900,
        prevHash: GENESIS_PREV_HASH,
      })
      const other = toBase64(assemblePayload(record, nobleSign(readingSigningMessage(record), d.seed)))
      const h = (b64: string) => createHash('sha256').update(fromBase64(b64)).digest('hex')
      return {
        deviceId: d.deviceId,
        seq,
        payloads: [stored, other].sort((a, b) => (h(a) < h(b) ? -1 : 1)) as [string, string],
      }
    }
    const forked = await buildGapTrail(async (ledger, d) => {
      await ledger.recordFork(await forkOf(ledger, d.early, 6))
    })
    t.teardown(() => forked.close())
    const json = (await createBundleBuilder(forked.ledger)(forked.shipmentId)).json
    const r = await verifyBundle(json, { trustedKey: forked.ledger.verifierKey })
    t.equal(r.result, 'VERIFIED', JSON.stringify(codes(r)))
    const b = JSON.parse(json) as EvidenceBundle
    t.equal(b.forks.length, 1)
    const early = b.claimed.sensors.find((s) => s.deviceId === forked.devices.early.deviceId)!
    t.match(
      early.reasons.find((x) => x.code === 'DEVICE_COMPROMISED'),
      { message: /seq 6 on are not evidence/ },
    )
    t.equal(early.readings.lastSeq, 5, 'the readings from the forked seq on are left out')
    t.equal(b.claimed.verdict, 'INCOMPLETE_EVIDENCE')
    // Dropped from the bundle with the claim kept: the recomputed result differs.
    const stripped = JSON.parse(json) as EvidenceBundle
    stripped.forks = []
    t.ok(
      codes(await verifyBundle(JSON.stringify(stripped), { trustedKey: forked.ledger.verifierKey })).some(
        ([, c]) => c === 'RESULT_MISMATCH',
      ),
    )
    // Dropped with the claim recomputed as a forger would: the close anchor names the fork, so FORK_MISSING.
    const closeBody = JSON.parse(Buffer.from(b.shipment.close!.entry, 'base64').toString()).body as ShipmentCloseBody
    const forkIndex = b.forks[0].index
    t.equal(
      closeBody.anchors!.find((a) => a.deviceId === forked.devices.early.deviceId)!.fork,
      forkIndex,
      'the close anchor names the fork entry',
    )
    const entry = (ref: { entry: string }) =>
      JSON.parse(Buffer.from(ref.entry, 'base64').toString()) as { body: Record<string, unknown> }
    const fields = stripped.chains.flatMap((c) =>
      c.readings.map((r) => decodeReading(fromBase64(entry(r).body.payload as string)).fields),
    )
    const gaps = stripped.chains.flatMap((c) => c.gaps.map((g) => entry(g).body as unknown as GapBody))
    stripped.claimed = recomputeResult(
      entry(stripped.shipment.create).body as unknown as ShipmentCreateBody,
      closeBody,
      fields,
      { gaps, forks: [] },
    )
    t.notOk(
      stripped.claimed.sensors
        .find((s) => s.deviceId === forked.devices.early.deviceId)!
        .reasons.some((x) => x.code === 'DEVICE_COMPROMISED'),
      'without the fork the recomputed claim would not say DEVICE_COMPROMISED',
    )
    const cut = await verifyBundle(JSON.stringify(stripped), { trustedKey: forked.ledger.verifierKey })
    t.equal(cut.result, 'NOT VERIFIED')
    t.ok(
      codes(cut).some(([, c]) => c === 'FORK_MISSING'),
      JSON.stringify(codes(cut)),
    )
    // Re-logged after the close: refused.
    const late = await relog(JSON.parse(json), (l) =>
      moveAfter(
        l,
        (x) => x.role === 'reading.fork',
        (x) => x.role === 'shipment.close',
      ),
    )
    t.ok(
      codes(await verifyBundle(JSON.stringify(late.bundle), { trustedKey: late.key })).some(
        ([, c]) => c === 'FORK_AFTER_CLOSE',
      ),
    )
  },
)
