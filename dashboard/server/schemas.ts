/**
 * The API's JSON Schemas, each written once (`as const`) and shared through
 * fastify's addSchema + `$ref: '<Id>#'`: validation, response filtering (no
 * internal field can leak) and the OpenAPI document come from these.
 * Shapes are documented in docs/API.md.
 */

export const DEVICE_ID = { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,31}$', maxLength: 32 } as const
export const SHIPMENT_ID = { type: 'string', pattern: SHIPMENT_ID_PATTERN.source, maxLength: 64 } as const
export const USERNAME = { type: 'string', pattern: '^[a-z0-9][a-z0-9._-]{2,31}$', maxLength: 32 } as const
export const ROLE = { type: 'string', enum: ['operator', 'regulator', 'admin'] } as const
export const MS = { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER } as const
const MS_OR_NULL = { type: ['integer', 'null'], minimum: 0, maximum: Number.MAX_SAFE_INTEGER } as const
const CENTI_OR_NULL = { type: ['integer', 'null'] } as const
const INT_OR_NULL = { type: ['integer', 'null'] } as const
const STR_OR_NULL = { type: ['string', 'null'] } as const
import { CLOSE_MEANINGS, RECEIVE_MEANINGS } from '../../ledger/tlog/index.ts'
import { SHIPMENT_ID_PATTERN } from '../../ledger/tlog/index.ts'

const TEXT = (max: number, min = 1) => ({ type: 'string', minLength: min, maxLength: max }) as const

export const ErrorSchema = {
  $id: 'Error',
  type: 'object',
  properties: {
    statusCode: { type: 'integer' },
    code: { type: 'string' },
    error: { type: 'string' },
    message: { type: 'string' },
    field: { type: 'string' },
    details: { type: 'object', additionalProperties: true },
  },
  required: ['statusCode', 'code', 'message'],
} as const

export const UserSchema = {
  $id: 'User',
  type: 'object',
  // disabled and createdAt: on the Users page's list and its changes (GET/POST/PATCH /api/users).
  properties: { username: { type: 'string' }, role: ROLE, disabled: { type: 'boolean' }, createdAt: MS },
  required: ['username', 'role'],
} as const

export const AuditRecordSchema = {
  $id: 'AuditRecord',
  type: 'object',
  properties: {
    seq: { type: 'integer' },
    at: MS,
    by: { type: 'string' },
    action: { type: 'string' },
    target: { type: 'string' },
    ip: { type: 'string' },
    details: { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean', 'null'] } },
  },
  required: ['seq', 'at', 'by', 'action', 'target', 'ip'],
} as const

export const TokenSchema = {
  $id: 'Token',
  type: 'object',
  properties: {
    id: { type: 'string' },
    label: { type: 'string' },
    createdAt: MS,
    lastUsedAt: MS_OR_NULL,
    scope: { type: 'string', enum: ['read-only', 'role'] },
    expiresAt: MS_OR_NULL,
  },
  required: ['id', 'label', 'createdAt', 'lastUsedAt', 'scope', 'expiresAt'],
} as const

export const Gs1Schema = {
  $id: 'Gs1',
  type: 'object',
  additionalProperties: false,
  properties: {
    sscc: { type: 'string', minLength: 1, maxLength: 18 },
    gtin: { type: 'string', minLength: 1, maxLength: 14 },
    lot: { type: 'string', minLength: 1, maxLength: 20 },
    expiry: { type: 'string', minLength: 10, maxLength: 10 },
  },
  required: ['sscc', 'gtin', 'lot', 'expiry'],
} as const

const RouteSchema = {
  type: 'object',
  additionalProperties: false,
  properties: { from: TEXT(200), to: TEXT(200) },
  required: ['from', 'to'],
} as const

export const ShipmentSummarySchema = {
  $id: 'ShipmentSummary',
  type: 'object',
  properties: {
    shipmentId: { type: 'string' },
    product: { type: 'string' },
    productClass: { type: 'string' },
    profileId: STR_OR_NULL,
    route: { type: 'object', properties: { from: { type: 'string' }, to: { type: 'string' } } },
    devices: { type: 'array', items: { type: 'string' } },
    gs1: { anyOf: [{ $ref: 'Gs1#' }, { type: 'null' }] },
    status: { type: 'string', enum: ['in_range', 'alarm', 'closed'] },
    startAt: MS,
    closedAt: MS_OR_NULL,
    createdBy: { type: 'string' },
    currentTempCentiC: CENTI_OR_NULL,
    lastReadingAt: MS_OR_NULL,
    openAlarms: { type: 'integer' },
    range: {
      type: 'object',
      properties: { minCentiC: CENTI_OR_NULL, maxCentiC: CENTI_OR_NULL },
    },
  },
  required: ['shipmentId', 'product', 'status', 'devices', 'route', 'openAlarms'],
} as const

export const ExcursionSchema = {
  $id: 'Excursion',
  type: 'object',
  properties: {
    deviceId: STR_OR_NULL,
    kind: { type: 'string' },
    ruleId: STR_OR_NULL,
    startAt: MS,
    endAt: MS_OR_NULL,
    durationMs: { type: 'integer' },
    peakCentiC: CENTI_OR_NULL,
  },
  required: ['kind', 'startAt', 'endAt', 'durationMs'],
} as const

export const AlarmSchema = {
  $id: 'Alarm',
  type: 'object',
  properties: {
    alarmId: { type: 'string' },
    shipmentId: { type: 'string' },
    deviceId: STR_OR_NULL,
    kind: { type: 'string' },
    rule: STR_OR_NULL,
    severity: STR_OR_NULL,
    message: { type: 'string' },
    raisedAt: MS,
    endedAt: MS_OR_NULL,
    state: { type: 'string', enum: ['open', 'acknowledged'] },
    sensorLost: { type: 'boolean' },
    ack: {
      anyOf: [
        {
          type: 'object',
          properties: {
            by: { type: 'string' },
            reason: { type: 'string' },
            comment: { type: 'string' },
            at: MS,
            index: { type: 'integer' },
          },
        },
        { type: 'null' },
      ],
    },
    /** Every notification sent or failed for this alarm (docs/OPERATIONS.md, "Alarm notifications"). */
    notifications: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          channel: { type: 'string' },
          to: { type: 'string' },
          at: MS,
          status: { type: 'string', enum: ['sent', 'failed'] },
          attempts: { type: 'integer' },
          level: { type: 'integer' },
          error: { type: 'string' },
        },
      },
    },
  },
  required: ['alarmId', 'shipmentId', 'kind', 'message', 'raisedAt', 'state'],
} as const

