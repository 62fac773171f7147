/**
 * The API's response shapes, each written once as a JSON Schema (`as const`)
 * and its TypeScript type derived from it (FromSchema): the server registers
 * these with fastify (addSchema + `$ref: '<Id>#'`: response filtering and the
 * OpenAPI document), its view builders return the derived `*Wire` types, and
 * the browser's client reads them. `required` lists every field the server
 * always sends. Shapes are documented in docs/API.md. Browser-safe: no imports
 * but types.
 */
import type { FromSchema } from './from-schema.ts'

export const ROLE = { type: 'string', enum: ['operator', 'regulator', 'admin'] } as const
export const MS = { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER } as const
const MS_OR_NULL = { type: ['integer', 'null'], minimum: 0, maximum: Number.MAX_SAFE_INTEGER } as const
const CENTI_OR_NULL = { type: ['integer', 'null'] } as const
const INT_OR_NULL = { type: ['integer', 'null'] } as const
const STR_OR_NULL = { type: ['string', 'null'] } as const

export const TEXT = (max: number, min = 1) => ({ type: 'string', minLength: min, maxLength: max }) as const

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

export const TOKEN_SCOPE = { type: 'string', enum: ['read-only', 'role'] } as const

export const TokenSchema = {
  $id: 'Token',
  type: 'object',
  properties: {
    id: { type: 'string' },
    label: { type: 'string' },
    createdAt: MS,
    lastUsedAt: MS_OR_NULL,
    scope: TOKEN_SCOPE,
    expiresAt: MS_OR_NULL,
  },
  required: ['id', 'label', 'createdAt', 'lastUsedAt', 'scope', 'expiresAt'],
} as const

/** POST /api/tokens: the new token, its secret shown this once (not yet used: no lastUsedAt). */
export const TokenCreatedSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    label: { type: 'string' },
    createdAt: MS,
    scope: TOKEN_SCOPE,
    expiresAt: MS_OR_NULL,
    token: { type: 'string' },
  },
  required: ['id', 'label', 'createdAt', 'scope', 'expiresAt', 'token'],
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

export const ShipmentSummarySchema = {
  $id: 'ShipmentSummary',
  type: 'object',
  properties: {
    shipmentId: { type: 'string' },
    product: { type: 'string' },
    productClass: { type: 'string' },
    profileId: STR_OR_NULL,
    route: {
      type: 'object',
      properties: { from: { type: 'string' }, to: { type: 'string' } },
      required: ['from', 'to'],
    },
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
      required: ['minCentiC', 'maxCentiC'],
    },
  },
  required: [
    'shipmentId',
    'product',
    'productClass',
    'profileId',
    'route',
    'devices',
    'gs1',
    'status',
    'startAt',
    'closedAt',
    'createdBy',
    'currentTempCentiC',
    'lastReadingAt',
    'openAlarms',
    'range',
  ],
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
  required: ['deviceId', 'kind', 'ruleId', 'startAt', 'endAt', 'durationMs', 'peakCentiC'],
} as const

/** One notification of an alarm as the API, the UI and the PDF show it. */
export const NotificationSchema = {
  type: 'object',
  properties: {
    channel: { type: 'string' },
    to: { type: 'string' },
    /** When it was sent or given up, ms UTC. */
    at: MS,
    status: { type: 'string', enum: ['sent', 'failed'] },
    attempts: { type: 'integer' },
    /** 0 = the first notice; k = the k-th escalation. */
    level: { type: 'integer' },
    error: { type: 'string' },
  },
  required: ['channel', 'to', 'at', 'status', 'attempts', 'level'],
} as const

