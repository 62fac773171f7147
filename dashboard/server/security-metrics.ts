/**
 * The dashboard's security counters in /metrics (docs/API.md, "Metrics"):
 * failed sign-ins, every coded refusal the API answers, and the live stream's
 * bounds. Kept apart from metrics.ts (which mirrors totals other parts own):
 * these are events this server counts itself.
 */
import { Counter, Gauge, type Registry } from 'prom-client'
import { API_ERROR_CODES } from './errors.ts'

/**
 * `signature_password`: a wrong password re-entered to sign (a close), counted like a failed sign-in.
 * `user_disabled`: the right password of a disabled account.
 */
export type LoginFailureReason = 'bad_credentials' | 'backoff' | 'rate_limited' | 'signature_password' | 'user_disabled'

export interface SecurityMetrics {
  loginFailure(reason: LoginFailureReason): void
  /** One error response with this code (a code outside the catalogue counts as "other"). */
  refusal(code: string): void
}

export function addSecurityMetrics(
  registry: Registry,
  sse: { bufferedBytes: () => number; dropped: () => number },
): SecurityMetrics {
  const loginFailures = new Counter({
    name: 'coldproof_http_login_failures_total',
    help: 'Dashboard sign-ins refused: wrong credentials, backoff after failures, or the per-address rate limit',
    labelNames: ['reason'],
    registers: [registry],
  })
  const refusals = new Counter({
    name: 'coldproof_http_refusals_total',
    help: 'Error responses of the dashboard API, by error code',
    labelNames: ['code'],
    registers: [registry],
  })
  new Gauge({
    name: 'coldproof_sse_buffered_bytes',
    help: 'Bytes written to live streams and not yet taken by the kernel',
    registers: [registry],
    collect() {
      this.set(sse.bufferedBytes())
    },
  })
  new Counter({
    name: 'coldproof_sse_dropped_total',
    help: 'Live-stream clients dropped because they did not read',
    registers: [registry],
    collect() {
      this.reset()
      this.inc(sse.dropped())
    },
  })
  return {
    loginFailure(reason) {
      loginFailures.inc({ reason })
    },
    refusal(code) {
      refusals.inc({ code: code in API_ERROR_CODES ? code : 'other' })
    },
  }
}
