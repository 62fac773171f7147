/** Devices (loggers): list, detail, register, revoke and declare a gap (admin). docs/API.md, "Devices". */
import type { FastifyInstance } from 'fastify'
import { DeviceCreateBody, GapBody, RevokeBody, DEVICE_ID, ERROR_RESPONSES } from '../schemas.ts'
import { declarableGap } from '../../../ledger/store/index.ts'
import { ApiError } from '../errors.ts'
import { checkDevicePublicKey, fromHex, isProtocolError } from '../../../ledger/protocol/index.ts'
import type { CalibrationInfo } from '../../../ledger/tlog/index.ts'

const ADMIN_ONLY = [] as const
const idParams = { type: 'object', properties: { id: DEVICE_ID }, required: ['id'] } as const

export default async function deviceRoutes(app: FastifyInstance): Promise<void> {
  const { ledger, monitor, writeLimit } = app.dashboard
  const view = (id: string) => {
    const v = monitor.device(id)
    if (!v) throw new ApiError('ERR_DEVICE_NOT_FOUND', `no device "${id}"`, 'params.id')
    return v
  }

  app.get(
    '/api/devices',
    {
      schema: {
        tags: ['devices'],
        response: {
          200: { type: 'object', properties: { devices: { type: 'array', items: { $ref: 'Device#' } } } },
          ...ERROR_RESPONSES,
        },
      },
    },
    async () => ({
      devices: ledger
        .devices()
        .map((d) => monitor.device(d.deviceId)!)
        .sort((a, b) => (a.deviceId < b.deviceId ? -1 : 1)),
    }),
  )

  app.get<{ Params: { id: string } }>(
    '/api/devices/:id',
    {
      schema: { tags: ['devices'], params: idParams, response: { 200: { $ref: 'Device#' }, ...ERROR_RESPONSES } },
    },
    async (req) => view(req.params.id),
  )

  app.post<{ Body: { deviceId: string; publicKey: string; model?: string; calibration?: CalibrationInfo } }>(
    '/api/devices',
    {
      config: { roles: ADMIN_ONLY, rateLimit: writeLimit },
      schema: { tags: ['devices'], body: DeviceCreateBody, response: { 201: { $ref: 'Device#' }, ...ERROR_RESPONSES } },
    },
    async (req, reply) => {
      const b = req.body
      try {
        checkDevicePublicKey(fromHex(b.publicKey))
      } catch (e) {
        if (isProtocolError(e)) throw new ApiError('ERR_KEY_INVALID', `${e.code}: ${e.message}`, 'body.publicKey')
        throw e
      }
      if (ledger.device(b.deviceId))
        throw new ApiError('ERR_DEVICE_EXISTS', `device "${b.deviceId}" is already registered`, 'body.deviceId')
      await ledger.registerDevice({
        deviceId: b.deviceId,
        publicKey: b.publicKey,
        model: b.model,
        calibration: b.calibration,
        by: req.user!.username,
      })
      req.log.info({ by: req.user!.username, deviceId: b.deviceId }, 'device registered')
      return reply.code(201).send(view(b.deviceId))
    },
  )

  app.post<{ Params: { id: string }; Body: { reason: string } }>(
    '/api/devices/:id/revoke',
    {
      config: { roles: ADMIN_ONLY, rateLimit: writeLimit },
      schema: {
        tags: ['devices'],
        params: idParams,
        body: RevokeBody,
        response: { 200: { $ref: 'Device#' }, ...ERROR_RESPONSES },
      },
    },
    async (req) => {
      const d = ledger.device(req.params.id)
      if (!d) throw new ApiError('ERR_DEVICE_NOT_FOUND', `no device "${req.params.id}"`, 'params.id')
      if (d.revoked) throw new ApiError('ERR_DEVICE_REVOKED', `device "${d.deviceId}" is already revoked`, 'params.id')
      await ledger.revokeDevice({ deviceId: d.deviceId, reason: req.body.reason, by: req.user!.username })
      req.log.info({ by: req.user!.username, deviceId: d.deviceId }, 'device revoked')
      return view(d.deviceId)
    },
  )

  // docs/PROTOCOL.md, "Declared gaps": an admin declares readings lost for good; the gap entry names who and why.
  app.post<{ Params: { id: string }; Body: { fromSeq: number; toSeq: number; detail: string } }>(
    '/api/devices/:id/gaps',
    {
      config: { roles: ADMIN_ONLY, rateLimit: writeLimit },
      schema: {
        tags: ['devices'],
        params: idParams,
        body: GapBody,
        response: {
          201: {
            type: 'object',
            properties: {
              index: { type: 'integer' },
              fromSeq: { type: 'integer' },
              toSeq: { type: 'integer' },
              device: { $ref: 'Device#' },
            },
          },
          ...ERROR_RESPONSES,
        },
      },
    },
    async (req, reply) => {
      const d = ledger.device(req.params.id)
      if (!d) throw new ApiError('ERR_DEVICE_NOT_FOUND', `no device "${req.params.id}"`, 'params.id')
      if (d.revoked) throw new ApiError('ERR_DEVICE_REVOKED', `device "${d.deviceId}" is revoked`, 'params.id')
      const { fromSeq, toSeq, detail } = req.body
      const g = declarableGap(d)
      if (!g || g[0] !== fromSeq || g[1] !== toSeq) {
        throw new ApiError(
          'ERR_GAP_RANGE',
          `${g ? `the only range of "${d.deviceId}" that can be declared lost is ${g[0]}..${g[1]}` : `"${d.deviceId}" has no missing range below a held reading`}; got ${fromSeq}..${toSeq}`,
          'body.fromSeq',
        )
      }
      const e = await ledger.declareGap({
        deviceId: d.deviceId,
        fromSeq,
        toSeq,
        cause: 'operator',
        by: req.user!.username,
        detail,
      })
      req.log.info(
        { by: req.user!.username, deviceId: d.deviceId, fromSeq, toSeq, index: e.entry.index },
        'gap declared',
      )
      return reply.code(201).send({ index: e.entry.index, fromSeq, toSeq, device: view(d.deviceId) })
    },
  )
}
