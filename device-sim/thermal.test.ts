import t from 'tap'
import { loadScenario } from './scenario/index.ts'
import { createShipmentSim, type ShipmentSnapshot } from './shipment-sim.ts'
import { createRng } from './rng.ts'
import { stepThermal, DRY_ICE_C, type ThermalState } from './thermal.ts'

const START = Date.parse('2026-11-20T06:00:00Z')

function trace(name: string, seed = 1): { snaps: ShipmentSnapshot[]; legStarts: number[] } {
  const s = loadScenario(name).shipments[0]
  const sim = createShipmentSim(s, START, createRng(seed))
  const snaps: ShipmentSnapshot[] = []
  for (let tm = START; tm <= sim.endMs; tm += 5 * 60_000) snaps.push(sim.advanceTo(tm))
  const legStarts: number[] = []
  let acc = START
  for (const l of s.legs) {
    legStarts.push(acc)
    acc += l.durationMin * 60_000
  }
  return { snaps, legStarts }
}

const max = (xs: number[]) => Math.max(...xs)
const min = (xs: number[]) => Math.min(...xs)

/** No passive heat flow can take the load outside the range spanned by its heat sources. */
function plausible(
  t: { ok(cond: boolean, message: string): unknown },
  snaps: ShipmentSnapshot[],
  coldestSourceC: number,
  warmestSourceC: number,
) {
  const lo = Math.min(coldestSourceC, min(snaps.map((s) => s.ambientC))) - 1e-9
  const hi = Math.max(warmestSourceC, max(snaps.map((s) => s.ambientC))) + 1e-9
  t.ok(
    snaps.every((s) => s.airC >= lo && s.airC <= hi && s.productC >= lo && s.productC <= hi),
    `air and product stay within [${lo.toFixed(1)}, ${hi.toFixed(1)}] °C`,
  )
  // The product lags the air: it never moves faster than a few degrees per 5 minutes.
  let jump = 0
  for (let i = 1; i < snaps.length; i++) jump = Math.max(jump, Math.abs(snaps[i].productC - snaps[i - 1].productC))
  t.ok(jump < 3, `largest product change per 5 min is ${jump.toFixed(2)} °C`)
}

t.test('reefer 2-8: compressor cycles, doors open, product stays in range', async (t) => {
  const { snaps } = trace('reefer-2-8')
  plausible(t, snaps, 5 - 6, 40)
  const products = snaps.map((s) => s.productC)
  t.ok(min(products) >= 2 && max(products) <= 8, `product ${min(products).toFixed(2)}..${max(products).toFixed(2)} °C`)
  let switches = 0
  for (let i = 1; i < snaps.length; i++) if (snaps[i].unit !== snaps[i - 1].unit) switches++
  t.ok(switches >= 20, `compressor switched ${switches} times (hysteresis cycling)`)
  const doors = snaps[snaps.length - 1].doorOpenings
  t.ok(doors >= 3 && doors <= 30, `${doors} door openings over two days at 6/day`)
  t.ok(max(snaps.map((s) => s.airC)) > 8, 'door openings spike the air temperature above 8 °C')
})

t.test('tarmac delay: a warm excursion during the delay, recovery after', async (t) => {
  const { snaps, legStarts } = trace('tarmac-delay')
  plausible(t, snaps, 5 - 6, 40)
  const before = snaps.filter((s) => s.timeMs < legStarts[1]).map((s) => s.productC)
  const during = snaps.filter((s) => s.timeMs >= legStarts[1] && s.timeMs <= legStarts[2]).map((s) => s.productC)
  t.ok(max(before) <= 8, 'in range before the tarmac')
  t.ok(max(during) > 8, `product reaches ${max(during).toFixed(1)} °C on the tarmac`)
  t.ok(max(during) < 35, 'but stays below the hottest ambient')
  t.ok(snaps[snaps.length - 1].productC <= 8, 'the next reefer leg brings it back into range')
})

