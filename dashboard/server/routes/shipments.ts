/** Shipments: list, detail, readings, create, close, built-in profiles (docs/API.md, "Shipments"). */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { CloseSignature } from '../../../ledger/tlog/index.ts'
import {
  ShipmentCreateBody,
  ShipmentCloseBody,
  ShipmentDevicesBody,
  ShipmentReceiveBody,
  SHIPMENT_ID,
  DEVICE_ID,
  MS,
  ERROR_RESPONSES,
  ProfileListSchema,
  type Wire,
} from '../schemas.ts'
import { ApiError } from '../errors.ts'
import {
  BUILTIN_PROFILES,
  validateProfile,
  profileHash,
  profileOrigin,
  isBuiltinName,
  isComplianceError,
  type RuleProfile,
} from '../../compliance/index.ts'
import { checkGs1, Gs1Error, type Gs1Input } from '../../common/gs1.ts'
import { loadShipment, mustShipment } from '../shipment-data.ts'
import type { ShipmentSummaryView } from '../monitor.ts'
import { changeProblem, windowsOf } from '../../../ledger/tlog/index.ts'

const WRITERS = ['operator'] as const
const idParams = { type: 'object', properties: { id: SHIPMENT_ID }, required: ['id'] } as const

// Request bodies as their schemas accept them (DevicesBody: after fastify fills in the defaults).
type CloseBody = Wire<typeof ShipmentCloseBody>
type ReceiveBody = Wire<typeof ShipmentReceiveBody>
type CreateBody = Wire<typeof ShipmentCreateBody>
/** A receipt's or close's signature as the body gives it, and as the ledger logs it. */
type SignatureBody<M extends string> = { password: string; meaning: M; reason: string }
type Signed<M extends string> = { by: string; meaning: M; reason: string; at: number }
type DevicesBody = Required<Pick<Wire<typeof ShipmentDevicesBody>, 'add' | 'remove'>> & Wire<typeof ShipmentDevicesBody>

