/**
 * Final once closed: readings published after a shipment's close with device
 * times inside its window are stored, but never change its verdict, its
 * readings or its bundle's chains and claim; they are raised as a post-close
 * alarm and listed apart (shipment detail, PDF, the bundle's postClose list,
 * checked for authenticity). Readings after the close with later device times
 * leave the bundle's bytes as they were.
 */
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { buildDashboard } from '../../server/app.ts'
import { openUserStore } from '../../server/users.ts'
import { loadShipment } from '../../server/shipment-data.ts'
import { createBundleBuilder } from '../collect.ts'
import type { EvidenceBundle } from '../format.ts'
import { verifyBundle } from '../verify.ts'
import { buildTrail, nextReadingBody, MIN, type Trail } from './fixture.ts'

let trail: Trail
t.before(async () => {
  trail = await buildTrail()
})
t.teardown(() => trail?.close())

t.test(
  "readings after the close with in-window device times change neither the verdict nor the bundle's evidence",
  async (t) => {
    const {
      ledger,
      shipmentId,
      devices: { a },
      closedAt,
    } = trail
    const build = createBundleBuilder(ledger)
    const first = await build(shipmentId)
    const before = JSON.parse(first.json) as EvidenceBundle
    const shown = await loadShipment(ledger, shipmentId, () => false)
    t.equal(before.claimed.verdict, 'FAIL')
    t.same(before.postClose, [])

    // A logger that keeps logging after arrival: later device times change nothing, not even the bytes.
    await ledger.appendReading(nextReadingBody(a, closedAt + 30 * MIN, 500), closedAt + 31 * MIN)
    await ledger.checkpoint()
    t.equal((await build(shipmentId)).sha256, first.sha256, 'the same bundle bytes')

    // Readings whose device times fall inside the closed window, all in range: they would turn FAIL into a pass.
    const app = await buildDashboard({
      ledger,
      users: await openUserStore({
        file: `${trail.dir}/users.json`,
        seed: [{ username: 'olga', password: 'operator-password-1', role: 'operator' }],
      }),
      cookieSecret: randomBytes(32).toString('hex'),
      logger: false,
      bundle: build,
      integrityCheckOnStart: false,
    })
    t.teardown(() => app.close())
    await app.ready()
    const late = [] as number[]
    for (let i = 0; i < 3; i++) {
      const body = nextReadingBody(a, trail.startAt + (125 + i * 5) * MIN, 450)
      late.push(body.seq)
      await ledger.appendReading(body, closedAt + (40 + i) * MIN)
    }
    await ledger.barrier()
    const after = await loadShipment(ledger, shipmentId, () => false)
    t.same(after.result, shown.result, 'the recorded verdict and result are unchanged')
    t.same(
      after.readings.map((r) => `${r.deviceId}:${r.seq}`),
      shown.readings.map((r) => `${r.deviceId}:${r.seq}`),
      "the shipment's readings are unchanged",
    )
    t.same(
      after.postClose.map((r) => r.seq),
      late,
      'the readings are post-close evidence',
    )

    // Frozen at the close: the bundle's bytes do not change; the supplement lists the post-close readings.
    t.equal((await build(shipmentId)).sha256, first.sha256, "the closed shipment's bundle keeps its bytes and hash")
    const second = JSON.parse((await build(shipmentId, { postClose: true })).json) as EvidenceBundle
    t.same(second.claimed, before.claimed, 'the supplement claims the same result')
    t.same(
      second.chains.map((c) => c.readings.map((r) => [r.index, r.entry])),
      before.chains.map((c) => c.readings.map((r) => [r.index, r.entry])),
      'and carries the same chains',
    )
    t.same(second.postClose.map((r) => r.index).length, 3, "the supplement's post-close list holds the new readings")
    const report = await verifyBundle(JSON.stringify(second), { trustedKey: ledger.verifierKey })
    t.equal(report.result, 'VERIFIED', JSON.stringify(report.checks.filter((c) => !c.ok).map((c) => c.failures[0])))
    t.match(report.checks.find((c) => c.id === 'membership')!.notes.join(), /3 post-close reading\(s\)/)

    // The same over HTTP: the default download is the frozen bundle, ?postClose=true the supplement.
    const login = await app.inject({
      method: 'POST',
      url: '/api/login',
      payload: { username: 'olga', password: 'operator-password-1' },
    })
    const cookie = String(login.headers['set-cookie']).split(';')[0]
    const dl = await app.inject({ url: `/api/shipments/${shipmentId}/bundle.json`, headers: { cookie } })
    t.equal(dl.statusCode, 200)
    t.equal(dl.headers['x-content-sha256'], first.sha256, "the download names the frozen bundle's hash")
    const sup = await app.inject({
      url: `/api/shipments/${shipmentId}/bundle.json?postClose=true`,
      headers: { cookie },
    })
    t.equal(sup.statusCode, 200)
    t.equal(
      (JSON.parse(sup.body) as EvidenceBundle).postClose.length,
      3,
      'the supplement download lists the post-close readings',
    )
    t.match(String(sup.headers['content-disposition']), /bundle-post-close\.json/)

    const moved = structuredClone(second)
    moved.chains.find((c) => c.deviceId === a.deviceId)!.readings.push(moved.postClose[0])
    t.ok(
      (await verifyBundle(JSON.stringify(moved), { trustedKey: ledger.verifierKey })).checks
        .find((c) => c.id === 'chains')!
        .failures.some((f) => f.code === 'CHAIN_END_MISMATCH'),
      'a post-close reading in the chain: CHAIN_END_MISMATCH',
    )
    const twice = structuredClone(second)
    twice.postClose.push(twice.postClose[0])
    t.ok(
      (await verifyBundle(JSON.stringify(twice), { trustedKey: ledger.verifierKey })).checks
        .find((c) => c.id === 'membership')!
        .failures.some((f) => f.code === 'POST_CLOSE_MISMATCH'),
      'listed twice: POST_CLOSE_MISMATCH',
    )

    const alarm = app.dashboard.monitor.alarms({ shipmentId }).find((x) => x.kind === 'post_close_reading')
    t.match(alarm, { deviceId: a.deviceId, state: 'open', severity: 'major' }, 'the post-close alarm is raised for QA')
    t.match(alarm!.message, /3 reading\(s\) logged after the close/)
  },
)

