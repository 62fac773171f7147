/**
 * The API's request schemas and the route-parameter formats, for fastify:
 * validation and the OpenAPI document come from these. The response schemas
 * (and their derived types) live in dashboard/common/api-schemas.ts, which the
 * browser reads too; re-exported here for the server. Shapes are documented in
 * docs/API.md.
 */
import { CLOSE_MEANINGS, RECEIVE_MEANINGS, SHIPMENT_ID_PATTERN } from '../../ledger/tlog/index.ts'
import { CalibrationSchema, MS, ROLE, TEXT, TOKEN_SCOPE } from '../common/api-schemas.ts'

export * from '../common/api-schemas.ts'

export const DEVICE_ID = { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,31}$', maxLength: 32 } as const
export const SHIPMENT_ID = { type: 'string', pattern: SHIPMENT_ID_PATTERN.source, maxLength: 64 } as const
export const USERNAME = { type: 'string', pattern: '^[a-z0-9][a-z0-9._-]{2,31}$', maxLength: 32 } as const

const RouteSchema = {
  type: 'object',
  additionalProperties: false,
  properties: { from: TEXT(200), to: TEXT(200) },
  required: ['from', 'to'],
} as const

// ---------- request bodies ----------

export const LoginBody = {
  type: 'object',
  additionalProperties: false,
  properties: { username: TEXT(64), password: TEXT(200) },
  required: ['username', 'password'],
} as const

export const TokenCreateBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    label: TEXT(64),
    scope: { ...TOKEN_SCOPE, default: 'role' },
    expiresInDays: { type: 'integer', minimum: 1, maximum: 366 },
  },
  required: ['label'],
} as const

export const UserCreateBody = {
  type: 'object',
  additionalProperties: false,
  properties: { username: USERNAME, password: TEXT(200, 10), role: ROLE },
  required: ['username', 'password', 'role'],
} as const

export const UserPatchBody = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: { password: TEXT(200, 10), role: ROLE, disabled: { type: 'boolean' } },
} as const

export const ShipmentCreateBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    shipmentId: SHIPMENT_ID,
    product: TEXT(200),
    profileId: { type: 'string', minLength: 1, maxLength: 64 },
    profile: { type: 'object' },
    route: RouteSchema,
    devices: { type: 'array', minItems: 1, maxItems: 16, uniqueItems: true, items: DEVICE_ID },
    gs1: { $ref: 'Gs1#' },
    startAt: MS,
  },
  required: ['shipmentId', 'product', 'route', 'devices'],
} as const

export const ShipmentCloseBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    closedAt: MS,
    /** The person closing confirms that some logger's evidence ends before closedAt, and why. */
    endsEarly: {
      type: 'object',
      additionalProperties: false,
      required: ['reason'],
      properties: { reason: { type: 'string', minLength: 1, maxLength: 500 } },
    },
    /** The electronic signature: the closer's password re-entered, what the signature means, and why. */
    signature: {
      type: 'object',
      additionalProperties: false,
      required: ['password', 'meaning', 'reason'],
      properties: { password: TEXT(200), meaning: { type: 'string', enum: [...CLOSE_MEANINGS] }, reason: TEXT(500) },
    },
    /** Close over open critical alarms, and why (recorded in the signature). */
    override: { type: 'object', additionalProperties: false, required: ['reason'], properties: { reason: TEXT(500) } },
  },
  required: ['signature'],
} as const

export const ShipmentDevicesBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    add: { type: 'array', maxItems: 16, uniqueItems: true, items: DEVICE_ID, default: [] },
    remove: { type: 'array', maxItems: 16, uniqueItems: true, items: DEVICE_ID, default: [] },
    /** Device time the change takes effect (default: now); not before the start, not in the future. */
    at: MS,
  },
} as const

export const ShipmentReceiveBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    /** When the goods arrived (default: now); not before the shipment's start. */
    receivedAt: MS,
    /** The electronic signature: the receiver's password re-entered, what the receipt means, and a remark. */
    signature: {
      type: 'object',
      additionalProperties: false,
      required: ['password', 'meaning', 'reason'],
      properties: { password: TEXT(200), meaning: { type: 'string', enum: [...RECEIVE_MEANINGS] }, reason: TEXT(500) },
    },
  },
  required: ['signature'],
} as const

export const AckBody = {
  type: 'object',
  additionalProperties: false,
  properties: { reason: TEXT(200), comment: TEXT(2000, 0) },
  required: ['reason', 'comment'],
} as const

export const DeviceCreateBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    deviceId: DEVICE_ID,
    publicKey: { type: 'string', pattern: '^[0-9a-f]{64}$' },
    model: TEXT(100),
    calibration: CalibrationSchema,
  },
  required: ['deviceId', 'publicKey'],
} as const

export const GapBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    fromSeq: { type: 'integer', minimum: 1, maximum: 0xffff_ffff },
    toSeq: { type: 'integer', minimum: 1, maximum: 0xffff_ffff },
    detail: TEXT(500),
  },
  required: ['fromSeq', 'toSeq', 'detail'],
} as const

export const RevokeBody = {
  type: 'object',
  additionalProperties: false,
  properties: { reason: TEXT(200) },
  required: ['reason'],
} as const

export const ERROR_RESPONSES = {
  400: { $ref: 'Error#' },
  401: { $ref: 'Error#' },
  403: { $ref: 'Error#' },
} as const