export const ReadingSchema = {
  $id: 'Reading',
  type: 'object',
  properties: {
    deviceId: { type: 'string' },
    seq: { type: 'integer' },
    deviceTimeMs: MS,
    receivedAt: MS,
    tempCentiC: { type: 'integer' },
    humidityCentiPct: INT_OR_NULL,
    batteryPct: INT_OR_NULL,
    status: { type: 'integer' },
    events: { type: 'integer' },
    flags: { type: 'array', items: { type: 'string' } },
    late: { type: 'boolean' },
    delayMs: INT_OR_NULL,
    index: { type: 'integer' },
  },
  required: ['deviceId', 'seq', 'deviceTimeMs', 'receivedAt', 'tempCentiC', 'flags', 'late', 'index'],
} as const

export const StreamReadingSchema = {
  $id: 'StreamReading',
  type: 'object',
  properties: { shipmentIds: { type: 'array', items: { type: 'string' } }, ...ReadingSchema.properties },
} as const

export const DeviceStateSchema = {
  $id: 'DeviceState',
  type: 'object',
  properties: {
    deviceId: { type: 'string' },
    lastSeq: INT_OR_NULL,
    lastReadingAt: MS_OR_NULL,
    lastReceivedAt: MS_OR_NULL,
    currentTempCentiC: CENTI_OR_NULL,
    silentForMs: INT_OR_NULL,
    late: { type: 'boolean' },
    batteryPct: INT_OR_NULL,
    lost: { type: 'boolean' },
  },
  required: ['deviceId'],
} as const

