/**
 * The MQTT ingest (ARCHITECTURE.md decisions 2, 3, 5, 6, 9, 11): subscribes to the
 * device readings of some partitions on a persistent session with QoS 1,
 * judges each message, appends accepted readings to the ledger, quarantines
 * everything else, and acknowledges each message to the broker only once its
 * outcome (entry or quarantine record) is durable (deferred-puback.ts).
 *
 * Judging happens one message at a time, in arrival order, outside the
 * ledger's write path; each message's signature check starts as it arrives,
 * on worker threads (verify-pool.ts, early-verify.ts), so judging only awaits
 * outcomes mostly known already. Commits happen in groups. The per-device sequence state used to judge includes readings
 * accepted but not yet durable, so a burst of one device's readings needs no
 * fsync in between.
 *
 * After each commit, once a signed checkpoint covering it is durable in
 * checkpoints.log, the ingest publishes the device's receipt (retained, QoS
 * 1: highest contiguous sequence and that reading's hash) and, while the
 * device has gaps, resend requests for the missing ranges.
 *
 * createIngest wires the parts: ingest-context (settings, serial queue),
 * ingest-judge (what a message is), ingest-working (predicted device state),
 * ingest-receipts (receipts, resend requests), ingest-gaps (declaring ranges
 * lost), ingest-mqtt (the client and its deferred PUBACKs), ingest-stats.
 */
import { EventEmitter } from 'node:events'
import type { IClientOptions, MqttClient } from 'mqtt'
import type { DeferredPubacks } from './deferred-puback.ts'
import { startCheck } from './early-verify.ts'
import type { GapCause, StoredEntry } from '../tlog/index.ts'
import { ingestSettings, SerialQueue, type IngestContext } from './ingest-context.ts'
import { checkGaps, followOutsideChanges, startGapChecks } from './ingest-gaps.ts'
import { judge } from './ingest-judge.ts'
import { firstConnect, openIngestClient, subscribeReadings } from './ingest-mqtt.ts'
import { DeviceNotices } from './ingest-receipts.ts'
import { newIngestStats } from './ingest-stats.ts'
import { WorkingStates } from './ingest-working.ts'
import type { Ledger } from '../store/index.ts'
import { defaultLedgerLog, type LedgerLog } from '../store/index.ts'
import type { QuarantineReason } from '../store/index.ts'
import { createVerifyPool } from './verify-pool.ts'

export interface IngestOptions {
  ledger: Ledger
  /** Broker URL, e.g. mqtt://127.0.0.1:1883. */
  url: string
  /** Fixed client id: the broker keeps this session's queue while the ingest is down. */
  clientId?: string
  username?: string
  password?: string
  /** Partitions (0..15) this ingest serves; all when omitted. */
  partitions?: number[]
  clock?: () => number
  /** Minimum ms between two resend requests for the same gaps of a device (default 2000). */
  resendIntervalMs?: number
  /**
   * A held reading above the first missing range reports BUFFER_OVERFLOW and the
   * resend request for the range has gone unanswered this long (ledger clock):
   * the range is declared lost, cause buffer-overflow (default 60 s).
   */
  overflowGraceMs?: number
  /** The first missing range below a held reading stayed unanswered this long (ledger clock): declared lost, cause resend-abandoned (default 24 h). */
  resendDeadlineMs?: number
  /** How often the ingest looks for ranges to declare lost (default 5 s; 0 = only when checkGaps() is called). */
  gapCheckIntervalMs?: number
  /**
   * Held readings (above a gap) per device before a reading that raises the device's highest seq is refused
   * as ERR_HELD_LIMIT (default 1,000). Readings below the highest held one (they fill a gap) within maxHeldAhead are never refused.
   */
  maxHeldPerDevice?: number
  /**
   * How far above the chain head a reading may be held (default 10,000 seqs: five times device-sim's default
   * buffer of 2,000); further, it is refused as ERR_HELD_TOO_FAR unless it reports BUFFER_OVERFLOW (a genuine
   * device after a long outage), and then it counts against maxHeldPerDevice.
   */
  maxHeldAhead?: number
  /** Largest raw payload kept in a quarantine record (default 4096 bytes; longer ones are cut, their length kept). */
  maxQuarantineBytes?: number
  /** Extra mqtt.js options (reconnectPeriod, ...). */
  mqttOptions?: Partial<IClientOptions>
  /**
   * Sends receipts and resend requests another way than the ingest's MQTT
   * client (the cluster mode publishes them over NATS: ledger/cluster/).
   */
  publish?: (topic: string, payload: Uint8Array, retain: boolean) => void
  /**
   * Worker threads that verify signatures (ledger/ingest/verify-pool.ts), each check started as its message
   * arrives; default one per core but one, at least one. 0 verifies on the main thread while judging.
   */
  verifyThreads?: number
  /** Where a commit the ingest could not make is reported when nobody listens to 'error' (pino; default stderr). */
  log?: LedgerLog
}

