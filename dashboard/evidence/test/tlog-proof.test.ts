/**
 * Every entry of a bundle, with the bundle's checkpoint, is a C2SP tlog-proof
 * that the ledger's own tlog-proof verifier (ledger/tlog/tlog-proof.ts) accepts
 * under the ledger key, and the same text the dashboard's proof route hands out.
 */
import t from 'tap'
import { fromBase64 } from '../../../ledger/protocol/index.ts'
import { leafHash } from '../../../ledger/tlog/index.ts'
import { verifyTlogProof, parseTlogProof } from '../../../ledger/tlog/index.ts'
import { buildBundle } from '../build.ts'
import { collectBundleInputs } from '../collect.ts'
import { entryRefs, tlogProofOf } from '../format.ts'
import { buildTrail } from './fixture.ts'

t.test('bundle entries as C2SP tlog-proofs', async (t) => {
  const trail = await buildTrail()
  t.teardown(() => trail.close())
  const { bundle } = buildBundle(await collectBundleInputs(trail.ledger, trail.shipmentId))
  const refs = entryRefs(bundle)
  t.equal(
    refs.length,
    1 +
      1 +
      2 +
      bundle.chains.reduce((n, c) => n + c.readings.length + (c.before ? 1 : 0) + c.gaps.length, 0) +
      bundle.forks.length +
      bundle.postClose.length +
      bundle.acknowledgements.length,
  )
  const bad: string[] = []
  for (const { ref, role } of refs) {
    const text = tlogProofOf(bundle, ref)
    if (parseTlogProof(text).checkpoint !== bundle.checkpoint)
      bad.push(`${role} ${ref.index}: checkpoint not carried verbatim`)
    try {
      const { index } = await verifyTlogProof(text, leafHash(fromBase64(ref.entry)), trail.ledger.verifierKey)
      if (index !== ref.index) bad.push(`${role} ${ref.index}: index ${index}`)
    } catch (e) {
      bad.push(`${role} ${ref.index}: ${(e as Error).message}`)
    }
  }
  t.same(bad, [], `all ${refs.length} entries verify as tlog-proofs`)
  // The ledger computes the same path for the same size.
  const size = Number(bundle.checkpoint.split('\n')[1])
  const ref = bundle.chains[0].readings[5]
  t.same(
    (await trail.ledger.inclusionProof(ref.index, size)).map((h) => Buffer.from(h).toString('base64')),
    ref.proof,
  )
})
