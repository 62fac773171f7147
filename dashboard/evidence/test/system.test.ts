/**
 * Bundles from a real run: the whole system (embedded MQTT broker, ingest
 * verifying with Node's crypto, LevelDB ledger, simulated loggers signing
 * with noble over real sockets) runs the small demo; every shipment's bundle
 * verifies with the pinned key, and a temperature changed in one is caught.
 */
import t from 'tap'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startSystem, type RunningSystem } from '../../../scripts/system.ts'
import { assemblePayload, decodeReading, encodeRecord, fromBase64, toBase64 } from '../../../ledger/protocol/index.ts'
import { canonicalJsonBytes } from '../../../ledger/tlog/index.ts'
import { createBundleBuilder } from '../collect.ts'
import { verifyBundle } from '../verify.ts'
import type { EvidenceBundle } from '../format.ts'

let sys: RunningSystem
let dataDir: string
t.before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'coldproof-bundle-system-'))
  sys = await startSystem({ dataDir, httpPort: 0, mqttPort: 0, demo: 'small', quiet: true })
})
t.teardown(async () => {
  await sys?.close()
  if (dataDir) await rm(dataDir, { recursive: true, force: true })
})

t.test(
  "every demo shipment's bundle verifies (an open one is provisional: only SHIPMENT_NOT_CLOSED); a changed temperature does not",
  async (t) => {
    const shipments = sys.ledger.shipments().map((s) => s.shipmentId)
    t.ok(shipments.length >= 3, 'the small demo has shipments')
    const deadline = Date.now() + 40_000
    for (;;) {
      const counts = await Promise.all(shipments.map(async (id) => (await sys.ledger.readingsByShipment(id)).length))
      if (counts.every((n) => n >= 10)) break
      if (Date.now() > deadline) {
        t.fail(`the demo did not deliver readings in time: ${counts}`)
        return
      }
      await new Promise((r) => setTimeout(r, 250))
    }
    const build = createBundleBuilder(sys.ledger)
    let sample: string | null = null
    for (const id of shipments) {
      const b = await build(id)
      const r = await verifyBundle(b.json, { trustedKey: sys.ledger.verifierKey })
      const failed = r.checks.filter((c) => !c.ok).flatMap((c) => c.failures.map((f) => f.code))
      if (sys.ledger.shipment(id)?.closedAt !== undefined)
        t.equal(r.result, 'VERIFIED', `${id}: ${JSON.stringify(failed)}`)
      else t.same(failed, ['SHIPMENT_NOT_CLOSED'], `${id} (open): provisional, every other check passes`)
      t.equal(r.bundleSha256, b.sha256)
      sample ??= b.json
    }
    const bundle = JSON.parse(sample!) as EvidenceBundle
    const ref = bundle.chains[0].readings[3]
    const e = JSON.parse(new TextDecoder().decode(fromBase64(ref.entry)))
    const d = decodeReading(fromBase64(e.body.payload))
    e.body.payload = toBase64(
      assemblePayload(encodeRecord({ ...d.fields, tempCentiC: d.fields.tempCentiC - 300 }), d.signature),
    )
    ref.entry = toBase64(canonicalJsonBytes(e))
    const r = await verifyBundle(JSON.stringify(bundle), { trustedKey: sys.ledger.verifierKey, engine: 'noble' })
    t.equal(r.result, 'NOT VERIFIED')
    t.ok(
      r.checks
        .find((c) => c.id === 'signatures')!
        .failures.some(
          (f) => f.code === 'SIGNATURE_INVALID' && f.seq === d.fields.seq && f.deviceId === d.fields.deviceId,
        ),
      'SIGNATURE_INVALID names the reading',
    )
  },
)