t.test(
  "a closed shipment's bundle is frozen: later acknowledgements, revocations, gaps and a rebuilt builder leave its bytes",
  async (t) => {
    const {
      ledger,
      shipmentId,
      devices: { a, b },
    } = trail
    const first = await createBundleBuilder(ledger)(shipmentId)
    const frozen = JSON.parse(first.json) as EvidenceBundle
    const closeIndex = ledger.shipment(shipmentId)!.closeIndex!
    t.ok(
      frozen.acknowledgements.every((r) => r.index < closeIndex),
      'only acknowledgements logged before the close',
    )
    t.ok(frozen.postClose.length === 0, 'no post-close list')
    // Later entries about the shipment and its loggers, and many newer checkpoints.
    await ledger.acknowledgeAlarm({
      shipmentId,
      alarmId: `${a.deviceId}:excursion`,
      reason: 'Investigated',
      comment: 'later note',
      by: 'qa',
    })
    await ledger.checkpoint()
    await ledger.revokeDevice({ deviceId: b.deviceId, reason: 'retired', by: 'admin' })
    await ledger.barrier()
    await ledger.checkpoint()
    // A new builder (as after a restart: no cache) gives the same bytes, under the same checkpoint.
    const again = await createBundleBuilder(ledger)(shipmentId)
    t.equal(again.sha256, first.sha256, 'the same bundle after later entries and a fresh builder')
    const sup = JSON.parse((await createBundleBuilder(ledger)(shipmentId, { postClose: true })).json) as EvidenceBundle
    t.ok(
      sup.acknowledgements.length > frozen.acknowledgements.length,
      'the supplement carries the later acknowledgement',
    )
    t.ok(sup.devices.find((d) => d.deviceId === b.deviceId)!.revoke, 'and the revocation')
    t.notSame(sup.checkpoint, frozen.checkpoint, 'under a newer checkpoint')
    const report = await verifyBundle(JSON.stringify(sup), { trustedKey: ledger.verifierKey })
    t.equal(report.result, 'VERIFIED', JSON.stringify(report.checks.filter((c) => !c.ok).map((c) => c.failures[0])))
    const frozenReport = await verifyBundle(first.json, { trustedKey: ledger.verifierKey })
    t.equal(frozenReport.result, 'VERIFIED', 'the frozen bundle still verifies')
  },
)