t.test('reefer failure: slow drift toward the ambient after the unit stops', async (t) => {
  const { snaps } = trace('reefer-failure')
  plausible(t, snaps, 5 - 6, 40)
  const failAt = START + 720 * 60_000
  const before = snaps.filter((s) => s.timeMs < failAt)
  const after = snaps.filter((s) => s.timeMs >= failAt + 10 * 60_000)
  t.ok(max(before.map((s) => s.productC)) <= 8, 'in range while the unit runs')
  t.ok(
    after.every((s) => s.unit === 'off'),
    'the unit stays off',
  )
  const firstAbove = after.find((s) => s.productC > 8)
  t.ok(firstAbove, 'the product leaves the range')
  const hours = ((firstAbove as ShipmentSnapshot).timeMs - failAt) / 3_600_000
  t.ok(hours > 0.5 && hours < 12, `slowly: ${hours.toFixed(1)} h after the failure`)
  const last = snaps[snaps.length - 1]
  t.ok(
    last.productC > 15 && last.productC <= max(snaps.map((s) => s.ambientC)),
    `ends at ${last.productC.toFixed(1)} °C, below the ambient maximum`,
  )
})

t.test('winter: a cooling-only reefer lets the load freeze', async (t) => {
  const { snaps } = trace('winter-freeze')
  plausible(t, snaps, 5 - 6, 40)
  const p = snaps.map((s) => s.productC)
  t.ok(min(p) < 0, `product reaches ${min(p).toFixed(1)} °C`)
  t.ok(min(p) >= min(snaps.map((s) => s.ambientC)), 'never colder than the ambient')
})

t.test('room temperature 15-25 with heating and cooling', async (t) => {
  const { snaps } = trace('room-temperature')
  plausible(t, snaps, 20 - 6, 20 + 6)
  const p = snaps.map((s) => s.productC)
  t.ok(min(p) >= 15 && max(p) <= 25, `product ${min(p).toFixed(1)}..${max(p).toFixed(1)} °C`)
  t.ok(
    snaps.some((s) => s.unit === 'heat'),
    'heats on a cold night',
  )
  t.ok(min(snaps.map((s) => s.ambientC)) < 15, 'the ambient alone would have left the range')
})

t.test('frozen -20', async (t) => {
  const { snaps } = trace('frozen')
  plausible(t, snaps, -22 - 8, 40)
  t.ok(max(snaps.map((s) => s.productC)) <= -20, 'product stays at or below -20 °C')
})

t.test('ultra-cold: held by dry ice, then warms past -60 °C when it runs out', async (t) => {
  const { snaps } = trace('ultra-cold')
  plausible(t, snaps, DRY_ICE_C, 40)
  const firstDay = snaps.filter((s) => s.timeMs < START + 24 * 3_600_000)
  t.ok(max(firstDay.map((s) => s.productC)) <= -60, 'in range for the first day')
  const out = snaps.find((s) => s.iceKg === 0)
  t.ok(out, 'the ice runs out')
  const hours = ((out as ShipmentSnapshot).timeMs - START) / 3_600_000
  // 12 kg / (0.5 W/K × ~98 K × 86400 s / 571 kJ/kg ≈ 7.4 kg/day) ≈ 39 h.
  t.ok(hours > 30 && hours < 48, `ice lasts ${hours.toFixed(1)} h`)
  t.ok(snaps[snaps.length - 1].productC > -60, 'then the product warms out of range')
})

t.test('stepThermal is pure', async (t) => {
  const s: ThermalState = { airC: 10, productC: 8, unit: 'off', doorOpenLeftMin: 0, doorOpenings: 0, iceKg: 0 }
  const frozen = structuredClone(s)
  const model = {
    model: 'reefer' as const,
    setpointC: 5,
    hysteresisC: 2,
    heating: false,
    supplyOffsetC: 6,
    unitTauMin: 15,
    leakTauMin: 240,
    doorOpeningsPerDay: 100,
    doorOpenMin: 3,
    doorTauMin: 4,
  }
  const a = stepThermal(model, s, { dtMin: 1, ambientC: 30, legMin: 0, productTauMin: 60 }, createRng(5))
  const b = stepThermal(model, s, { dtMin: 1, ambientC: 30, legMin: 0, productTauMin: 60 }, createRng(5))
  t.same(a, b, 'same inputs, same output')
  t.same(s, frozen, 'input not mutated')
  t.equal(a.unit, 'cool', 'thermostat cuts in above setpoint + band/2')
  t.ok(a.airC < s.airC, 'cooling lowers the air temperature')
})