export const AlarmSchema = {
  $id: 'Alarm',
  type: 'object',
  properties: {
    alarmId: { type: 'string' },
    shipmentId: { type: 'string' },
    deviceId: STR_OR_NULL,
    kind: { type: 'string' },
    /** The profile rule (zone / hard-limit id) or fault reason behind it; null when none. */
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
          required: ['by', 'reason', 'comment', 'at', 'index'],
        },
        { type: 'null' },
      ],
    },
    /** Every notification sent or failed for this alarm (docs/OPERATIONS.md, "Alarm notifications"); not on the live stream. */
    notifications: { type: 'array', items: NotificationSchema },
  },
  required: [
    'alarmId',
    'shipmentId',
    'deviceId',
    'kind',
    'rule',
    'severity',
    'message',
    'raisedAt',
    'endedAt',
    'state',
    'sensorLost',
    'ack',
  ],
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
    /** What `late` is decided on: ms the reading waited in the device's buffer (docs/API.md); null when not known. */
    delayMs: INT_OR_NULL,
    index: { type: 'integer' },
  },
  required: [
    'deviceId',
    'seq',
    'deviceTimeMs',
    'receivedAt',
    'tempCentiC',
    'humidityCentiPct',
    'batteryPct',
    'status',
    'events',
    'flags',
    'late',
    'delayMs',
    'index',
  ],
} as const

/** A reading on the live stream: the reading and the shipments it counts for. */
export const StreamReadingSchema = {
  $id: 'StreamReading',
  type: 'object',
  properties: { shipmentIds: { type: 'array', items: { type: 'string' } }, ...ReadingSchema.properties },
  required: ['shipmentIds', ...ReadingSchema.required],
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
  required: [
    'deviceId',
    'lastSeq',
    'lastReadingAt',
    'lastReceivedAt',
    'currentTempCentiC',
    'silentForMs',
    'late',
    'batteryPct',
    'lost',
  ],
} as const

/** One logger's figures over its judged time (the PDF's and the UI's per-logger table). */
export const LoggerFiguresSchema = {
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
  required: ['deviceId', 'verdict', 'minCentiC', 'maxCentiC', 'meanCentiC', 'mktCentiC', 'readings'],
} as const

/** A shipment's compliance result, shipment-level figures the worst logger's. */
export const ResultSchema = {
  type: 'object',
  properties: {
    verdict: { type: 'string' },
    /** Deciding reasons first: the first `deciding` reasons alone give the verdict; the rest are noted. */
    reasons: { type: 'array', items: { type: 'string' } },
    deciding: { type: 'integer' },
    loggers: { type: 'array', items: LoggerFiguresSchema },
    mktCentiC: CENTI_OR_NULL,
    timeInRangeMs: INT_OR_NULL,
    timeAboveMs: INT_OR_NULL,
    timeBelowMs: INT_OR_NULL,
    excursions: { type: 'array', items: { $ref: 'Excursion#' } },
    readingCount: { type: 'integer' },
  },
  required: [
    'verdict',
    'reasons',
    'deciding',
    'loggers',
    'mktCentiC',
    'timeInRangeMs',
    'timeAboveMs',
    'timeBelowMs',
    'excursions',
    'readingCount',
  ],
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
    /** Absent until the compliance engine has judged the shipment. */
    result: ResultSchema,
    alarms: { type: 'array', items: { $ref: 'Alarm#' } },
    deviceStates: { type: 'array', items: { $ref: 'DeviceState#' } },
  },
  required: [
    ...ShipmentSummarySchema.required,
    'profile',
    'profileHash',
    'createdEntry',
    'closedEntry',
    'endsEarly',
    'closeSignature',
    'loggers',
    'createdAt',
    'receivedAt',
    'receivedEntry',
    'receiveSignature',
    'postClose',
    'alarms',
    'deviceStates',
  ],
} as const

/** A logger's calibration certificate (also the body's calibration when registering a device). */
export const CalibrationSchema = {
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
    /** Sequence numbers below the highest stored not yet received: in the device's buffer, or lost. */
    buffered: INT_OR_NULL,
    shipmentId: STR_OR_NULL,
  },
  required: [
    'deviceId',
    'publicKey',
    'fingerprint',
    'model',
    'calibration',
    'state',
    'registeredAt',
    'registeredBy',
    'revokedAt',
    'revokeReason',
    'lastSeq',
    'lastReadingAt',
    'lastReceivedAt',
    'batteryPct',
    'buffered',
    'shipmentId',
  ],
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
  required: ['origin', 'size', 'rootHash', 'note', 'publicKey', 'verifierKey'],
} as const