export const ShipmentDetailSchema = {
  $id: 'ShipmentDetail',
  type: 'object',
  properties: {
    ...ShipmentSummarySchema.properties,
    // The rule profile is validated by the compliance engine (its own schema); passed through whole.
    profile: { type: 'object', additionalProperties: true },
    profileHash: { type: 'string' },
    createdEntry: { type: 'integer' },
    closedEntry: INT_OR_NULL,
    /** The reason given when the shipment was closed with its evidence ending early. */
    endsEarly: { type: ['string', 'null'] },
    /** The close's electronic signature (null while open, or for a close made without one). */
    closeSignature: {
      type: ['object', 'null'],
      properties: {
        by: { type: 'string' },
        meaning: { type: 'string' },
        reason: { type: 'string' },
        at: MS,
        override: {
          type: 'object',
          properties: { reason: { type: 'string' }, alarms: { type: 'array', items: { type: 'string' } } },
          required: ['reason', 'alarms'],
        },
      },
      required: ['by', 'meaning', 'reason', 'at'],
    },
    /** Every logger the shipment had, and the device times its readings count for (until null: assigned now). */
    loggers: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          deviceId: { type: 'string' },
          from: MS,
          until: MS_OR_NULL,
          addedEntry: INT_OR_NULL,
          removedEntry: INT_OR_NULL,
        },
        required: ['deviceId', 'from', 'until', 'addedEntry', 'removedEntry'],
      },
    },
    /** Ledger time the shipment was logged (who: createdBy). */
    createdAt: MS,
    /** When the goods were received at the destination (null until the signed receipt). */
    receivedAt: MS_OR_NULL,
    receivedEntry: INT_OR_NULL,
    /** The receipt's electronic signature (null until received). */
    receiveSignature: {
      type: ['object', 'null'],
      properties: { by: { type: 'string' }, meaning: { type: 'string' }, reason: { type: 'string' }, at: MS },
      required: ['by', 'meaning', 'reason', 'at'],
    },
    /** Readings logged above a close anchor with device times in the window: shown apart, never part of the result. */
    postClose: { type: 'array', items: { $ref: 'Reading#' } },
    result: {
      type: 'object',
      properties: {
        verdict: { type: 'string' },
        reasons: { type: 'array', items: { type: 'string' } },
        /** The first `deciding` reasons alone give the verdict; the rest are noted. */
        deciding: { type: 'integer' },
        loggers: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              deviceId: { type: 'string' },
              verdict: { type: 'string' },
              minCentiC: CENTI_OR_NULL,
              maxCentiC: CENTI_OR_NULL,
              meanCentiC: CENTI_OR_NULL,
              mktCentiC: CENTI_OR_NULL,
              readings: { type: 'integer' },
            },
          },
        },
        mktCentiC: CENTI_OR_NULL,
        timeInRangeMs: INT_OR_NULL,
        timeAboveMs: INT_OR_NULL,
        timeBelowMs: INT_OR_NULL,
        excursions: { type: 'array', items: { $ref: 'Excursion#' } },
        readingCount: { type: 'integer' },
      },
    },
    alarms: { type: 'array', items: { $ref: 'Alarm#' } },
    deviceStates: { type: 'array', items: { $ref: 'DeviceState#' } },
  },
  required: [...ShipmentSummarySchema.required, 'profileHash'],
} as const

const CalibrationSchema = {
  type: 'object',
  additionalProperties: false,
  properties: { certificate: TEXT(200), calibratedAt: MS, dueAt: MS },
  required: ['certificate', 'calibratedAt', 'dueAt'],
} as const

export const DeviceSchema = {
  $id: 'Device',
  type: 'object',
  properties: {
    deviceId: { type: 'string' },
    publicKey: { type: 'string' },
    fingerprint: { type: 'string' },
    model: STR_OR_NULL,
    calibration: { anyOf: [CalibrationSchema, { type: 'null' }] },
    state: { type: 'string', enum: ['active', 'revoked'] },
    registeredAt: MS,
    registeredBy: { type: 'string' },
    revokedAt: MS_OR_NULL,
    revokeReason: STR_OR_NULL,
    lastSeq: INT_OR_NULL,
    lastReadingAt: MS_OR_NULL,
    lastReceivedAt: MS_OR_NULL,
    batteryPct: INT_OR_NULL,
    buffered: INT_OR_NULL,
    shipmentId: STR_OR_NULL,
  },
  required: ['deviceId', 'publicKey', 'fingerprint', 'state'],
} as const

export const CheckpointSchema = {
  $id: 'Checkpoint',
  type: 'object',
  properties: {
    origin: { type: 'string' },
    size: { type: 'integer' },
    rootHash: { type: 'string' },
    note: { type: 'string' },
    publicKey: STR_OR_NULL,
    verifierKey: STR_OR_NULL,
  },
  required: ['size', 'rootHash', 'note'],
} as const

export const SHARED_SCHEMAS = [
  ErrorSchema,
  UserSchema,
  AuditRecordSchema,
  TokenSchema,
  Gs1Schema,
  ShipmentSummarySchema,
  ExcursionSchema,
  AlarmSchema,
  ReadingSchema,
  StreamReadingSchema,
  DeviceStateSchema,
  ShipmentDetailSchema,
  DeviceSchema,
  CheckpointSchema,
] as const

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
    scope: { type: 'string', enum: ['read-only', 'role'], default: 'role' },
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
