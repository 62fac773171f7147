/**
 * GS1 EPCIS 2.0 JSON-LD export of a shipment's readings: one ObjectEvent per
 * reading (EPCIS 2.0, 7.3.6 sensorElementList), what = the logistic unit's
 * SSCC, why = CBV bizStep `transporting` and disposition `in_transit`, the
 * reading as a sensorReport of type gs1:Temperature in CEL (UN/ECE Rec. 20
 * code for degrees Celsius). Readings inside an excursion of the compliance
 * result carry `exception: "ALARM_CONDITION"` (CBV 2.0, sensor alert types).
 * Values are decimals derived exactly from the integer centi-degrees.
 * The shipment's own life is two more ObjectEvents: `shipping` at its start
 * (disposition in_transit) and, once closed, `receiving` at its close
 * (disposition in_progress), read at the route's ends.
 */
import type { ReportInput, ReportReading, ReportExcursion } from './types.ts'
import { ssccDigitalLink } from '../common/gs1.ts'

export const EPCIS_CONTEXT = 'https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld'

export interface EpcisOptions {
  /** Base of the URIs naming devices and ledger entries (no trailing slash). */
  idBase?: string
}

/**
 * true when the reading is an excursion reading: outside the labelled range and
 * within an excursion of its own device (or of the whole shipment). The
 * reading that ends an excursion is back in range and is not marked.
 */
export function inExcursion(
  r: ReportReading,
  excursions: readonly ReportExcursion[],
  range: { minCentiC: number | null; maxCentiC: number | null },
): boolean {
  const outside =
    (range.maxCentiC !== null && r.tempCentiC > range.maxCentiC) ||
    (range.minCentiC !== null && r.tempCentiC < range.minCentiC)
  return (
    outside &&
    excursions.some(
      (x) =>
        (x.deviceId === null || x.deviceId === r.deviceId) &&
        r.deviceTimeMs >= x.startAt &&
        (x.endAt === null || r.deviceTimeMs <= x.endAt),
    )
  )
}

const iso = (ms: number) => new Date(ms).toISOString()

export function epcisDocument(
  input: ReportInput,
  readings: ReadonlyArray<ReportReading & { index?: number }>,
  { idBase = 'https://coldproof.invalid' }: EpcisOptions = {},
): Record<string, unknown> {
  const { shipment, result } = input
  const epcList = shipment.gs1 ? [ssccDigitalLink(shipment.gs1.sscc)] : []
  const eventList: Record<string, unknown>[] = readings.map((r) => {
    const report: Record<string, unknown> = {
      type: 'gs1:Temperature',
      value: r.tempCentiC / 100,
      uom: 'CEL',
      deviceID: `${idBase}/devices/${encodeURIComponent(r.deviceId)}`,
      time: iso(r.deviceTimeMs),
    }
    if (r.flags.includes('SENSOR_FAULT')) report.exception = 'ERROR_CONDITION'
    else if (inExcursion(r, result.excursions, shipment.range)) report.exception = 'ALARM_CONDITION'
    const metadata: Record<string, unknown> = { time: iso(r.deviceTimeMs), deviceID: report.deviceID }
    if (r.index !== undefined) metadata.rawData = `${idBase}/api/ledger/entries/${r.index}`
    return {
      type: 'ObjectEvent',
      eventTime: iso(r.deviceTimeMs),
      eventTimeZoneOffset: '+00:00',
      recordTime: iso(r.receivedAt),
      eventID: `${idBase}/shipments/${encodeURIComponent(shipment.shipmentId)}/readings/${encodeURIComponent(r.deviceId)}/${r.seq}`,
      epcList,
      action: 'OBSERVE',
      bizStep: 'transporting',
      disposition: 'in_transit',
      readPoint: { id: `${idBase}/devices/${encodeURIComponent(r.deviceId)}` },
      sensorElementList: [{ sensorMetadata: metadata, sensorReport: [report] }],
    }
  })
  const site = (name: string) => ({ id: `${idBase}/sites/${encodeURIComponent(name)}` })
  const lifecycle = (bizStep: string, disposition: string, at: number, where: string) => ({
    type: 'ObjectEvent',
    eventTime: iso(at),
    eventTimeZoneOffset: '+00:00',
    eventID: `${idBase}/shipments/${encodeURIComponent(shipment.shipmentId)}/${bizStep}`,
    epcList,
    action: 'OBSERVE',
    bizStep,
    disposition,
    readPoint: site(where),
  })
  eventList.unshift(lifecycle('shipping', 'in_transit', shipment.startAt, shipment.route.from))
  if (shipment.closedAt !== null)
    eventList.push(lifecycle('receiving', 'in_progress', shipment.closedAt, shipment.route.to))
  return {
    '@context': [EPCIS_CONTEXT],
    type: 'EPCISDocument',
    schemaVersion: '2.0',
    creationDate: iso(input.generatedAt),
    epcisBody: { eventList },
  }
}
