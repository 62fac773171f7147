/**
 * Every error body the API sends: one shape with a code from the catalogue
 * (errors.ts, docs/API.md), counted as a refusal. Ledger refusals, schema
 * failures and fastify's own 4xx errors are mapped onto catalogue codes.
 */
import type { FastifyInstance, FastifyReply } from 'fastify'
import { ApiError, API_ERROR_CODES, type ApiErrorCode } from './errors.ts'
import type { SecurityMetrics } from './security-metrics.ts'

/** Installs the error and not-found handlers on `app`. */
export function installErrorReplies(app: FastifyInstance, security: SecurityMetrics): void {
  const sendError = (
    reply: FastifyReply,
    code: ApiErrorCode,
    message: string,
    extra: { field?: string; details?: Record<string, unknown> } = {},
  ) => {
    const statusCode = API_ERROR_CODES[code]
    security.refusal(code)
    return reply.code(statusCode).send({
      statusCode,
      code,
      error: statusText(statusCode),
      message,
      ...(extra.field ? { field: extra.field } : {}),
      ...(extra.details ? { details: extra.details } : {}),
    })
  }
  app.setErrorHandler(
    (
      err: Error & {
        statusCode?: number
        code?: string
        validation?: unknown[]
        validationContext?: string
        field?: string
      },
      req,
      reply,
    ) => {
      if (err instanceof ApiError)
        return sendError(reply, err.code, err.message, { field: err.field, details: err.details })
      const mapped = fromLedgerError(err)
      if (mapped) return sendError(reply, mapped.code, mapped.message, { details: mapped.details })
      if (err.validation)
        return sendError(reply, 'ERR_VALIDATION', err.message, { field: fieldOf(err as Parameters<typeof fieldOf>[0]) })
      const status = err.statusCode ?? 500
      if (status >= 400 && status < 500) {
        if (status === 429 && req.routeOptions.url === '/api/login') security.loginFailure('rate_limited')
        return sendError(reply, clientErrorCode(status, err), err.message)
      }
      req.log.error({ err }, 'request failed')
      return sendError(reply, 'ERR_INTERNAL', 'internal error; see the server log')
    },
  )
  app.setNotFoundHandler((req, reply) => {
    sendError(reply, 'ERR_NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`)
  })
}

function fieldOf(err: {
  validation?: Array<{ instancePath?: string; params?: Record<string, unknown> }>
  validationContext?: string
}): string | undefined {
  const v = err.validation?.[0]
  if (!v) return undefined
  const base =
    (err.validationContext ?? 'body') + (v.instancePath ?? '').replace(/\/(\d+)(?=\/|$)/g, '[$1]').replace(/\//g, '.')
  const extra = v.params?.missingProperty ?? v.params?.additionalProperty
  return typeof extra === 'string' ? `${base}.${extra}` : base
}

/** The ledger's own refusals (a race between the route's check and the write) as API errors. */
const LEDGER_CODES: Record<string, ApiErrorCode> = {
  ERR_LEDGER_SHIPMENT_EXISTS: 'ERR_SHIPMENT_EXISTS',
  ERR_LEDGER_SHIPMENT_UNKNOWN: 'ERR_SHIPMENT_NOT_FOUND',
  ERR_LEDGER_SHIPMENT_CLOSED: 'ERR_SHIPMENT_CLOSED',
  ERR_LEDGER_SHIPMENT_RECEIVED: 'ERR_SHIPMENT_RECEIVED',
  ERR_LEDGER_EVIDENCE_ENDS_EARLY: 'ERR_EVIDENCE_ENDS_EARLY',
  ERR_LEDGER_DEVICE_EXISTS: 'ERR_DEVICE_EXISTS',
  ERR_LEDGER_DEVICE_UNKNOWN: 'ERR_DEVICE_UNKNOWN',
  ERR_LEDGER_DEVICE_REVOKED: 'ERR_DEVICE_REVOKED',
  ERR_LEDGER_BAD_DEVICE_KEY: 'ERR_KEY_INVALID',
  ERR_LEDGER_BAD_INPUT: 'ERR_VALIDATION',
  ERR_LEDGER_INDEX_RANGE: 'ERR_ENTRY_NOT_FOUND',
  ERR_LEDGER_CLOSED: 'ERR_LEDGER_UNAVAILABLE',
  ERR_LEDGER_FAILED: 'ERR_LEDGER_UNAVAILABLE',
  ERR_LEDGER_DISK_FULL: 'ERR_LEDGER_UNAVAILABLE',
  ERR_LEDGER_WRITE_FAILED: 'ERR_LEDGER_UNAVAILABLE',
}

/** Ledger refusals whose details the caller needs to act on (which logger, which head). */
const LEDGER_DETAILS = new Set(['ERR_LEDGER_EVIDENCE_ENDS_EARLY'])

function fromLedgerError(err: Error & { code?: string; details?: Record<string, unknown> }): ApiError | null {
  if (err.name !== 'LedgerError' || typeof err.code !== 'string') return null
  const code = LEDGER_CODES[err.code]
  return code
    ? new ApiError(code, err.message, undefined, LEDGER_DETAILS.has(err.code) ? err.details : undefined)
    : null
}

function statusText(code: number): string {
  return (
    (
      {
        400: 'Bad Request',
        401: 'Unauthorized',
        403: 'Forbidden',
        404: 'Not Found',
        409: 'Conflict',
        413: 'Payload Too Large',
        415: 'Unsupported Media Type',
        429: 'Too Many Requests',
        500: 'Internal Server Error',
        501: 'Not Implemented',
        503: 'Service Unavailable',
      } as Record<number, string>
    )[code] ?? 'Error'
  )
}

/** fastify's and its plugins' own 4xx errors (FST_ERR_..., a JSON SyntaxError) as catalogue codes. */
function clientErrorCode(status: number, err: Error & { code?: string }): ApiErrorCode {
  if (status === 429) return 'ERR_RATE_LIMITED'
  if (status === 413) return 'ERR_BODY_TOO_LARGE'
  if (status === 415) return 'ERR_MEDIA_TYPE'
  if (status === 404) return 'ERR_NOT_FOUND'
  if (
    err instanceof SyntaxError ||
    err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' ||
    err.code === 'FST_ERR_CTP_INVALID_JSON_BODY'
  )
    return 'ERR_BAD_JSON'
  return 'ERR_BAD_REQUEST'
}
