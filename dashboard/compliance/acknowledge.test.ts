import t from 'tap'
import { attachAcknowledgements, acknowledgementFromEntry } from './acknowledge.ts'
import { evaluateShipment } from './shipment.ts'
import { BUILTIN_PROFILES } from './builtin-profiles.ts'
import { trace, shipmentInput, T0 } from './test/helpers.ts'
import { canonicalJson } from '../../ledger/tlog/index.ts'

const result = evaluateShipment(
  shipmentInput(BUILTIN_PROFILES['refrigerated-2-8'], trace('dev-a', [500, 900, 900, 0, 500])),
)
const alarms = result.sensors[0].events.filter((e) => e.alarm)
const started = result.sensors[0].events.find((e) => e.kind === 'excursion_started')!

t.test('acknowledgements are attached and never change the verdict', async (t) => {
  t.equal(result.verdict, 'FAIL')
  t.ok(alarms.length >= 2)
  const acks = [
    {
      alarmId: alarms[1].id,
      by: 'op-2',
      atMs: T0 + 3_600_000,
      reason: 'product quarantined',
      comment: 'QA informed (GDP 9.2)',
    },
    { alarmId: alarms[0].id, by: 'op-1', atMs: T0 + 1_800_000, reason: 'door left open', comment: '' },
  ]
  const acked = attachAcknowledgements(result, acks)
  t.equal(acked.verdict, result.verdict)
  t.equal(canonicalJson(acked.reasons), canonicalJson(result.reasons))
  t.equal(canonicalJson(acked.sensors), canonicalJson(result.sensors))
  t.same(
    acked.acknowledgements.map((a) => a.by),
    ['op-1', 'op-2'],
    'sorted by time',
  )
  t.same(
    acked.unacknowledgedAlarmIds,
    alarms
      .slice(2)
      .map((e) => e.id)
      .sort(),
  )
  t.doesNotThrow(() => canonicalJson(acked))
  const all = attachAcknowledgements(
    result,
    alarms.map((a, i) => ({ alarmId: a.id, by: 'op', atMs: T0 + i, reason: 'ack', comment: '' })),
  )
  t.equal(all.verdict, 'FAIL', 'acknowledging every alarm leaves FAIL a FAIL')
  t.same(all.unacknowledgedAlarmIds, [])
})

t.test('acknowledging something that is not an alarm of this result is refused', async (t) => {
  t.throws(
    () =>
      attachAcknowledgements(result, [
        { alarmId: 'dev-a:excursion_alarm:above-8:1', by: 'op', atMs: 1, reason: 'r', comment: '' },
      ]),
    { code: 'ERR_ACK_UNKNOWN_ALARM', path: '$[0].alarmId' },
  )
  t.throws(
    () => attachAcknowledgements(result, [{ alarmId: started.id, by: 'op', atMs: 1, reason: 'r', comment: '' }]),
    { code: 'ERR_ACK_UNKNOWN_ALARM' },
    'an excursion start is not an alarm until its delay passes',
  )
  t.throws(
    () => attachAcknowledgements(result, [{ alarmId: alarms[0].id, by: '', atMs: 1, reason: 'r', comment: '' }]),
    { code: 'ERR_INPUT_INVALID', path: '$[0].by' },
  )
  t.throws(
    () => attachAcknowledgements(result, [{ alarmId: alarms[0].id, by: 'op', atMs: 1.5, reason: 'r', comment: '' }]),
    { code: 'ERR_INPUT_INVALID', path: '$[0].atMs' },
  )
})

t.test('an alarm.ack log entry becomes an acknowledgement', async (t) => {
  const ack = acknowledgementFromEntry({
    v: 1,
    index: 7,
    type: 'alarm.ack',
    time: T0 + 99,
    prev: '0'.repeat(64),
    body: { shipmentId: 's-1', alarmId: alarms[0].id, reason: 'door', comment: 'closed', by: 'op-1' },
  })
  t.same(ack, { alarmId: alarms[0].id, by: 'op-1', atMs: T0 + 99, reason: 'door', comment: 'closed' })
  t.equal(attachAcknowledgements(result, [ack]).acknowledgements.length, 1)
})
