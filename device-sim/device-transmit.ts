/**
 * Sending a device's buffered readings over its link, and re-sending the
 * newest one when its receipt is overdue (docs/PROTOCOL.md, "Receipt timeout").
 */
import type { Logger } from './device.ts'
import type { DeviceLink } from './link.ts'
import type { BufferedReading, ReadingBuffer } from './store-and-forward.ts'

/** Each re-send of the same reading doubles its timeout, up to this many times the base (30 s → 8 min). */
export const RECEIPT_TIMEOUT_MAX_FACTOR = 16

export class Transmitter {
  /** Earliest wall-clock time any buffered reading's receipt becomes overdue (a lower bound). */
  #nextRetransmitAt = Infinity

  constructor(
    private readonly deviceId: string,
    private readonly link: DeviceLink | undefined,
    private readonly buffer: ReadingBuffer,
    private readonly now: () => number,
    private readonly receiptTimeoutMs: number,
    /** False while the radio is down or the device is closed. */
    private readonly mayTransmit: () => boolean,
    private readonly log: Logger,
  ) {}

  #overdueAt(e: BufferedReading): number {
    return (
      (e.sentAtMs ?? -Infinity) +
      this.receiptTimeoutMs * Math.min(RECEIPT_TIMEOUT_MAX_FACTOR, 2 ** (e.retransmits ?? 0))
    )
  }

  send(e: BufferedReading): void {
    const link = this.link
    if (!(link?.connected && this.mayTransmit())) return
    link.publish(e.payload, () => {
      e.delivered = true
    })
    e.sentAtMs = this.now()
    this.#nextRetransmitAt = Math.min(this.#nextRetransmitAt, this.#overdueAt(e))
  }

  /** Sends every unreceipted reading, oldest first. */
  sendAll(): void {
    for (const e of this.buffer.all()) this.send(e)
  }

  retransmitOverdue(): number {
    // A lost reading with nothing after it opens no gap at the ledger, so no
    // resend request ever comes for it (docs/PROTOCOL.md, "Receipt timeout").
    // Re-sending the NEWEST unreceipted reading is enough: if the ledger lacks
    // it, it stores it and asks for any gap below it; if it has it, the
    // duplicate makes it re-send its receipt (and resend requests for gaps).
    // One message per device per timeout, however full the buffer is.
    if (!this.link?.connected || !this.mayTransmit()) return 0
    const t = this.now()
    if (t < this.#nextRetransmitAt) return 0
    const e = this.buffer.last()
    if (!e) {
      this.#nextRetransmitAt = Infinity
      return 0
    }
    if (this.#overdueAt(e) > t) {
      this.#nextRetransmitAt = this.#overdueAt(e)
      return 0
    }
    const waited = t - (e.sentAtMs ?? t)
    e.retransmits = (e.retransmits ?? 0) + 1
    this.send(e)
    this.#nextRetransmitAt = this.#overdueAt(e)
    this.log('info', `${this.deviceId}: re-sent seq ${e.seq}: no receipt ${waited} ms after it was sent`, {
      seq: e.seq,
      retransmits: e.retransmits,
    })
    return 1
  }
}
