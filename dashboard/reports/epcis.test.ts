import t from 'tap'
import { readFileSync } from 'node:fs'
import { Ajv } from 'ajv'
import addFormatsModule from 'ajv-formats'
import { epcisDocument, inExcursion } from './epcis.ts'
import { sampleReportInput } from './test/sample-input.ts'

// ajv-formats is CommonJS: its default export arrives as the module object under tsx.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (
  a: Ajv,
) => Ajv
const schema = JSON.parse(readFileSync(new URL('./testdata/epcis/EPCIS-JSON-Schema.json', import.meta.url), 'utf8'))
const ajv = new Ajv({ strict: false, allErrors: true })
addFormats(ajv)
const validate = ajv.compile(schema)

t.test('the EPCIS export validates against the GS1 EPCIS 2.0 JSON Schema', async (t) => {
  const input = sampleReportInput()
  const doc = epcisDocument(
    input,
    input.readings.map((r, i) => ({ ...r, index: 100 + i })),
  )
  const ok = validate(doc)
  t.ok(ok, JSON.stringify(validate.errors?.slice(0, 5)))
  const events = (doc.epcisBody as { eventList: Record<string, any>[] }).eventList.filter((e) => e.sensorElementList) // readings; the shipping and receiving events have none
  t.equal(events.length, input.readings.length, 'one ObjectEvent per reading')
  const e = events[0]
  t.equal(e.type, 'ObjectEvent')
  t.equal(e.bizStep, 'transporting')
  t.equal(e.disposition, 'in_transit')
  t.same(e.epcList, ['https://id.gs1.org/00/106141411928374657'])
  const rep = e.sensorElementList[0].sensorReport[0]
  t.equal(rep.type, 'gs1:Temperature')
  t.equal(rep.uom, 'CEL')
  t.equal(rep.value, input.readings[0].tempCentiC / 100)
  t.equal(e.sensorElementList[0].sensorMetadata.rawData, 'https://coldproof.invalid/api/ledger/entries/100')
})

t.test('readings inside an excursion carry ALARM_CONDITION, a sensor fault ERROR_CONDITION, others none', async (t) => {
  const input = sampleReportInput()
  const doc = epcisDocument(input, input.readings)
  const events = (doc.epcisBody as { eventList: Record<string, any>[] }).eventList.filter((e) => e.sensorElementList) // readings; the shipping and receiving events have none
  let alarms = 0
  input.readings.forEach((r, i) => {
    const exc = events[i].sensorElementList[0].sensorReport[0].exception
    const expected = r.flags.includes('SENSOR_FAULT')
      ? 'ERROR_CONDITION'
      : inExcursion(r, input.result.excursions, input.shipment.range)
        ? 'ALARM_CONDITION'
        : undefined
    t.equal(exc, expected, `reading ${r.deviceId}#${r.seq} at ${r.tempCentiC}`)
    if (exc === 'ALARM_CONDITION') alarms++
  })
  t.ok(alarms > 0, 'the sample has excursion readings')
  t.ok(alarms < input.readings.length, 'and readings in range')
})

t.test('the schema check is not vacuous: broken documents fail', async (t) => {
  const input = sampleReportInput()
  const doc = epcisDocument(input, input.readings) as any
  const bad1 = structuredClone(doc)
  delete bad1.epcisBody.eventList[0].eventTimeZoneOffset
  t.notOk(validate(bad1), 'missing eventTimeZoneOffset')
  const bad2 = structuredClone(doc)
  bad2.epcisBody.eventList[0].action = 'WATCH'
  t.notOk(validate(bad2), 'unknown action')
  const bad3 = structuredClone(doc)
  bad3.epcisBody.eventList[1].sensorElementList[0].sensorReport[0].exception = 'HOT'
  t.notOk(validate(bad3), 'exception outside the CBV alert types')
  const bad4 = structuredClone(doc)
  delete bad4['@context']
  t.notOk(validate(bad4), 'no JSON-LD context')
})

t.test('no SSCC: still schema-valid with an empty epcList', async (t) => {
  const input = sampleReportInput()
  input.shipment.gs1 = null
  const doc = epcisDocument(input, input.readings.slice(0, 3))
  t.ok(validate(doc), JSON.stringify(validate.errors?.slice(0, 3)))
})

t.test(
  "the shipment's life: a shipping event at its start and, once closed, a receiving event; identifiers never name the host",
  async (t) => {
    const input = sampleReportInput()
    const closed = epcisDocument(input, input.readings.slice(0, 3), { idBase: 'https://coldproof.local/ledger' }) as {
      epcisBody: { eventList: { bizStep: string; eventTime: string; readPoint: { id: string }; eventID: string }[] }
    }
    const steps = closed.epcisBody.eventList.map((e) => e.bizStep)
    t.same([steps[0], steps[steps.length - 1]], ['shipping', 'receiving'])
    const last = closed.epcisBody.eventList[steps.length - 1]
    t.equal(last.eventTime, new Date(input.shipment.closedAt!).toISOString(), 'received at the close')
    t.match(last.readPoint.id, /\/sites\/Lyon$/, "at the route's end")
    const open = epcisDocument(
      { ...input, shipment: { ...input.shipment, closedAt: null } },
      input.readings.slice(0, 3),
    ) as typeof closed
    t.notOk(
      open.epcisBody.eventList.some((e) => e.bizStep === 'receiving'),
      'no receiving event while open',
    )
    t.notMatch(JSON.stringify(closed), /localhost|127\.0\.0\.1/)
  },
)
