/**
 * The completeness property of the bundle verifier, checked with fast-check
 * over a genuine bundle built from a real ledger (a logger started before the
 * window, a logger with a declared gap): remove, duplicate or reorder any
 * subset of the chains' readings, the readings before the window, the gap
 * entries or the anchors (optionally recomputing the claimed result as a
 * forger would), and the bundle is NOT VERIFIED — unless the altered bundle's
 * bytes are the genuine ones.
 */
import t from 'tap'
import fc from 'fast-check'
import { canonicalJsonBytes } from '../../../ledger/tlog/index.ts'
import type { GapBody, ShipmentCloseBody, ShipmentCreateBody } from '../../../ledger/tlog/index.ts'
import { decodeReading, fromBase64, toBase64 } from '../../../ledger/protocol/index.ts'
import { createBundleBuilder } from '../collect.ts'
import { serializeBundle, type EntryRef, type EvidenceBundle } from '../format.ts'
import { recomputeResult } from '../recompute.ts'
import { verifyBundle } from '../verify.ts'
import { buildGapTrail, type GapTrail } from './fixture.ts'

let trail: GapTrail
let genuine: string

t.before(async () => {
  trail = await buildGapTrail()
  genuine = (await createBundleBuilder(trail.ledger)(trail.shipmentId)).json
})
t.teardown(() => trail?.close())

const decode = (r: EntryRef) => JSON.parse(new TextDecoder().decode(fromBase64(r.entry)))

/** One alteration of one list: drop some elements, duplicate one, or shuffle. */
type Op =
  | { list: number; kind: 'remove'; picks: number[] }
  | { list: number; kind: 'duplicate'; from: number; to: number }
  | { list: number; kind: 'reorder'; keys: number[] }
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    list: fc.nat(),
    kind: fc.constant('remove' as const),
    picks: fc.array(fc.nat(), { minLength: 1, maxLength: 20 }),
  }),
  fc.record({ list: fc.nat(), kind: fc.constant('duplicate' as const), from: fc.nat(), to: fc.nat() }),
  fc.record({
    list: fc.nat(),
    kind: fc.constant('reorder' as const),
    keys: fc.array(fc.integer(), { minLength: 20, maxLength: 20 }),
  }),
)

function alter<T>(xs: T[], o: Op): T[] {
  if (xs.length === 0) return xs
  if (o.kind === 'remove') {
    const drop = new Set(o.picks.map((p) => p % xs.length))
    return xs.filter((_, i) => !drop.has(i))
  }
  if (o.kind === 'duplicate') {
    const out = [...xs]
    out.splice(o.to % (xs.length + 1), 0, structuredClone(xs[o.from % xs.length]))
    return out
  }
  return xs
    .map((x, i) => ({ x, k: o.keys[i % o.keys.length] * 64 + i }))
    .sort((a, b) => a.k - b.k)
    .map((e) => e.x)
}

/** The lists the property alters: each chain's readings, its gap entries, the readings before the windows, the anchors of create and close. */
function applyOp(b: EvidenceBundle, o: Op): void {
  const lists = b.chains.length * 2 + 3
  const which = o.list % lists
  if (which < b.chains.length * 2) {
    const c = b.chains[which >> 1]
    if (which % 2 === 0) c.readings = alter(c.readings, o)
    else c.gaps = alter(c.gaps, o)
  } else if (which === b.chains.length * 2) {
    const befores = b.chains.map((c) => c.before)
    alter(befores, o).forEach((x, i) => {
      if (i < b.chains.length) b.chains[i].before = x
    })
    if (o.kind === 'remove') for (const i of new Set(o.picks.map((p) => p % b.chains.length))) b.chains[i].before = null
  } else {
    const ref = which === b.chains.length * 2 + 1 ? b.shipment.create : b.shipment.close!
    const e = decode(ref)
    e.body.anchors = alter(e.body.anchors, o)
    ref.entry = toBase64(canonicalJsonBytes(e))
  }
}

/** The claim a forger would recompute over what is left. */
function reclaim(b: EvidenceBundle): void {
  try {
    const fields = b.chains.flatMap((c) =>
      c.readings.map((r) => decodeReading(fromBase64(decode(r).body.payload)).fields),
    )
    const gaps = b.chains.flatMap((c) => c.gaps.map((g) => decode(g).body as GapBody))
    b.claimed = recomputeResult(
      decode(b.shipment.create).body as ShipmentCreateBody,
      decode(b.shipment.close!).body as ShipmentCloseBody,
      fields,
      { gaps, forks: [] },
    )
  } catch {
    /* the engine refused the altered evidence: keep the old claim */
  }
}

t.test('the genuine bundle verifies (INCOMPLETE_EVIDENCE: a declared gap)', async (t) => {
  const r = await verifyBundle(genuine, { trustedKey: trail.ledger.verifierKey })
  t.equal(r.result, 'VERIFIED', JSON.stringify(r.checks.filter((c) => !c.ok).map((c) => c.failures[0])))
  const b = JSON.parse(genuine) as EvidenceBundle
  t.equal(b.claimed.verdict, 'INCOMPLETE_EVIDENCE')
  t.ok(b.claimed.reasons.some((x) => x.code === 'DECLARED_GAP'))
  t.ok(
    b.chains.some((c) => c.before) && b.chains.some((c) => c.gaps.length === 1),
    'the bundle has a reading before the window and a gap entry',
  )
})

t.test('removing, duplicating or reordering readings, gap entries or anchors never verifies', async (t) => {
  let altered = 0
  await fc.assert(
    fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 3 }), fc.boolean(), async (ops, recompute) => {
      const b = JSON.parse(genuine) as EvidenceBundle
      for (const o of ops) applyOp(b, o)
      if (recompute) reclaim(b)
      const text = serializeBundle(b)
      if (text === genuine) return true
      altered++
      const r = await verifyBundle(text, { trustedKey: trail.ledger.verifierKey })
      return r.result === 'NOT VERIFIED'
    }),
    { numRuns: Number(process.env.PROPERTY_RUNS ?? 150) },
  )
  t.ok(altered > 100, `${altered} altered bundles, none verified`)
})
