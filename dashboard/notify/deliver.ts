/**
 * Delivery over one channel with retries: an SMTP message (nodemailer) or a
 * signed webhook POST. Each attempt has its own timeout; a failure that may be
 * transient (network, timeout, HTTP 5xx/429, SMTP 4xx) is retried after an
 * exponential backoff, capped, up to maxAttempts; a permanent one (HTTP 4xx,
 * SMTP 5xx) stops at once. The sleep is injectable so tests wait for nothing.
 */
import { createHmac, timingSafeEqual } from 'node:crypto'
import nodemailer from 'nodemailer'
import type { SmtpChannel, WebhookChannel } from './config.ts'

export interface Outcome {
  ok: boolean
  attempts: number
  error?: string
}
export type Sleep = (ms: number, signal: AbortSignal) => Promise<void>

export const realSleep: Sleep = (ms, signal) =>
  new Promise((resolve) => {
    if (signal.aborted) return resolve()
    const t = setTimeout(resolve, ms)
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(t)
        resolve()
      },
      { once: true },
    )
  })

/** The wait before attempt n+1 (n ≥ 1): backoff × 2^(n−1), at most maxBackoffMs. */
export function backoffDelay(c: { backoffMs: number; maxBackoffMs: number }, n: number): number {
  return Math.min(c.maxBackoffMs, c.backoffMs * 2 ** Math.min(30, n - 1))
}

class Permanent extends Error {}

async function withRetries(
  c: { maxAttempts: number; backoffMs: number; maxBackoffMs: number },
  sleep: Sleep,
  stop: AbortSignal,
  attempt: () => Promise<void>,
): Promise<Outcome> {
  let error = ''
  for (let n = 1; n <= c.maxAttempts; n++) {
    if (stop.aborted)
      return { ok: false, attempts: n - 1, error: `stopped before attempt ${n}; last error: ${error || 'none'}` }
    try {
      await attempt()
      return { ok: true, attempts: n }
    } catch (e) {
      error = (e as Error).message || String(e)
      if (e instanceof Permanent) return { ok: false, attempts: n, error }
    }
    if (n < c.maxAttempts) await sleep(backoffDelay(c, n), stop)
  }
  return { ok: false, attempts: c.maxAttempts, error: `gave up after ${c.maxAttempts} attempt(s): ${error}` }
}

/** `sha256=<hex>` of HMAC-SHA256(secret, "<timestamp>.<body>"), the X-ColdProof-Signature value. */
export function signWebhook(secret: string, timestamp: string, body: string): string {
  return 'sha256=' + createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')
}

/** The receiver's check (docs/OPERATIONS.md): signature matches and the timestamp is within `toleranceS` of now. */
export function verifyWebhook(
  secret: string,
  headers: { timestamp?: string; signature?: string },
  body: string,
  nowMs: number,
  toleranceS = 300,
): boolean {
  const { timestamp, signature } = headers
  if (!timestamp || !signature || !/^\d{1,12}$/.test(timestamp)) return false
  if (Math.abs(nowMs / 1000 - Number(timestamp)) > toleranceS) return false
  const want = Buffer.from(signWebhook(secret, timestamp, body))
  const got = Buffer.from(signature)
  return want.length === got.length && timingSafeEqual(want, got)
}

export async function deliverWebhook(
  c: WebhookChannel,
  url: string,
  payload: unknown,
  deliveryId: string,
  o: { clock: () => number; sleep: Sleep; stop: AbortSignal },
): Promise<Outcome> {
  const body = JSON.stringify(payload)
  return withRetries(c, o.sleep, o.stop, async () => {
    // Signed afresh per attempt: the timestamp is the attempt's, so a receiver's replay window holds for retries.
    const ts = String(Math.floor(o.clock() / 1000))
    const res = await fetch(url, {
      method: 'POST',
      body,
      headers: {
        'content-type': 'application/json',
        'user-agent': 'ColdProof-Notifier/1',
        'x-coldproof-delivery': deliveryId,
        'x-coldproof-timestamp': ts,
        'x-coldproof-signature': signWebhook(c.secret, ts, body),
      },
      signal: AbortSignal.any([AbortSignal.timeout(c.timeoutMs), o.stop]),
      redirect: 'error',
    }).catch((e: Error) => {
      const cause = (e.cause as Error | undefined)?.message
      throw new Error(
        e.name === 'TimeoutError' ? `no answer within ${c.timeoutMs} ms` : `${e.message}${cause ? ` (${cause})` : ''}`,
      )
    })
    await res.body?.cancel().catch(() => {})
    if (res.ok) return
    const msg = `HTTP ${res.status} from the receiver`
    if (res.status >= 500 || res.status === 429 || res.status === 408) throw new Error(msg)
    throw new Permanent(msg)
  })
}

export interface Mail {
  to: string
  subject: string
  text: string
}

export function smtpTransport(c: SmtpChannel) {
  return nodemailer.createTransport({
    host: c.host,
    port: c.port,
    secure: c.secure,
    auth: c.auth ? { user: c.auth.user, pass: c.auth.pass } : undefined,
    connectionTimeout: c.timeoutMs,
    greetingTimeout: c.timeoutMs,
    socketTimeout: c.timeoutMs,
  })
}

export async function deliverMail(
  c: SmtpChannel,
  transport: ReturnType<typeof smtpTransport>,
  mail: Mail,
  o: { sleep: Sleep; stop: AbortSignal },
): Promise<Outcome> {
  return withRetries(c, o.sleep, o.stop, async () => {
    try {
      await transport.sendMail({ from: c.from, to: mail.to, subject: mail.subject, text: mail.text })
    } catch (e) {
      const code = (e as { responseCode?: number }).responseCode
      const msg = `SMTP: ${(e as Error).message}`
      // 5xx is the server's final word (unknown recipient, refused sender); 4xx and network errors may pass.
      if (code !== undefined && code >= 500) throw new Permanent(msg)
      throw new Error(msg)
    }
  })
}