export default async function shipmentRoutes(app: FastifyInstance): Promise<void> {
  const { ledger, monitor, clock, writeLimit } = app.dashboard

  async function detail(id: string) {
    const d = await loadShipment(ledger, id, monitor.isLate, monitor.delayOf)
    const summary: ShipmentSummaryView = monitor.summary(id) ?? {
      shipmentId: id,
      product: d.state.product,
      productClass: d.profile?.storageClass ?? 'custom',
      profileId: d.profile?.id ?? null,
      route: d.state.route,
      devices: d.state.devices,
      gs1: d.state.gs1 ?? null,
      status: d.state.closedAt !== undefined ? 'closed' : 'in_range',
      startAt: d.state.startAt,
      closedAt: d.state.closedAt ?? null,
      createdBy: d.state.createdBy,
      currentTempCentiC: null,
      lastReadingAt: null,
      openAlarms: 0,
      range: { minCentiC: d.profile?.range.lowCentiC ?? null, maxCentiC: d.profile?.range.highCentiC ?? null },
    }
    return {
      ...summary,
      profile: d.body.profile as Record<string, unknown>,
      profileHash: d.state.profileHash,
      createdEntry: d.state.createIndex,
      closedEntry: d.state.closeIndex ?? null,
      endsEarly: d.state.endsEarly ?? null,
      closeSignature: d.state.closeSignature ?? null,
      loggers: windowsOf(d.state).map((w) => ({
        deviceId: w.deviceId,
        from: w.from,
        until: w.until,
        addedEntry: w.addIndex,
        removedEntry: w.removeIndex,
      })),
      createdAt: d.state.createdAt,
      receivedAt: d.state.receivedAt ?? null,
      receivedEntry: d.state.receiveIndex ?? null,
      receiveSignature: d.state.receiveSignature ?? null,
      postClose: d.postClose,
      result: d.view ?? undefined,
      alarms: monitor
        .alarms({ shipmentId: id })
        .map((a) => ({ ...a, notifications: app.dashboard.notificationsOf(id, a.alarmId) })),
      deviceStates: monitor.deviceStates(id),
    }
  }

  /** Options of the routes that change one shipment: writers only, rate-limited, answering with its detail. */
  function changeRoute(body: Record<string, unknown>) {
    return {
      config: { roles: WRITERS, rateLimit: writeLimit },
      schema: {
        tags: ['shipments'],
        params: idParams,
        body,
        response: { 200: { $ref: 'ShipmentDetail#' }, ...ERROR_RESPONSES },
      },
    }
  }

  /** The shipment a change applies to, refused once closed; `settled` says what the close made final. */
  function openShipment(id: string, settled?: string) {
    const s = mustShipment(ledger, id)
    if (s.closedAt !== undefined)
      throw new ApiError(
        'ERR_SHIPMENT_CLOSED',
        `shipment "${s.shipmentId}" was closed at ${new Date(s.closedAt).toISOString()}${settled ? `: ${settled}` : ''}`,
        'params.id',
      )
    return s
  }

  /** When a receipt or close takes effect: the body's time (`field`), or now; never before the shipment's start. */
  function effectiveAt(startAt: number, field: 'receivedAt' | 'closedAt', given: number | undefined): number {
    const at = given ?? clock()
    if (at < startAt)
      throw new ApiError('ERR_VALIDATION', `${field} ${at} is before the shipment start ${startAt}`, `body.${field}`)
    return at
  }

  /** The signer identifies again with the password; the signature then names them, its meaning, reason and time. */
  async function sign<M extends string>(req: FastifyRequest, given: SignatureBody<M>): Promise<Signed<M>> {
    const by = req.user!.username
    await checkSignaturePassword(app, req, by, given.password)
    return { by, meaning: given.meaning, reason: given.reason, at: clock() }
  }

  app.get<{ Querystring: { status?: string; class?: string } }>(
    '/api/shipments',
    {
      schema: {
        tags: ['shipments'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            status: { type: 'string', enum: ['in_range', 'alarm', 'closed'] },
            class: { type: 'string', maxLength: 64 },
          },
        },
        response: {
          200: { type: 'object', properties: { shipments: { type: 'array', items: { $ref: 'ShipmentSummary#' } } } },
          ...ERROR_RESPONSES,
        },
      },
    },
    async (req) => {
      const list = monitor
        .summaries()
        .filter(
          (s) =>
            (req.query.status === undefined || s.status === req.query.status) &&
            (req.query.class === undefined || s.productClass === req.query.class),
        )
        .sort((a, b) => b.startAt - a.startAt)
      return { shipments: list }
    },
  )

  app.get(
    '/api/profiles',
    {
      schema: {
        tags: ['shipments'],
        response: {
          200: ProfileListSchema,
        },
      },
    },
    async () => ({
      profiles: Object.entries(BUILTIN_PROFILES).map(([id, p]) => ({
        id,
        name: p.name,
        profile: p,
        profileHash: profileHash(p),
      })),
    }),
  )

  app.get<{ Params: { id: string } }>(
    '/api/shipments/:id',
    {
      schema: {
        tags: ['shipments'],
        params: idParams,
        response: { 200: { $ref: 'ShipmentDetail#' }, ...ERROR_RESPONSES },
      },
    },
    async (req) => detail(req.params.id),
  )

  app.get<{ Params: { id: string }; Querystring: { deviceId?: string; from?: number; to?: number; limit?: number } }>(
    '/api/shipments/:id/readings',
    {
      schema: {
        tags: ['shipments'],
        params: idParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            deviceId: DEVICE_ID,
            from: MS,
            to: MS,
            limit: { type: 'integer', minimum: 1, maximum: 100_000, default: 10_000 },
          },
        },
        response: {
          200: { type: 'object', properties: { readings: { type: 'array', items: { $ref: 'Reading#' } } } },
          ...ERROR_RESPONSES,
        },
      },
    },
    async (req) => {
      const d = await loadShipment(ledger, req.params.id, app.dashboard.monitor.isLate, app.dashboard.monitor.delayOf)
      const { deviceId, from, to, limit = 10_000 } = req.query
      const readings = d.readings
        .filter(
          (r) =>
            (deviceId === undefined || r.deviceId === deviceId) &&
            (from === undefined || r.deviceTimeMs >= from) &&
            (to === undefined || r.deviceTimeMs <= to),
        )
        .sort((a, b) => (a.deviceId < b.deviceId ? -1 : a.deviceId > b.deviceId ? 1 : a.seq - b.seq))
        .slice(0, limit)
      return { readings }
    },
  )

  app.post<{ Body: CreateBody }>(
    '/api/shipments',
    {
      config: { roles: WRITERS, rateLimit: writeLimit },
      schema: {
        tags: ['shipments'],
        body: ShipmentCreateBody,
        response: { 201: { $ref: 'ShipmentDetail#' }, ...ERROR_RESPONSES },
      },
    },
    async (req, reply) => {
      const b = req.body
      let profile: RuleProfile
      if (b.profile !== undefined) {
        try {
          profile = validateProfile(b.profile)
        } catch (e) {
          if (isComplianceError(e))
            throw new ApiError('ERR_PROFILE_INVALID', e.message, `body.profile${e.path.replace(/^\$/, '')}`)
          throw e
        }
        // Built-in ids (and names) are reserved: a custom profile may not be passed off as one (docs/COMPLIANCE.md).
        const origin = profileOrigin(profile, profileHash(profile))
        if (origin.kind === 'impersonation') {
          throw new ApiError(
            'ERR_PROFILE_RESERVED',
            `profile id "${origin.id}" is reserved for the built-in profile (any version); give the custom profile its own id, or use "profileId": "${origin.id}" for the built-in itself`,
            'body.profile.id',
          )
        }
        if (origin.kind === 'custom' && isBuiltinName(profile.name)) {
          throw new ApiError(
            'ERR_PROFILE_RESERVED',
            `profile name "${profile.name}" is a built-in profile's name; a custom profile needs its own`,
            'body.profile.name',
          )
        }
      } else if (b.profileId !== undefined) {
        const p = (BUILTIN_PROFILES as Record<string, RuleProfile>)[b.profileId]
        if (!p)
          throw new ApiError(
            'ERR_PROFILE_INVALID',
            `no built-in profile "${b.profileId}"; GET /api/profiles lists them`,
            'body.profileId',
          )
        profile = p
      } else {
        throw new ApiError('ERR_VALIDATION', 'body must have property "profileId" or "profile"', 'body.profileId')
      }
      let gs1: Gs1Input | undefined
      if (b.gs1) {
        try {
          gs1 = checkGs1(b.gs1)
        } catch (e) {
          if (e instanceof Gs1Error) throw new ApiError(e.code, e.message, `body.gs1.${e.field}`)
          throw e
        }
      }
      b.devices.forEach((id, i) => {
        const d = ledger.device(id)
        if (!d) throw new ApiError('ERR_DEVICE_UNKNOWN', `device "${id}" is not registered`, `body.devices[${i}]`)
        if (d.revoked) throw new ApiError('ERR_DEVICE_REVOKED', `device "${id}" is revoked`, `body.devices[${i}]`)
      })
      if (ledger.shipment(b.shipmentId))
        throw new ApiError('ERR_SHIPMENT_EXISTS', `shipment "${b.shipmentId}" already exists`, 'body.shipmentId')
      await ledger.createShipment({
        shipmentId: b.shipmentId,
        product: b.product,
        gs1,
        route: b.route,
        devices: b.devices,
        profile,
        profileHash: profileHash(profile),
        startAt: b.startAt ?? clock(),
        by: req.user!.username,
      })
      // Readings that arrived before the shipment was logged raise their alarms now, in this answer.
      await monitor.settled(b.shipmentId)
      req.log.info({ by: req.user!.username, shipmentId: b.shipmentId }, 'shipment created')
      return reply.code(201).send(await detail(b.shipmentId))
    },
  )

  app.post<{ Params: { id: string }; Body: DevicesBody }>(
    '/api/shipments/:id/devices',
    changeRoute(ShipmentDevicesBody),
    async (req) => {
      const s = openShipment(req.params.id, 'its loggers are final')
      const { add = [], remove = [] } = req.body
      const now = clock()
      const at = req.body.at ?? now
      if (at > now)
        throw new ApiError(
          'ERR_VALIDATION',
          `at ${new Date(at).toISOString()} is in the future: a change takes effect now or from a past time`,
          'body.at',
        )
      add.forEach((id, i) => {
        const d = ledger.device(id)
        if (!d) throw new ApiError('ERR_DEVICE_UNKNOWN', `device "${id}" is not registered`, `body.add[${i}]`)
        if (d.revoked) throw new ApiError('ERR_DEVICE_REVOKED', `device "${id}" is revoked`, `body.add[${i}]`)
      })
      const problem = changeProblem(windowsOf(s), { add, remove, at }, s.startAt)
      if (problem) throw new ApiError('ERR_VALIDATION', problem.message, `body.${problem.field}`)
      const by = req.user!.username
      await ledger.changeShipmentDevices({ shipmentId: s.shipmentId, add, remove, at, by })
      // An added logger's earlier readings raise their alarms now, in this answer.
      await monitor.settled(s.shipmentId)
      req.log.info({ by, shipmentId: s.shipmentId, add, remove, at }, 'shipment loggers changed')
      return detail(s.shipmentId)
    },
  )

  app.post<{ Params: { id: string }; Body: ReceiveBody }>(
    '/api/shipments/:id/receive',
    changeRoute(ShipmentReceiveBody),
    async (req) => {
      const s = openShipment(req.params.id, 'a receipt comes before the close')
      if (s.receivedAt !== undefined)
        throw new ApiError(
          'ERR_SHIPMENT_RECEIVED',
          `shipment "${s.shipmentId}" was received by ${s.receivedBy} at ${new Date(s.receivedAt).toISOString()}`,
          'params.id',
        )
      const receivedAt = effectiveAt(s.startAt, 'receivedAt', req.body.receivedAt)
      const signature = await sign(req, req.body.signature)
      const { by, meaning } = signature
      await ledger.receiveShipment({ shipmentId: s.shipmentId, receivedAt, by, signature })
      req.log.info({ by, shipmentId: s.shipmentId, meaning }, 'shipment received (signed)')
      return detail(s.shipmentId)
    },
  )

  app.post<{ Params: { id: string }; Body: CloseBody }>(
    '/api/shipments/:id/close',
    changeRoute(ShipmentCloseBody),
    async (req) => {
      const s = openShipment(req.params.id)
      const b = req.body
      const closedAt = effectiveAt(s.startAt, 'closedAt', b.closedAt)
      const critical = monitor
        .alarms({ shipmentId: s.shipmentId, state: 'open' })
        .filter((a) => a.severity === 'critical')
      if (critical.length > 0 && !b.override) {
        throw new ApiError(
          'ERR_CLOSE_OPEN_ALARMS',
          `shipment "${s.shipmentId}" has ${critical.length} open critical alarm(s): acknowledge each, or close with "override": { "reason" }`,
          'body.override',
          {
            alarms: critical.map((a) => ({
              alarmId: a.alarmId,
              kind: a.kind,
              deviceId: a.deviceId,
              message: a.message,
              raisedAt: a.raisedAt,
            })),
          },
        )
      }
      const signed = await sign(req, b.signature)
      const by = signed.by
      const signature: CloseSignature = {
        ...signed,
        ...(critical.length > 0 && b.override
          ? { override: { reason: b.override.reason, alarms: critical.map((a) => a.alarmId) } }
          : {}),
      }
      // Refused with ERR_EVIDENCE_ENDS_EARLY (409, details per logger) unless every chain reaches closedAt or endsEarly says why not.
      await ledger.closeShipment({
        shipmentId: s.shipmentId,
        closedAt,
        by,
        signature,
        ...(b.endsEarly ? { endsEarly: { reason: b.endsEarly.reason } } : {}),
      })
      req.log.info(
        { by, shipmentId: s.shipmentId, meaning: signature.meaning, override: signature.override?.alarms.length ?? 0 },
        'shipment closed (signed)',
      )
      return detail(s.shipmentId)
    },
  )
}

