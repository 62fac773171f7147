/**
 * Evidence the ledger really can hold, at the edges of the chain rules: a
 * logger whose clock jumped outside the window mid-shipment (a chain link,
 * not evidence: VERIFIED with a note), a logger whose readings never arrived
 * (the ledger has a gap: NOT VERIFIED, CHAIN_GAP, and the claimed result
 * itself reports the missing readings). (A reading after its device's
 * revocation cannot be produced: the ledger itself refuses it.)
 */
import t from 'tap'
import { join } from 'node:path'
import {
  encodeRecord,
  assemblePayload,
  readingSigningMessage,
  readingHash,
  toBase64,
} from '../../../ledger/protocol/index.ts'
import { nobleSign } from '../../../ledger/protocol/test/support.ts'
import { openLedger, type Ledger } from '../../../ledger/store/index.ts'
import { BUILTIN_PROFILES } from '../../compliance/index.ts'
import { buildBundle } from '../build.ts'
import { collectBundleInputs } from '../collect.ts'
import { formatReport, verifyBundle, type VerifyReport } from '../verify.ts'
import { dev, MIN, T0, type Dev } from './fixture.ts'

let ledger: Ledger
let now = T0 - 60 * MIN
const devs = { jump: dev('ec-jump'), gap: dev('ec-gap') }

async function append(d: Dev, t: number, skip = 0): Promise<void> {
  d.seq += skip
  const record = encodeRecord({
    deviceId: d.deviceId,
    seq: d.seq + 1,
    deviceTimeMs: t,
    tempCentiC: 500,
    prevHash: d.prevHash,
  })
  const payload = assemblePayload(record, nobleSign(readingSigningMessage(record), d.seed))
  now = Math.max(now, t + 1000)
  // Above a gap the ingest holds a reading outside the log until the gap is filled or declared.
  const body = { payload: toBase64(payload), deviceId: d.deviceId, seq: d.seq + 1 }
  if (body.seq === ledger.device(d.deviceId)!.contiguous + 1) await ledger.appendReading(body, now)
  else await ledger.holdReading(body, now)
  d.seq++
  d.prevHash = readingHash(payload)
}

t.before(async () => {
  ledger = await openLedger({ dir: join(t.testdir(), 'ledger'), clock: () => now, checkpointIntervalMs: 0 })
  for (const d of Object.values(devs))
    await ledger.registerDevice({ deviceId: d.deviceId, publicKey: d.publicKey, by: 't' })
  const profile = BUILTIN_PROFILES['refrigerated-2-8']
  for (const [id, d] of Object.entries(devs))
    await ledger.createShipment({
      shipmentId: `EC-${id}`,
      product: 'p',
      route: { from: 'a', to: 'b' },
      devices: [d.deviceId],
      profile,
      startAt: T0,
      by: 't',
    })
  for (let i = 0; i < 8; i++) {
    const t = T0 + i * 5 * MIN
    await append(devs.jump, i === 3 ? T0 - 2 * 60 * MIN : t) // seq 4: the clock jumped back two hours
    await append(devs.gap, t, i === 4 ? 1 : 0) // seq 5 never arrived
  }
  now = T0 + 36 * MIN
  await ledger.closeShipment({
    shipmentId: 'EC-jump',
    closedAt: T0 + 35 * MIN,
    by: 't',
    signature: { by: 't', meaning: 'received and reviewed', reason: 'checked at receipt', at: T0 + 36 * MIN },
  })
  await append(devs.jump, T0 + 40 * MIN)
})
t.teardown(() => ledger?.close())

const verify = async (id: string): Promise<{ r: VerifyReport; claimed: { reasons: { code: string }[] } }> => {
  const { json, bundle } = buildBundle(await collectBundleInputs(ledger, id))
  return { r: await verifyBundle(json, { trustedKey: ledger.verifierKey }), claimed: bundle.claimed }
}

t.test('a clock jump inside the chain: a link, not evidence; VERIFIED with a note', async (t) => {
  const { r } = await verify('EC-jump')
  t.equal(r.result, 'VERIFIED', JSON.stringify(r.checks.filter((c) => !c.ok)))
  t.same(
    r.closeSignature,
    { by: 't', meaning: 'received and reviewed', reason: 'checked at receipt', at: T0 + 36 * MIN },
    'the signed close is verified and shown',
  )
  t.match(formatReport(r), /closed: signed by t, meaning "received and reviewed", reason: checked at receipt/)
  t.match(
    r.checks.find((c) => c.id === 'membership')!.notes.join(),
    /1 reading\(s\) of the chain carry a device time outside the window/,
  )
  t.match(
    r.checks.find((c) => c.id === 'chains')!.summary,
    /seq 1\.\.8 \(8 reading\(s\)\), through the create anchor seq 0 to the close anchor seq 8/,
  )
})

t.test(
  "readings above a gap the ledger never received are held outside the log: the open shipment's chain ends at the head",
  async (t) => {
    const { r } = await verify('EC-gap')
    t.equal(r.result, 'NOT VERIFIED')
    t.same(
      r.checks.filter((c) => !c.ok).map((c) => c.id),
      ['shipment'],
      'the chain up to the head verifies; only the open shipment is provisional',
    )
    t.match(r.checks.find((c) => c.id === 'chains')!.summary, /seq 1\.\.4 /)
  },
)

t.test(
  'the same readings declared lost by a gap entry, then closed: VERIFIED, verdict INCOMPLETE_EVIDENCE with the cause',
  async (t) => {
    await ledger.declareGap({
      deviceId: devs.gap.deviceId,
      fromSeq: 5,
      toSeq: 5,
      cause: 'buffer-overflow',
      by: 'ingest',
    })
    now = T0 + 40 * MIN
    await ledger.closeShipment({ shipmentId: 'EC-gap', closedAt: T0 + 35 * MIN, by: 't' })
    const { r, claimed } = await verify('EC-gap')
    t.equal(r.result, 'VERIFIED', JSON.stringify(r.checks.filter((c) => !c.ok)))
    t.match(r.checks.find((c) => c.id === 'chains')!.summary, /seq 1\.\.9 \(8 reading\(s\), 1 declared gap\(s\)\)/)
    t.equal((claimed as unknown as { verdict: string }).verdict, 'INCOMPLETE_EVIDENCE')
    t.match(
      claimed.reasons.find((x) => x.code === 'DECLARED_GAP'),
      { message: /seq 5 declared lost \(buffer-overflow\), by ingest/ },
    )
  },
)
