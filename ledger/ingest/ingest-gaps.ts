/**
 * Declaring missing ranges lost (docs/PROTOCOL.md, "Declared gaps"): after a
 * grace period when a held reading reports BUFFER_OVERFLOW, else after the
 * resend deadline.
 */
import { declarableGap } from '../store/index.ts'
import type { GapCause, StoredEntry } from '../tlog/index.ts'
import type { IngestContext } from './ingest-context.ts'

/** Declares lost every range whose grace period or deadline has passed; resolves with the gap entries appended. */
export async function checkGaps(ctx: IngestContext): Promise<StoredEntry<'gap'>[]> {
  const { ledger, notices, s } = ctx
  const out: StoredEntry<'gap'>[] = []
  for (const d of ledger.devices()) {
    const g = d.revoked ? undefined : declarableGap(d)
    if (!g) continue
    notices.requestResend(d.deviceId)
    const st = notices.stalled.get(d.deviceId)
    if (!st || st.head !== d.contiguous) continue
    const waited = ctx.clock() - st.since
    const w = await ctx.working.of(d.deviceId)
    const flagged = [...w.held].find(([seq, l]) => seq > g[1] && l.overflow)?.[0]
    let e: StoredEntry<'gap'> | undefined
    if (flagged !== undefined && waited >= s.overflowGraceMs) {
      e = await declare(
        ctx,
        d.deviceId,
        g[0],
        g[1],
        'buffer-overflow',
        `held seq ${flagged} reports BUFFER_OVERFLOW and the resend request for ${g[0]}..${g[1]} went unanswered for ${waited} ms`,
      )
    } else if (waited >= s.resendDeadlineMs) {
      e = await declare(
        ctx,
        d.deviceId,
        g[0],
        g[1],
        'resend-abandoned',
        `seq ${g[0]}..${g[1]} did not arrive within ${waited} ms of the first resend request`,
      )
    }
    if (e) out.push(e)
  }
  return out
}

/**
 * Declares one range lost, in the judging order (the ingest's predicted state
 * must include it): once everything before it is durable, and only if the
 * range is still exactly the first missing range below a held reading.
 */
function declare(
  ctx: IngestContext,
  deviceId: string,
  fromSeq: number,
  toSeq: number,
  cause: GapCause,
  detail: string,
): Promise<StoredEntry<'gap'> | undefined> {
  const { ledger, stats } = ctx
  return ctx.queue.run(async () => {
    await ledger.barrier()
    const d = ledger.device(deviceId)
    const g = d && !d.revoked ? declarableGap(d) : undefined
    if (!g || g[0] !== fromSeq || g[1] !== toSeq) return undefined
    const e = await ledger.declareGap({ deviceId, fromSeq, toSeq, cause, by: 'ingest', detail })
    ctx.working.forget(deviceId)
    ctx.notices.stalled.delete(deviceId)
    stats.gapsDeclared[cause] = (stats.gapsDeclared[cause] ?? 0) + 1
    ctx.notices.scheduleReceipt(deviceId)
    return e
  })
}

/**
 * A gap declared by someone else (an admin through the API) moves a device's head: judge it from the ledger again.
 * A newly registered device gets its seq-0 receipt (retained) at once: on its first SUBSCRIBE it learns
 * the ledger knows it and holds nothing of it yet (docs/PROTOCOL.md, "Registration"). Returns the unsubscribe.
 */
export function followOutsideChanges(ctx: IngestContext): () => void {
  return ctx.ledger.subscribe((e) => {
    if (e.entry.type === 'gap') {
      const id = (e.entry.body as { deviceId: string }).deviceId
      ctx.working.forget(id)
      ctx.notices.scheduleReceipt(id)
    } else if (e.entry.type === 'device.register')
      ctx.notices.scheduleReceipt((e.entry.body as { deviceId: string }).deviceId)
  })
}

/** Runs checkGaps every gapCheckIntervalMs (none when 0); failures go to `onError`. */
export function startGapChecks(ctx: IngestContext, onError: (e: unknown) => void): NodeJS.Timeout | undefined {
  if (ctx.s.gapCheckIntervalMs <= 0) return undefined
  const timer = setInterval(() => {
    checkGaps(ctx).catch(onError)
  }, ctx.s.gapCheckIntervalMs)
  timer.unref()
  return timer
}
