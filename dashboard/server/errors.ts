/**
 * The dashboard API's coded errors (docs/API.md, "Errors"). One catalogue:
 * every error body the API sends carries one of these codes, and
 * dashboard/test/error-codes.test.ts checks the catalogue, the source and
 * the docs' table agree (codes and statuses).
 */
export const API_ERROR_CODES = {
  ERR_VALIDATION: 400,
  ERR_BAD_REQUEST: 400,
  ERR_BAD_JSON: 400,
  ERR_TEXT_UNSAFE: 400,
  ERR_GS1_FORMAT: 400,
  ERR_GS1_CHECK_DIGIT: 400,
  ERR_PROFILE_INVALID: 400,
  ERR_PROFILE_RESERVED: 400,
  ERR_DEVICE_UNKNOWN: 400,
  ERR_DEVICE_REVOKED: 400,
  ERR_KEY_INVALID: 400,
  ERR_AUTH_REQUIRED: 401,
  ERR_AUTH_BAD_CREDENTIALS: 401,
  ERR_AUTH_TOKEN_EXPIRED: 401,
  ERR_AUTH_USER_DISABLED: 401,
  ERR_AUTH_TOKEN_SCOPE: 403,
  ERR_AUTH_FORBIDDEN: 403,
  ERR_AUTH_BAD_ORIGIN: 403,
  ERR_SIGNATURE_PASSWORD: 403,
  ERR_NOT_FOUND: 404,
  ERR_SHIPMENT_NOT_FOUND: 404,
  ERR_DEVICE_NOT_FOUND: 404,
  ERR_ALARM_NOT_FOUND: 404,
  ERR_ENTRY_NOT_FOUND: 404,
  ERR_CHECKPOINT_NOT_FOUND: 404,
  ERR_USER_NOT_FOUND: 404,
  ERR_TOKEN_NOT_FOUND: 404,
  ERR_SHIPMENT_EXISTS: 409,
  ERR_DEVICE_EXISTS: 409,
  ERR_USER_EXISTS: 409,
  ERR_SHIPMENT_CLOSED: 409,
  ERR_SHIPMENT_RECEIVED: 409,
  ERR_EVIDENCE_ENDS_EARLY: 409,
  ERR_CLOSE_OPEN_ALARMS: 409,
  ERR_ALARM_ACKNOWLEDGED: 409,
  ERR_GAP_RANGE: 409,
  ERR_USER_SELF: 409,
  ERR_USER_LAST_ADMIN: 409,
  ERR_BODY_TOO_LARGE: 413,
  ERR_MEDIA_TYPE: 415,
  ERR_RATE_LIMITED: 429,
  ERR_AUTH_BACKOFF: 429,
  ERR_STREAM_LIMIT: 429,
  ERR_INTERNAL: 500,
  ERR_BUNDLE_NOT_READY: 409,
  ERR_BUNDLE_UNAVAILABLE: 501,
  ERR_NOTIFICATIONS_UNAVAILABLE: 501,
  ERR_LEDGER_UNAVAILABLE: 503,
} as const

export type ApiErrorCode = keyof typeof API_ERROR_CODES

export class ApiError extends Error {
  readonly code: ApiErrorCode
  readonly statusCode: number
  /** The request field the error is about, e.g. "body.gs1.sscc". */
  readonly field?: string
  /** Structured evidence of the refusal, e.g. the loggers whose chain ends early. */
  readonly details?: Record<string, unknown>
  constructor(code: ApiErrorCode, message: string, field?: string, details?: Record<string, unknown>) {
    super(message)
    this.name = 'ApiError'
    this.code = code
    this.statusCode = API_ERROR_CODES[code]
    if (field !== undefined) this.field = field
    if (details !== undefined) this.details = details
  }
}