/** The last integrity check (fsck) of the ledger (GET /api/ledger, POST /api/ledger/check). */
export const IntegrityCheckSchema = {
  type: 'object',
  properties: {
    at: { type: 'integer' },
    ok: { type: 'boolean' },
    size: { type: 'integer' },
    uncovered: { type: 'integer' },
    failure: {
      anyOf: [
        {
          type: 'object',
          properties: { code: { type: 'string' }, index: { type: ['integer', 'null'] }, message: { type: 'string' } },
        },
        { type: 'null' },
      ],
    },
  },
  required: ['at', 'ok', 'size'],
} as const

/** GET /api/ledger: size, counters, the latest checkpoint and the last integrity check. */
export const LedgerSummarySchema = {
  type: 'object',
  properties: {
    size: { type: 'integer' },
    latestCheckpoint: { anyOf: [{ $ref: 'Checkpoint#' }, { type: 'null' }] },
    quarantined: { type: 'object', additionalProperties: { type: 'integer' } },
    entriesByType: { type: 'object', additionalProperties: { type: 'integer' } },
    lastIntegrityCheck: { anyOf: [IntegrityCheckSchema, { type: 'null' }] },
  },
  required: ['size', 'latestCheckpoint', 'quarantined', 'entriesByType', 'lastIntegrityCheck'],
} as const

/** GET /api/audit: a page of the audit trail, newest first; `next` is the `before` of the next page. */
export const AuditPageSchema = {
  type: 'object',
  properties: {
    entries: { type: 'array', items: { $ref: 'AuditRecord#' } },
    next: { type: ['integer', 'null'] },
    total: { type: 'integer' },
  },
  required: ['entries', 'next', 'total'],
} as const

/** GET /api/profiles: the built-in rule profiles, each whole (the compliance engine's own schema) and its hash. */
export const ProfileListSchema = {
  type: 'object',
  properties: {
    profiles: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          id: { type: 'string' },
          name: { type: 'string' },
          profile: { type: 'object', additionalProperties: true },
          profileHash: { type: 'string' },
        },
        required: ['id', 'name', 'profile', 'profileHash'],
      },
    },
  },
  required: ['profiles'],
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

/** The schemas a `$ref: '<Id>#'` may name. */
export type SharedSchemas = (typeof SHARED_SCHEMAS)[number]
/** The type of a value a schema (which may `$ref` the shared schemas) accepts. */
export type Wire<S> = FromSchema<S, SharedSchemas>

// ---------- the derived types: the one declaration of each shape ----------

export type RoleWire = Wire<typeof ROLE>
export type ErrorWire = Wire<typeof ErrorSchema>
export type UserWire = Wire<typeof UserSchema>
export type AuditRecordWire = Wire<typeof AuditRecordSchema>
export type TokenWire = Wire<typeof TokenSchema>
export type TokenCreatedWire = Wire<typeof TokenCreatedSchema>
export type Gs1Wire = Wire<typeof Gs1Schema>
export type ShipmentSummaryWire = Wire<typeof ShipmentSummarySchema>
export type ShipmentStatusWire = ShipmentSummaryWire['status']
export type ExcursionWire = Wire<typeof ExcursionSchema>
export type NotificationWire = Wire<typeof NotificationSchema>
export type AlarmWire = Wire<typeof AlarmSchema>
export type ReadingWire = Wire<typeof ReadingSchema>
export type StreamReadingWire = Wire<typeof StreamReadingSchema>
export type DeviceStateWire = Wire<typeof DeviceStateSchema>
export type LoggerFiguresWire = Wire<typeof LoggerFiguresSchema>
export type ResultWire = Wire<typeof ResultSchema>
export type ShipmentDetailWire = Wire<typeof ShipmentDetailSchema>
export type CalibrationWire = Wire<typeof CalibrationSchema>
export type DeviceWire = Wire<typeof DeviceSchema>
export type CheckpointWire = Wire<typeof CheckpointSchema>
export type IntegrityCheckWire = Wire<typeof IntegrityCheckSchema>
export type LedgerSummaryWire = Wire<typeof LedgerSummarySchema>
export type AuditPageWire = Wire<typeof AuditPageSchema>
export type ProfileListWire = Wire<typeof ProfileListSchema>
