import t from 'tap'
import { readdirSync } from 'node:fs'
import {
  loadScenario,
  parseScenario,
  SCENARIO_DIR,
  type STORAGE_CLASSES,
  shipmentDurationMin,
} from './scenario/index.ts'
import { ScenarioError, type SimError } from './errors.ts'

const minimal = () => ({
  name: 'x',
  shipments: [
    {
      shipmentId: 's1',
      product: 'p',
      storageClass: '2-8',
      devices: [{ deviceId: 'd-1' }],
      legs: [
        { durationMin: 60, model: 'reefer', setpointC: 5, ambient: { meanC: 20 } },
        { durationMin: 60, model: 'passive', ambient: { meanC: 30 } },
        { durationMin: 60, model: 'dry-ice', iceKg: 5, ambient: { meanC: 20 } },
      ],
    },
  ],
})

t.test('every built-in scenario parses; the demo fleet covers every storage class', async (t) => {
  const files = readdirSync(SCENARIO_DIR).filter((f) => f.endsWith('.json'))
  t.ok(files.length >= 8)
  for (const f of files) t.doesNotThrow(() => loadScenario(f.replace(/\.json$/, '')), f)
  const demo = loadScenario('demo-fleet')
  t.ok(demo.shipments.length >= 10, `${demo.shipments.length} shipments`)
  const classes = new Set(demo.shipments.map((s) => s.storageClass))
  for (const c of ['2-8', '15-25', 'max25', 'max30', 'frozen-20', 'ultra-cold'])
    t.ok(classes.has(c as (typeof STORAGE_CLASSES)[number]), `demo has ${c}`)
  t.ok(
    demo.shipments.some((s) => s.devices.some((d) => d.faults.connectivityLoss.length > 0)),
    'a shipment loses connectivity',
  )
  t.ok(
    demo.shipments.some((s) => s.devices.some((d) => d.faults.sensorFault.length > 0)),
    'a shipment has a sensor fault',
  )
})

t.test('defaults are filled in', async (t) => {
  const s = parseScenario(minimal())
  const sh = s.shipments[0]
  t.equal(sh.samplingIntervalMin, 5, 'default interval is 5 simulated minutes')
  t.equal(s.acceleration, 720)
  t.equal(sh.devices[0].probe, 'product')
  t.equal(sh.initialC, 5, 'initial temperature is the first setpoint')
  t.equal(shipmentDurationMin(sh), 180)
  t.equal(sh.legs[2].addIceKg, 5)
})

const cases: Array<[string, (s: any) => void, string, RegExp]> = [
  [
    'negative leg duration',
    (s) => {
      s.shipments[0].legs[2].durationMin = -5
    },
    'shipments[0].legs[2].durationMin',
    /must be a positive number, got -5/,
  ],
  [
    'missing name',
    (s) => {
      delete s.name
    },
    'name',
    /must be a non-empty string, got nothing/,
  ],
  [
    'unknown top-level field',
    (s) => {
      s.acceleraton = 5
    },
    'acceleraton',
    /is not a known field/,
  ],
  [
    'bad storage class',
    (s) => {
      s.shipments[0].storageClass = 'cold'
    },
    'shipments[0].storageClass',
    /must be one of "2-8"/,
  ],
  [
    'bad device id',
    (s) => {
      s.shipments[0].devices[0].deviceId = 'Truck_1'
    },
    'shipments[0].devices[0].deviceId',
    /\[a-z0-9-\]/,
  ],
  [
    'no legs',
    (s) => {
      s.shipments[0].legs = []
    },
    'shipments[0].legs',
    /at least 1 item/,
  ],
  [
    'unknown model',
    (s) => {
      s.shipments[0].legs[0].model = 'fridge'
    },
    'shipments[0].legs[0].model',
    /"reefer", "passive", "dry-ice"/,
  ],
  [
    'field of another model',
    (s) => {
      s.shipments[0].legs[1].setpointC = 5
    },
    'shipments[0].legs[1].setpointC',
    /does not apply to model "passive"/,
  ],
  [
    'reefer without setpoint',
    (s) => {
      delete s.shipments[0].legs[0].setpointC
    },
    'shipments[0].legs[0].setpointC',
    /must be a number/,
  ],
  [
    'ambient out of range',
    (s) => {
      s.shipments[0].legs[0].ambient.meanC = 500
    },
    'shipments[0].legs[0].ambient.meanC',
    /between -60 and 70, got 500/,
  ],
  [
    'fault window reversed',
    (s) => {
      s.shipments[0].faults = { sensorFault: [{ fromMin: 30, toMin: 10 }] }
    },
    'shipments[0].faults.sensorFault[0].toMin',
    /greater than fromMin/,
  ],
  [
    'clock jump of zero',
    (s) => {
      s.shipments[0].devices[0].faults = { clockJump: [{ atMin: 3, offsetMin: 0 }] }
    },
    'shipments[0].devices[0].faults.clockJump[0].offsetMin',
    /must not be 0/,
  ],
  [
    'duplicate device',
    (s) => {
      s.shipments.push({ ...structuredClone(s.shipments[0]), shipmentId: 's2' })
    },
    'shipments[1].devices[0].deviceId',
    /repeats "d-1"/,
  ],
  [
    'string for a number',
    (s) => {
      s.samplingIntervalMin = '5'
    },
    'samplingIntervalMin',
    /must be a number, got "5"/,
  ],
  [
    'bad start time',
    (s) => {
      s.startAt = 'yesterday'
    },
    'startAt',
    /ISO-8601/,
  ],
  [
    'non-integer buffer',
    (s) => {
      s.bufferCapacity = 2.5
    },
    'bufferCapacity',
    /must be an integer/,
  ],
]

for (const [desc, mutate, path, message] of cases) {
  t.test(`rejects: ${desc}`, async (t) => {
    const s = minimal()
    mutate(s)
    const err = t.throws(() => parseScenario(s)) as ScenarioError
    t.type(err, ScenarioError)
    t.equal(err.code, 'ERR_SCENARIO_INVALID')
    t.equal(err.path, path)
    t.ok(err.message.startsWith(path), `message names the field: ${err.message}`)
    t.match(err.message, message)
  })
}

t.test('loadScenario: missing file and bad JSON', async (t) => {
  t.throws(() => loadScenario('no-such-scenario'), { code: 'ERR_SCENARIO_NOT_FOUND' })
  const dir = t.testdir({
    'bad.json': '{ "name": ',
    'neg.json': JSON.stringify({ ...minimal(), samplingIntervalMin: -1 }),
  })
  const e1 = t.throws(() => loadScenario(`${dir}/bad.json`)) as SimError
  t.equal(e1.code, 'ERR_SCENARIO_INVALID')
  t.match(e1.message, /not valid JSON/)
  const e2 = t.throws(() => loadScenario(`${dir}/neg.json`)) as ScenarioError
  t.equal(e2.path, 'samplingIntervalMin')
  t.match(e2.message, /neg\.json/, 'names the file')
})
