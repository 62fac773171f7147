/**
 * What the ingest tells devices: receipts (retained, once a checkpoint covers
 * them) and resend requests for their missing ranges, paced per device.
 */
import type { IngestStats } from './ingest.ts'
import type { Ledger } from '../store/index.ts'
import { deviceTopic, encodeReceipt, encodeResend, fromHex, GENESIS_PREV_HASH } from '../protocol/index.ts'

export type Publish = (topic: string, payload: Uint8Array, retain: boolean) => void
/** A receipt's payload (encodeReceipt), encoded once when it is taken. */
type Receipt = Uint8Array
type DeviceSummary = { deviceId: string; revoked?: unknown; gaps: readonly unknown[] }

export class DeviceNotices {
  readonly #dirty = new Set<string>()
  /** Receipts taken, in flush order, each flush with the last entry index its checkpoint must cover. */
  readonly #awaitingAnchor: { upTo: number; due: Map<string, Receipt> }[] = []
  /** Receipts waiting for their checkpoint to be anchored. */
  readonly anchoring = new Set<Promise<void>>()
  #timer: NodeJS.Immediate | undefined
  readonly #lastResend = new Map<string, number>()
  /** Per device: the chain head its first missing range sits on, and when (ledger clock) it was first asked for. */
  readonly stalled = new Map<string, { head: number; since: number }>()

  constructor(
    private readonly ledger: Ledger,
    private readonly publish: Publish,
    private readonly stats: IngestStats,
    private readonly clock: () => number,
    private readonly resendIntervalMs: number,
  ) {}

  scheduleReceipt(deviceId: string): void {
    this.#dirty.add(deviceId)
    this.#timer ??= setImmediate(() => this.#flushReceipts())
  }

  /** Takes the receipts scheduled but not yet taken (on close). */
  flushNow(): void {
    if (!this.#timer) return
    clearImmediate(this.#timer)
    this.#flushReceipts()
  }

  /**
   * Publishes the receipts of the devices that changed, once a checkpoint
   * covering every durable entry is in checkpoints.log (ledger.whenAnchored):
   * a reading the database might still lose is never receipted, so its device
   * keeps it and re-sends it. The receipt is taken now, published then.
   *
   * Receipts taken in several flushes (one per commit) that one checkpoint
   * covers are coalesced: each device gets only its newest covered receipt, so
   * a busy fleet costs one retained publish per device per checkpoint, not per
   * commit. A receipt not covered yet waits for its own checkpoint and is never
   * held back by newer ones.
   */
  #flushReceipts(): void {
    this.#timer = undefined
    const upTo = this.ledger.size() - 1
    const due = new Map<string, Receipt>()
    for (const id of this.#dirty) {
      const d = this.ledger.device(id)
      if (!d) continue
      due.set(
        id,
        encodeReceipt({
          seq: d.contiguous,
          hash: d.contiguous > 0 && d.contiguousHash ? fromHex(d.contiguousHash) : GENESIS_PREV_HASH,
        }),
      )
    }
    this.#dirty.clear()
    if (due.size === 0) return
    this.#awaitingAnchor.push({ upTo, due })
    const sent = this.ledger.whenAnchored(upTo).then(() => this.#publishCovered(upTo))
    this.anchoring.add(sent)
    void sent.finally(() => {
      this.anchoring.delete(sent)
    })
  }

  /** Publishes, per device, the newest waiting receipt the anchored checkpoint covers (its size is above upTo). */
  #publishCovered(upTo: number): void {
    const covered = Math.max(upTo + 1, this.ledger.latestAnchor()?.size ?? 0)
    // Flushes are queued in log order; later ones hold the newer state. They are merged into the first
    // one's map (no longer queued, so nobody else reads it): the same order and receipts as a fresh map.
    // forEach, not for-of: no [key, value] pair per entry.
    let merged: Map<string, Receipt> | undefined
    while (this.#awaitingAnchor.length && this.#awaitingAnchor[0].upTo < covered) {
      const { due } = this.#awaitingAnchor.shift()!
      if (!merged) merged = due
      else due.forEach((r, id) => merged!.set(id, r))
    }
    merged?.forEach(this.#publishReceipt)
  }

  readonly #publishReceipt = (r: Receipt, id: string): void => {
    this.publish(deviceTopic(id, 'receipt'), r, true)
    this.stats.receipts++
    this.requestResend(id)
  }

  /**
   * After (re)starting: says again what the ledger holds (after a restore from a backup this receipt
   * is lower than the device's last one, and the device re-sends what the backup lacks), and asks again
   * for what is still missing.
   */
  remindAll(devices: Iterable<DeviceSummary>): void {
    const list = [...devices]
    for (const d of list) if (!d.revoked) this.scheduleReceipt(d.deviceId)
    this.askAgain(list)
  }

  /** Asks every device with gaps for its missing ranges at once (after a restart or reconnect). */
  askAgain(devices: Iterable<DeviceSummary>): void {
    for (const d of devices) if (d.gaps.length && !d.revoked) this.requestResend(d.deviceId, true)
  }

  /** Asks the device for its missing ranges: at once for a new gap, else at most once per resendIntervalMs. */
  requestResend(deviceId: string, force = false): void {
    const d = this.ledger.device(deviceId)
    if (!d || d.gaps.length === 0 || d.revoked) return
    // Pacing uses a monotonic timer, not the ledger clock (which may be fixed or jump).
    const now = performance.now()
    const last = this.#lastResend.get(deviceId)
    if (!force && last !== undefined && now - last < this.resendIntervalMs) return
    this.#lastResend.set(deviceId, now)
    // The first request for the range above this head starts its grace period and deadline.
    if (this.stalled.get(deviceId)?.head !== d.contiguous)
      this.stalled.set(deviceId, { head: d.contiguous, since: this.clock() })
    // One request per missing range, the oldest first; a device answers each from its buffer.
    for (const [from, to] of d.gaps.slice(0, 16)) {
      this.publish(deviceTopic(deviceId, 'resend'), encodeResend({ from, to }), false)
      this.stats.resendRequests++
    }
  }
}
