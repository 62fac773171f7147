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
import { buildDashboard } from '../../server/index.ts'
import { openUserStore } from '../../server/users.ts'
import { loadShipment } from '../../server/shipment-data.ts'
import { createBundleBuilder } from '../../bundle/collect.ts'
import type { EvidenceBundle } from '../../bundle/format.ts'
import { verifyBundle } from '../../bundle/verify.ts'
import { buildTrail, nextReadingBody, MIN, type Trail } from './fixture.ts'

let trail: Trail
t.before(async () => { trail = await buildTrail() })
t.teardown(() => trail?.close())

t.test('readings after the close with in-window device times change neither the verdict nor the bundle\'s evidence', async (t) => {
  const { ledger, shipmentId, devices: { a }, closedAt } = trail
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
  const app = await buildDashboard({ ledger, users: await openUserStore({ file: `${trail.dir}/users.json`, seed: [{ username: 'olga', password: 'operator-password-1', role: 'operator' }] }), cookieSecret: randomBytes(32).toString('hex'), logger: false, bundle: build, integrityCheckOnStart: false })
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
  t.same(after.readings.map((r) => `${r.deviceId}:${r.seq}`), shown.readings.map((r) => `${r.deviceId}:${r.seq}`), 'the shipment\'s readings are unchanged')
  t.same(after.postClose.map((r) => r.seq), late, 'the readings are post-close evidence')

  const second = JSON.parse((await build(shipmentId)).json) as EvidenceBundle
  t.same(second.claimed, before.claimed, 'the bundle claims the same result')
  t.same(second.chains.map((c) => c.readings.map((r) => [r.index, r.entry])), before.chains.map((c) => c.readings.map((r) => [r.index, r.entry])), 'and carries the same chains')
  t.same(second.postClose.map((r) => r.index).length, 3, 'the post-close list holds the new readings')
  const report = await verifyBundle(JSON.stringify(second), { trustedKey: ledger.verifierKey })
  t.equal(report.result, 'VERIFIED', JSON.stringify(report.checks.filter((c) => !c.ok).map((c) => c.failures[0])))
  t.match(report.checks.find((c) => c.id === 'membership')!.notes.join(), /3 post-close reading\(s\)/)

  // Moving a post-close reading into the chain, or listing it twice, is caught.
  const moved = structuredClone(second)
  moved.chains.find((c) => c.deviceId === a.deviceId)!.readings.push(moved.postClose[0])
  t.ok((await verifyBundle(JSON.stringify(moved), { trustedKey: ledger.verifierKey })).checks.find((c) => c.id === 'chains')!.failures.some((f) => f.code === 'CHAIN_END_MISMATCH'), 'a post-close reading in the chain: CHAIN_END_MISMATCH')
  const twice = structuredClone(second)
  twice.postClose.push(twice.postClose[0])
  t.ok((await verifyBundle(JSON.stringify(twice), { trustedKey: ledger.verifierKey })).checks.find((c) => c.id === 'membership')!.failures.some((f) => f.code === 'POST_CLOSE_MISMATCH'), 'listed twice: POST_CLOSE_MISMATCH')

  const alarm = app.dashboard.monitor.alarms({ shipmentId }).find((x) => x.kind === 'post_close_reading')
  t.match(alarm, { deviceId: a.deviceId, state: 'open', severity: 'major' }, 'the post-close alarm is raised for QA')
  t.match(alarm!.message, /3 reading\(s\) logged after the close/)
})