/**
 * Re-checks the signer's password at every signing (21 CFR 11.200(a): the signer identifies
 * again, whatever the session). A wrong one is refused before anything is logged, and counted
 * and backed off like a failed sign-in, so the close cannot be used to guess passwords.
 */
async function checkSignaturePassword(
  app: FastifyInstance,
  req: FastifyRequest,
  username: string,
  password: string,
): Promise<void> {
  const { users, loginBackoff, security } = app.dashboard
  const waitMs = loginBackoff.waitMs(username, req.ip)
  if (waitMs > 0) {
    const waitS = Math.ceil(waitMs / 1000)
    security.loginFailure('backoff')
    throw new ApiError(
      'ERR_AUTH_BACKOFF',
      `too many failed password entries for this user or address: try again in ${waitS} s`,
      undefined,
      { retryAfterS: waitS },
    )
  }
  if (!(await users.authenticate(username, password))) {
    loginBackoff.failure(username, req.ip)
    security.loginFailure('signature_password')
    req.log.warn(
      { event: 'signature_failed', reason: 'bad_password', username, ip: req.ip },
      'signature refused: wrong password',
    )
    throw new ApiError(
      'ERR_SIGNATURE_PASSWORD',
      'the password does not match your account: re-enter your own sign-in password to sign',
      'body.signature.password',
    )
  }
  loginBackoff.success(username)
}