export interface LatencyStats {
  count: number
  sumMs: number
  maxMs: number
}

export interface IngestStats {
  received: number
  /** Messages received whose outcome (entry or quarantine record) is not durable yet: their PUBACK is still held back. */
  pending: number
  readings: number
  duplicates: number
  quarantined: number
  quarantineByReason: Partial<Record<QuarantineReason, number>>
  gapsOpened: number
  /** Readings held above a gap (outside the log until the gap fills or is declared). */
  held: number
  /** reading.fork entries logged. */
  forks: number
  /** gap entries the ingest appended (by cause). */
  gapsDeclared: Partial<Record<GapCause, number>>
  resendRequests: number
  receipts: number
  /** Device time -> durable commit. */
  deviceLatency: LatencyStats
  /** MQTT receive -> durable commit. */
  ingestLatency: LatencyStats
}

export interface ReadingCommitted {
  deviceId: string
  seq: number
  index: number
  deviceLatencyMs: number
  ingestLatencyMs: number
}

/** A message quarantined (its record is durable): a security event for the log (docs/OPERATIONS.md, "Security events in the log"). */
export interface MessageQuarantined {
  id: number
  reason: QuarantineReason
  detail: string
  topic: string
  deviceId?: string
  seq?: number
  length: number
}

/**
 * Events: 'reading' (ReadingCommitted, after each durable reading: feed a
 * latency histogram), 'quarantined' (MessageQuarantined, after each durable
 * quarantine record: log it), 'error' (a commit failed; the message is not
 * acknowledged and the broker redelivers it), 'mqtt-error' (client errors;
 * mqtt.js reconnects by itself).
 */
export interface Ingest extends EventEmitter {
  /** Connects, subscribes; resolves once the subscription is granted. */
  start(): Promise<void>
  /** Finishes judging and committing what was received, sends its PUBACKs, disconnects. Leaves the ledger open. */
  close(): Promise<void>
  stats(): IngestStats
  readonly client: MqttClient | undefined
  /**
   * Judges and commits one message as if received from the broker (no
   * PUBACK involved); resolves when its outcome is durable. Used by the MQTT
   * path and by tests of the decision logic.
   */
  handle(topic: string, payload: Uint8Array, receivedAt?: number): Promise<Outcome>
  /**
   * Declares lost every range whose grace period or deadline has passed
   * (docs/PROTOCOL.md, "Declared gaps"); runs on a timer too. Resolves with
   * the gap entries appended.
   */
  checkGaps(): Promise<StoredEntry<'gap'>[]>
}

export type Outcome =
  | { kind: 'stored'; deviceId: string; seq: number; index: number }
  /** Verified, above a gap: held outside the log, not receipted. */
  | { kind: 'held'; deviceId: string; seq: number }
  /** A second validly signed payload of a chained or held seq: logged as a reading.fork entry. */
  | { kind: 'fork'; deviceId: string; seq: number; index: number }
  | { kind: 'duplicate'; deviceId: string; seq: number }
  | { kind: 'quarantined'; reason: QuarantineReason; id: number }

/** Codes of a ledger that refuses every write until it recovers: it logs that once per episode itself. */
export const UNHEALTHY_LEDGER_CODES: ReadonlySet<string> = new Set([
  'ERR_LEDGER_DISK_FULL',
  'ERR_LEDGER_WRITE_FAILED',
  'ERR_LEDGER_FAILED',
])

