/**
 * Security events as structured log lines that a flood cannot turn into a
 * flood of lines: per key (a refusal reason, a quarantine reason), the first
 * `burst` events of each `windowMs` are logged in full; the rest are only
 * counted, and one summary line per key (`"event":"<event>_suppressed"`, with
 * the count) follows when the window ends. Counters in /metrics stay exact;
 * only the log is thinned. Dependency-free: any pino-like logger will do.
 */
export interface LevelLogger {
  warn(obj: Record<string, unknown>, msg: string): void
}

export interface ThrottledLogOptions {
  /** Full lines per key and window (default 20). */
  burst?: number
  /** Window length in ms of the monotonic clock (default 60000). */
  windowMs?: number
  /** Monotonic ms (default performance.now). */
  now?: () => number
}

export interface ThrottledLog {
  /** Logs `fields` at warn level unless `key` is over its budget for this window. */
  warn(key: string, fields: Record<string, unknown>, msg: string): void
  /** Writes the pending summaries now (on close). */
  flush(): void
  /** Events counted but not logged in full, since start. */
  readonly suppressed: number
  stop(): void
}

export function createThrottledLog(log: LevelLogger, event: string, opts: ThrottledLogOptions = {}): ThrottledLog {
  const burst = opts.burst ?? 20
  const windowMs = opts.windowMs ?? 60_000
  const now = opts.now ?? (() => performance.now())
  if (!(burst >= 1) || !(windowMs > 0))
    throw new RangeError(`throttled log expected burst >= 1 and windowMs > 0, got ${burst}, ${windowMs}`)
  const keys = new Map<string, { since: number; logged: number; dropped: number }>()
  let suppressed = 0
  let timer: NodeJS.Timeout | undefined

  function summarise(key: string, k: { since: number; dropped: number }): void {
    if (k.dropped === 0) return
    log.warn(
      { event: `${event}_suppressed`, key, suppressed: k.dropped, windowMs },
      `${event}: ${k.dropped} more "${key}" event(s) in ${Math.round(windowMs / 1000)} s not logged one by one (counted in the metrics)`,
    )
    k.dropped = 0
  }
  function sweep(): void {
    const t = now()
    for (const [key, k] of keys) {
      if (t - k.since < windowMs) continue
      summarise(key, k)
      keys.delete(key)
    }
    if (keys.size === 0 && timer) {
      clearInterval(timer)
      timer = undefined
    }
  }

  return {
    warn(key, fields, msg) {
      const t = now()
      let k = keys.get(key)
      if (k && t - k.since >= windowMs) {
        summarise(key, k)
        k = undefined
      }
      if (!k) keys.set(key, (k = { since: t, logged: 0, dropped: 0 }))
      if (k.logged < burst) {
        k.logged++
        log.warn(fields, msg)
      } else {
        k.dropped++
        suppressed++
      }
      if (!timer) {
        timer = setInterval(sweep, windowMs)
        timer.unref()
      }
    },
    flush() {
      for (const [key, k] of keys) summarise(key, k)
    },
    get suppressed() {
      return suppressed
    },
    stop() {
      if (timer) clearInterval(timer)
      timer = undefined
      this.flush()
      keys.clear()
    },
  }
}
