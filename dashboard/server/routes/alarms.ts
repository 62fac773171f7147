/** Alarms across the fleet and their acknowledgement (docs/API.md, "Alarms"). */
import type { FastifyInstance } from 'fastify'
import { AckBody, SHIPMENT_ID, ERROR_RESPONSES } from '../schemas.ts'
import { ApiError } from '../errors.ts'
import { mustShipment } from '../shipment-data.ts'

export default async function alarmRoutes(app: FastifyInstance): Promise<void> {
  const { ledger, monitor, writeLimit, notificationsOf } = app.dashboard

  app.get<{ Querystring: { state?: 'open' | 'acknowledged' | 'all'; shipmentId?: string } }>(
    '/api/alarms',
    {
      schema: {
        tags: ['alarms'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { state: { type: 'string', enum: ['open', 'acknowledged', 'all'] }, shipmentId: SHIPMENT_ID },
        },
        response: {
          200: { type: 'object', properties: { alarms: { type: 'array', items: { $ref: 'Alarm#' } } } },
          ...ERROR_RESPONSES,
        },
      },
    },
    async (req) => ({
      alarms: monitor
        .alarms({ state: req.query.state ?? 'all', shipmentId: req.query.shipmentId })
        .map((a) => ({ ...a, notifications: notificationsOf(a.shipmentId, a.alarmId) })),
    }),
  )

  app.post<{ Params: { id: string; alarmId: string }; Body: { reason: string; comment: string } }>(
    '/api/shipments/:id/alarms/:alarmId/ack',
    {
      config: { roles: ['operator'], rateLimit: writeLimit },
      schema: {
        tags: ['alarms'],
        params: {
          type: 'object',
          properties: { id: SHIPMENT_ID, alarmId: { type: 'string', minLength: 1, maxLength: 300 } },
          required: ['id', 'alarmId'],
        },
        body: AckBody,
        response: { 200: { $ref: 'Alarm#' }, ...ERROR_RESPONSES },
      },
    },
    async (req) => {
      const s = mustShipment(ledger, req.params.id)
      const alarm = monitor.alarm(s.shipmentId, req.params.alarmId)
      if (!alarm)
        throw new ApiError(
          'ERR_ALARM_NOT_FOUND',
          `shipment "${s.shipmentId}" has no alarm "${req.params.alarmId}"`,
          'params.alarmId',
        )
      if (alarm.ack)
        throw new ApiError(
          'ERR_ALARM_ACKNOWLEDGED',
          `alarm "${alarm.alarmId}" was acknowledged by ${alarm.ack.by}`,
          'params.alarmId',
        )
      const by = req.user!.username
      const e = await ledger.acknowledgeAlarm({
        shipmentId: s.shipmentId,
        alarmId: alarm.alarmId,
        reason: req.body.reason,
        comment: req.body.comment,
        by,
      })
      req.log.info({ by, shipmentId: s.shipmentId, alarmId: alarm.alarmId }, 'alarm acknowledged')
      return {
        ...alarm,
        state: 'acknowledged',
        sensorLost: false,
        ack: { by, reason: req.body.reason, comment: req.body.comment, at: e.entry.time, index: e.entry.index },
        notifications: notificationsOf(s.shipmentId, alarm.alarmId),
      }
    },
  )
}
