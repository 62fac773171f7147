/**
 * The pure parts of the views: range and class labels, the fleet filter,
 * the calibration state (EU GDP 9.3: yearly calibration).
 */
import t from 'tap'
import { classLabel, rangeText } from './components.ts'
import { matches } from './views/fleet.ts'
import { calibrationState } from './views/devices.ts'
import type { ShipmentSummary } from './types.ts'

t.test('range labels', async (t) => {
  t.equal(rangeText({ minC: 2, maxC: 8 }), '2–8 °C')
  t.equal(
    rangeText({ minC: -90, maxC: -60 }),
    '−90 to −60 °C',
    'negative bounds keep words, not a dash between minus signs',
  )
  t.equal(rangeText({ minC: null, maxC: 25 }), '≤ 25 °C')
  t.equal(rangeText({ minC: null, maxC: -20 }), '≤ −20 °C')
  t.equal(rangeText({ minC: 15, maxC: null }), '≥ 15 °C')
  t.equal(rangeText({ minC: null, maxC: null }), '—')
})

t.test('class labels', async (t) => {
  t.equal(classLabel('refrigerated'), 'Refrigerated')
  t.equal(classLabel('refrigerated-2-8'), 'Refrigerated')
  t.equal(classLabel('ultra-cold-90-60'), 'Ultra-cold')
  t.equal(classLabel('controlled-room'), 'Controlled room temperature')
  t.equal(classLabel('below-25'), 'Do not store above')
  t.equal(classLabel('frozen'), 'Frozen')
})

const ship = (over: Partial<ShipmentSummary>): ShipmentSummary => ({
  shipmentId: 'S-1',
  product: 'Insulin pens',
  productClass: 'refrigerated',
  route: { from: 'Basel', to: 'Lyon' },
  status: 'ok',
  currentTempC: 5,
  lastReadingAt: 0,
  openAlarms: 0,
  devices: ['logger-1'],
  range: { minC: 2, maxC: 8 },
  ...over,
})

t.test('fleet filter', async (t) => {
  const none = { status: '', cls: '', q: '' }
  t.ok(matches(ship({}), none))
  t.notOk(matches(ship({}), { ...none, status: 'alarm' }))
  t.ok(matches(ship({ status: 'alarm' }), { ...none, status: 'alarm' }))
  t.notOk(matches(ship({}), { ...none, cls: 'frozen' }))
  t.ok(matches(ship({}), { ...none, q: 'INSULIN lyon' }), 'every word, any field, any case')
  t.ok(matches(ship({}), { ...none, q: 'logger-1' }), 'device ids are searchable')
  t.notOk(matches(ship({}), { ...none, q: 'insulin madrid' }))
})

t.test('calibration state', async (t) => {
  const now = Date.UTC(2026, 10, 25)
  const day = 86_400_000
  t.equal(calibrationState(null, now), 'unknown')
  t.equal(calibrationState(now - day, now), 'overdue')
  t.equal(calibrationState(now + 10 * day, now), 'soon')
  t.equal(calibrationState(now + 90 * day, now), 'ok')
})