export function createIngest(opts: IngestOptions): Ingest {
  const { ledger, partitions } = opts
  const s = ingestSettings(opts)
  const clock = opts.clock ?? ledger.clock
  const emitter = new EventEmitter() as Ingest
  const log = opts.log ?? defaultLedgerLog()
  const stats = newIngestStats()
  let client: MqttClient | undefined
  let acks: DeferredPubacks | undefined
  let gapTimer: NodeJS.Timeout | undefined
  let closing = false
  const outstanding = new Set<Promise<unknown>>()
  const publish = (topic: string, payload: Uint8Array, retain: boolean): void => {
    if (opts.publish) {
      opts.publish(topic, payload, retain)
      return
    }
    if (!client || (closing && !client.connected)) return
    // A view, not a copy: receipts and resend requests are encoded afresh for each publish and never changed after.
    client.publish(
      topic,
      Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength),
      retain ? RETAINED : NOT_RETAINED,
      ignorePublished,
    )
  }
  const ctx: IngestContext = {
    ledger,
    s,
    clock,
    stats,
    emitter,
    pool: createVerifyPool({ threads: s.verifyThreads }),
    working: new WorkingStates(ledger),
    notices: new DeviceNotices(ledger, publish, stats, clock, s.resendIntervalMs),
    queue: new SerialQueue(),
  }
  const { notices } = ctx
  const unfollow = followOutsideChanges(ctx)
  const reportError = (e: unknown, fields: Record<string, unknown>, say: string): void => {
    if (emitter.listenerCount('error') > 0) emitter.emit('error', e)
    else log.error(fields, say)
  }

  function handle(topic: string, payload: Uint8Array, receivedAt = clock()): Promise<Outcome> {
    stats.received++
    // The signature check starts now, beside the judging of earlier messages; judging awaits it in arrival order.
    const early = s.verifyThreads > 0 ? startCheck(ctx.pool, (id) => ledger.lookupDevice(id), payload) : undefined
    const done = ctx.queue.run(() => judge(ctx, topic, payload, receivedAt, early)).then(outcomeOf)
    outstanding.add(done)
    // One handler for both ends (not catch + finally): two fewer promises per message.
    const settled = (): void => {
      outstanding.delete(done)
    }
    done.then(settled, settled)
    return done
  }

  async function start(): Promise<void> {
    if (client) throw new Error('ingest already started')
    const opened = openIngestClient(opts, s.clientId, {
      closing: () => closing,
      handle: (topic, payload) => handle(topic, payload, clock()),
      commitFailed: (e) => {
        const code = (e as { code?: string }).code
        // An unhealthy ledger (disk full) refuses every message: the ledger warns once, /health and /metrics say it.
        if (emitter.listenerCount('error') === 0 && UNHEALTHY_LEDGER_CODES.has(code ?? '')) return
        reportError(e, { event: 'commit_failed', err: (e as Error).message, code }, `ingest: ${(e as Error).message}`)
      },
      mqttError: (e) => emitter.emit('mqtt-error', e),
    })
    const c = (client = opened.client)
    acks = opened.acks
    try {
      await firstConnect(c)
    } catch (e) {
      client = undefined
      await c.endAsync(true)
      throw e
    }
    await subscribeReadings(c, partitions)
    notices.remindAll(ledger.devices())
    c.on('connect', () => notices.askAgain(ledger.devices()))
    gapTimer = startGapChecks(ctx, (e) =>
      reportError(
        e,
        { event: 'gap_check_failed', err: (e as Error).message },
        `ingest: the gap check failed: ${(e as Error).message}`,
      ),
    )
  }

  async function close(): Promise<void> {
    if (closing) return
    closing = true
    if (gapTimer) clearInterval(gapTimer)
    unfollow()
    await ctx.queue.idle()
    // Commits, receipts waiting for their checkpoint and PUBACKs settle before the disconnect (while the ledger can write).
    await whileHealthy(ledger, () => [...outstanding])
    notices.flushNow()
    await whileHealthy(ledger, () => [...notices.anchoring])
    let acked = false
    const a = acks?.settled().finally(() => {
      acked = true
    })
    await whileHealthy(ledger, () => (a && !acked ? [a] : []))
    if (client) await client.endAsync(!ledger.health().ok)
    await ctx.pool.close()
  }

  Object.assign(emitter, {
    start,
    close,
    handle,
    checkGaps: () => checkGaps(ctx),
    stats: () => ({ ...structuredClone(stats), pending: outstanding.size }),
  })
  Object.defineProperty(emitter, 'client', { get: () => client, enumerable: true })
  return emitter
}

// mqtt.js copies publish options, so these are shared by every receipt and resend request.
const RETAINED = { qos: 1, retain: true } as const
const NOT_RETAINED = { qos: 1, retain: false } as const
const ignorePublished = (): void => {}

/** The durable outcome of a judgement (unboxed once judging, which runs in order, is done). */
const outcomeOf = (j: { done: Promise<Outcome> }): Promise<Outcome> => j.done

/**
 * Waits for `pending` to settle, unless the ledger cannot write (a full disk): then nothing more is
 * acknowledged, and the devices re-send. Polled: on a full disk the pending batch settles only when the ledger closes.
 */
async function whileHealthy(ledger: Ledger, pending: () => Promise<unknown>[]): Promise<void> {
  for (let p = pending(); p.length && ledger.health().ok; p = pending())
    await Promise.race([Promise.allSettled(p), new Promise((r) => setTimeout(r, 100))])
}
