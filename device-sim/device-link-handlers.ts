/** What a device does with the messages the ledger sends it: receipts and resend requests. */
import { decodeReceipt, decodeResend } from '../ledger/protocol/index.ts'
import type { Logger } from './device.ts'
import type { Transmitter } from './device-transmit.ts'
import type { LinkHandlers } from './link.ts'
import type { ReadingBuffer } from './store-and-forward.ts'

export interface HandlerDeps {
  deviceId: string
  log: Logger
  buffer: ReadingBuffer
  transmitter: Transmitter
  /** The last seq this device has signed. */
  lastSeq(): number
  /** Set when a reading the ledger lacks was dropped: the next reading reports BUFFER_OVERFLOW. */
  overflow: { pending: boolean }
}

export function linkHandlers({ deviceId, log, buffer, transmitter, lastSeq, overflow }: HandlerDeps): LinkHandlers {
  return {
    onConnect() {
      // [decision 5] on (re)connect, everything unreceipted goes out, in order.
      transmitter.sendAll()
    },
    onReceipt(bytes: Uint8Array) {
      let r
      try {
        r = decodeReceipt(bytes)
      } catch (e) {
        log('warn', `${deviceId}: ignoring malformed receipt: ${(e as Error).message}`)
        return
      }
      if (r.seq > lastSeq()) {
        log(
          'warn',
          `${deviceId}: receipt for seq ${r.seq} but this device has only used up to ${lastSeq()}; keeping the buffer`,
          { seq: r.seq },
        )
        return
      }
      const out = buffer.receipt(r.seq, r.hash)
      if (out.kind === 'rewound') {
        // The ledger was restored from an older backup: re-send what it no longer holds.
        log(
          'warn',
          `${deviceId}: receipt went back to seq ${r.seq}; re-sending ${out.count} reading(s) the ledger had receipted before`,
          { seq: r.seq, count: out.count },
        )
        transmitter.sendAll()
      }
      if (out.kind === 'hash-mismatch') {
        log(
          'warn',
          `${deviceId}: receipt for seq ${out.seq} names hash ${out.got} but the reading sent had hash ${out.expected}; the ledger may hold a different reading, keeping the buffer`,
          out,
        )
      }
    },
    onResend(bytes: Uint8Array) {
      let r
      try {
        r = decodeResend(bytes)
      } catch (e) {
        log('warn', `${deviceId}: ignoring malformed resend request: ${(e as Error).message}`)
        return
      }
      const held = buffer.range(r.from, r.to)
      if (held.length < r.to - r.from + 1) {
        log(
          'info',
          `${deviceId}: resend ${r.from}..${r.to}: only ${held.length} reading(s) still held (the rest were receipted or dropped)`,
          { ...r, held: held.length },
        )
      }
      for (const e of held) transmitter.send(e)
      // The ledger lacks seqs this device dropped (above its last receipt, at or
      // below the buffer floor): a loss now certain, whether or not the broker had
      // acknowledged them (a ledger whose disk was full takes readings the broker
      // acknowledged and stores none). The next reading announces it, so the
      // ledger declares the gap after its overflow grace, not its resend deadline.
      const lostFrom = Math.max(r.from, buffer.receiptedSeq + 1)
      const lostTo = Math.min(r.to, buffer.floor)
      const heldInLost = held.filter((e) => e.seq >= lostFrom && e.seq <= lostTo).length
      if (lostFrom <= lostTo && heldInLost < lostTo - lostFrom + 1) {
        if (!overflow.pending)
          log(
            'info',
            `${deviceId}: resend ${r.from}..${r.to} asks for seq ${lostFrom}..${lostTo}, which this device dropped; its next reading reports BUFFER_OVERFLOW`,
            { from: lostFrom, to: lostTo },
          )
        overflow.pending = true
      }
    },
  }
}
