/** Devices (loggers): list, detail, register and revoke (admin). docs/API.md, "Devices". */
import type { FastifyInstance } from 'fastify'
import { DeviceCreateBody, RevokeBody, DEVICE_ID, ERROR_RESPONSES } from '../schemas.ts'
import { ApiError } from '../errors.ts'
import { checkDevicePublicKey, fromHex, isProtocolError } from '../../../ledger/protocol/index.ts'
import type { CalibrationInfo } from '../../../ledger/entry-types.ts'

const ADMIN_ONLY = [] as const
const idParams = { type: 'object', properties: { id: DEVICE_ID }, required: ['id'] } as const

export default async function deviceRoutes(app: FastifyInstance): Promise<void> {
  const { ledger, monitor, writeLimit } = app.dashboard
  const view = (id: string) => {
    const v = monitor.device(id)
    if (!v) throw new ApiError('ERR_DEVICE_NOT_FOUND', `no device "${id}"`, 'params.id')
    return v
  }

  app.get('/api/devices', {
    schema: { tags: ['devices'], response: { 200: { type: 'object', properties: { devices: { type: 'array', items: { $ref: 'Device#' } } } }, ...ERROR_RESPONSES } },
  }, async () => ({ devices: ledger.devices().map((d) => monitor.device(d.deviceId)!).sort((a, b) => (a.deviceId < b.deviceId ? -1 : 1)) }))

  app.get<{ Params: { id: string } }>('/api/devices/:id', {
    schema: { tags: ['devices'], params: idParams, response: { 200: { $ref: 'Device#' }, ...ERROR_RESPONSES } },
  }, async (req) => view(req.params.id))

  app.post<{ Body: { deviceId: string; publicKey: string; model?: string; calibration?: CalibrationInfo } }>('/api/devices', {
    config: { roles: ADMIN_ONLY, rateLimit: writeLimit },
    schema: { tags: ['devices'], body: DeviceCreateBody, response: { 201: { $ref: 'Device#' }, ...ERROR_RESPONSES } },
  }, async (req, reply) => {
    const b = req.body
    try {
      checkDevicePublicKey(fromHex(b.publicKey))
    } catch (e) {
      if (isProtocolError(e)) throw new ApiError('ERR_KEY_INVALID', `${e.code}: ${e.message}`, 'body.publicKey')
      throw e
    }
    if (ledger.device(b.deviceId)) throw new ApiError('ERR_DEVICE_EXISTS', `device "${b.deviceId}" is already registered`, 'body.deviceId')
    await ledger.registerDevice({ deviceId: b.deviceId, publicKey: b.publicKey, model: b.model, calibration: b.calibration, by: req.user!.username })
    req.log.info({ by: req.user!.username, deviceId: b.deviceId }, 'device registered')
    return reply.code(201).send(view(b.deviceId))
  })

  app.post<{ Params: { id: string }; Body: { reason: string } }>('/api/devices/:id/revoke', {
    config: { roles: ADMIN_ONLY, rateLimit: writeLimit },
    schema: { tags: ['devices'], params: idParams, body: RevokeBody, response: { 200: { $ref: 'Device#' }, ...ERROR_RESPONSES } },
  }, async (req) => {
    const d = ledger.device(req.params.id)
    if (!d) throw new ApiError('ERR_DEVICE_NOT_FOUND', `no device "${req.params.id}"`, 'params.id')
    if (d.revoked) throw new ApiError('ERR_DEVICE_REVOKED', `device "${d.deviceId}" is already revoked`, 'params.id')
    await ledger.revokeDevice({ deviceId: d.deviceId, reason: req.body.reason, by: req.user!.username })
    req.log.info({ by: req.user!.username, deviceId: d.deviceId }, 'device revoked')
    return view(d.deviceId)
  })
}
