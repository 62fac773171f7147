/**
 * Reports per shipment: PDF, CSV of readings, EPCIS 2.0 JSON-LD, and the
 * evidence bundle (docs/API.md, "Reports and evidence"). Every role may read them.
 */
import type { FastifyInstance } from 'fastify'
import { SHIPMENT_ID, ERROR_RESPONSES } from '../schemas.ts'
import { ApiError } from '../errors.ts'
import { loadShipment, reportInput } from '../shipment-data.ts'
import { renderReportPdf } from '../../reports/pdf.ts'
import { readingsCsv } from '../../reports/csv.ts'
import { epcisDocument } from '../../reports/epcis.ts'

const params = { type: 'object', properties: { id: SHIPMENT_ID }, required: ['id'] } as const

/** The tree size of the bundle's checkpoint (second line of the C2SP checkpoint note, docs/BUNDLE.md); null if unreadable. */
function bundleTreeSize(json: string): number | null {
  try {
    const note = (JSON.parse(json) as { checkpoint?: unknown }).checkpoint
    const size = typeof note === 'string' ? Number(note.split('\n')[1]) : NaN
    return Number.isSafeInteger(size) && size >= 0 ? size : null
  } catch {
    return null
  }
}

/** A file name safe in a Content-Disposition header (shipment ids are [A-Za-z0-9._-] already). */
const fileName = (id: string, suffix: string) => `${id.replace(/[^A-Za-z0-9._-]/g, '_')}-${suffix}`

export default async function reportRoutes(app: FastifyInstance): Promise<void> {
  const { ledger, clock, opts } = app.dashboard

  app.get<{ Params: { id: string } }>(
    '/api/shipments/:id/report.pdf',
    {
      schema: { tags: ['reports'], params, produces: ['application/pdf'], response: ERROR_RESPONSES },
    },
    async (req, reply) => {
      const d = await loadShipment(ledger, req.params.id, app.dashboard.monitor.isLate, app.dashboard.monitor.delayOf)
      let sha256: string | null = null
      let note: string | undefined
      let builtAt: { size: number; at: number } | undefined
      if (opts.bundle) {
        try {
          const b = await opts.bundle(req.params.id)
          sha256 = b.sha256
          // Which evidence the hash names: an open shipment's bundle grows with its readings.
          const size = bundleTreeSize(b.json)
          if (size !== null) builtAt = { size, at: clock() }
        } catch (e) {
          // The report still renders; it says why it names no bundle.
          req.log.warn({ err: e, shipmentId: req.params.id }, 'evidence bundle not available for the report')
          note = `no evidence bundle yet: ${(e as Error).message}`
        }
      }
      const input = reportInput(ledger, d, clock(), sha256)
      if (note) input.bundleNote = note
      if (builtAt) input.bundleBuiltAt = builtAt
      input.alarms = app.dashboard.monitor
        .alarms({ shipmentId: req.params.id, state: 'all' })
        .sort((a, b) => a.raisedAt - b.raisedAt)
        .map((a) => ({
          alarmId: a.alarmId,
          kind: a.kind,
          deviceId: a.deviceId,
          message: a.message,
          severity: a.severity,
          raisedAt: a.raisedAt,
          endedAt: a.endedAt,
          state: a.state,
          ack: a.ack ? { by: a.ack.by, reason: a.ack.reason, comment: a.ack.comment, at: a.ack.at } : null,
          notifications: app.dashboard.notificationsOf(a.shipmentId, a.alarmId),
        }))
      const pdf = await renderReportPdf(input)
      reply
        .header('content-type', 'application/pdf')
        .header('content-disposition', `attachment; filename="${fileName(req.params.id, 'report.pdf')}"`)
      return reply.send(pdf)
    },
  )

  app.get<{ Params: { id: string } }>(
    '/api/shipments/:id/readings.csv',
    {
      schema: { tags: ['reports'], params, produces: ['text/csv'], response: ERROR_RESPONSES },
    },
    async (req, reply) => {
      const d = await loadShipment(ledger, req.params.id, app.dashboard.monitor.isLate, app.dashboard.monitor.delayOf)
      reply
        .header('content-type', 'text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="${fileName(req.params.id, 'readings.csv')}"`)
      return reply.send(
        readingsCsv(d.state.shipmentId, d.readings, {
          lateAfterMs: app.dashboard.monitor.lateAfterMs(d.state.shipmentId),
        }),
      )
    },
  )

  app.get<{ Params: { id: string } }>(
    '/api/shipments/:id/epcis.json',
    {
      schema: { tags: ['reports'], params, produces: ['application/ld+json'], response: ERROR_RESPONSES },
    },
    async (req, reply) => {
      const d = await loadShipment(ledger, req.params.id, app.dashboard.monitor.isLate, app.dashboard.monitor.delayOf)
      // Stable identifiers: the configured base, else the ledger's origin, never the host a browser happened to use.
      const idBase = opts.idBase ?? `https://${ledger.origin}`
      const doc = epcisDocument(reportInput(ledger, d, clock(), null), d.readings, { idBase })
      reply
        .header('content-type', 'application/ld+json; charset=utf-8')
        .header('content-disposition', `attachment; filename="${fileName(req.params.id, 'epcis.json')}"`)
      return reply.send(JSON.stringify(doc))
    },
  )

  // A closed shipment's bundle is frozen at its close; ?postClose=true adds what was logged about it since.
  app.get<{ Params: { id: string }; Querystring: { postClose?: boolean; cosigned?: boolean } }>(
    '/api/shipments/:id/bundle.json',
    {
      schema: {
        tags: ['reports'],
        params,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { postClose: { type: 'boolean' }, cosigned: { type: 'boolean' } },
        },
        response: { 501: { $ref: 'Error#' }, ...ERROR_RESPONSES },
      },
    },
    async (req, reply) => {
      if (!ledger.shipment(req.params.id))
        throw new ApiError('ERR_SHIPMENT_NOT_FOUND', `no shipment "${req.params.id}"`, 'params.id')
      if (!opts.bundle) throw new ApiError('ERR_BUNDLE_UNAVAILABLE', 'evidence bundle module not installed yet')
      let b: { json: string; sha256: string }
      try {
        b = await opts.bundle(req.params.id, {
          ...(req.query.postClose ? { postClose: true } : {}),
          ...(req.query.cosigned ? { cosigned: true } : {}),
        })
      } catch (e) {
        if ((e as Error).name === 'BundleError')
          throw new ApiError(
            'ERR_BUNDLE_NOT_READY',
            `the evidence bundle cannot be built yet: ${(e as Error).message}`,
            'params.id',
          )
        throw e
      }
      reply
        .header('content-type', 'application/json; charset=utf-8')
        .header(
          'content-disposition',
          `attachment; filename="${fileName(req.params.id, req.query.postClose ? 'bundle-post-close.json' : 'bundle.json')}"`,
        )
      reply.header('x-content-sha256', b.sha256)
      return reply.send(b.json)
    },
  )
}
