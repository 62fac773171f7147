/**
 * A device's sampling schedule and chain: takes the sample due, signs it,
 * buffers it, saves the chain state, in the order the crash-safety argument
 * of device.ts needs; and stops at the shipment's end or an empty battery.
 */
import { encodeRecord, readingHash } from '../ledger/protocol/index.ts'
import type { ChainState, ChainStateStore } from './chain-state.ts'
import type { DeviceOptions, DeviceStatus } from './device.ts'
import { inWindow, readingFields } from './device-reading.ts'
import { nextSampleTime, resumeChainState } from './device-schedule.ts'
import type { Identity } from './identity.ts'
import { signRecord } from './signer.ts'
import type { BufferedReading, ReadingBuffer } from './store-and-forward.ts'

const MINUTE = 60_000
const DAY = 86_400_000

export class DeviceSampler {
  state: ChainState
  /** Simulated true time of the next sample; undefined once finished. */
  next: number | undefined
  finishReason: DeviceStatus['finishReason']
  batteryPct: number
  /** The payload being written (for the crash tests' onStep hook). */
  current: Uint8Array = new Uint8Array(0)
  #lastDoorOpenings = 0

  constructor(
    private readonly opts: DeviceOptions,
    private readonly identity: Identity,
    private readonly chain: ChainStateStore,
    private readonly buffer: ReadingBuffer,
    private readonly intervalMs: number,
    /** Set when a reading the ledger lacks was dropped: the next reading reports BUFFER_OVERFLOW. */
    private readonly overflow: { pending: boolean },
  ) {
    const { sim } = opts
    this.state = resumeChainState(chain, buffer, sim.startMs, intervalMs)
    this.next = nextSampleTime(this.state, sim.startMs, sim.endMs, intervalMs)
    if (this.next === undefined) this.finishReason = 'delivered'
    this.batteryPct = opts.spec.batteryPct
  }

  /** Whether the radio was up at the last sample (a restart inside a connectivity loss stays offline). */
  radioUpAtLastSample(): boolean {
    const { spec, sim } = this.opts
    return !(
      this.state.sampledAtMs >= sim.startMs &&
      inWindow(spec.faults.connectivityLoss, (this.state.sampledAtMs - sim.startMs) / MINUTE)
    )
  }

  /** Takes the sample due; `setRadio` follows the connectivity faults, `send` publishes the buffered reading. */
  sample(setRadio: (up: boolean) => void, send: (e: BufferedReading) => void): Uint8Array | undefined {
    const { spec, sim, seed } = this.opts
    const { buffer, overflow, intervalMs } = this
    if (this.next === undefined) return undefined
    const t = this.next
    this.batteryPct = Math.max(0, spec.batteryPct - (spec.faults.batteryDrainPctPerDay * (t - sim.startMs)) / DAY)
    if (this.batteryPct <= 0) {
      this.next = undefined
      this.finishReason = 'battery'
      return undefined
    }
    setRadio(!inWindow(spec.faults.connectivityLoss, (t - sim.startMs) / MINUTE))
    const snap = sim.advanceTo(t)
    // Full: the oldest reading goes. The flag announces a certain loss, so it is
    // set only when that reading never provably left the device: the broker
    // has not acknowledged it since start-up. A reading handed to a link that
    // then went down (no PUBACK) counts as not delivered. One the broker took
    // is most likely in the ledger; if not, the ledger sees the gap itself
    // (docs/PROTOCOL.md, "Overflow").
    if (buffer.size >= buffer.capacity && !buffer.all()[0].delivered) overflow.pending = true
    const fields = readingFields({
      spec,
      seed,
      startMs: sim.startMs,
      intervalMs,
      t,
      snap,
      batteryPct: this.batteryPct,
      overflow: overflow.pending,
      chain: this.state,
      doorOpened: snap.doorOpenings > this.#lastDoorOpenings,
    })
    this.#lastDoorOpenings = snap.doorOpenings

    const payload = signRecord(encodeRecord(fields), this.identity.secretKey)
    this.current = payload
    this.opts.onStep?.('signed', fields.seq, payload)
    const hash = readingHash(payload)
    const entry: BufferedReading = { seq: fields.seq, payload, hash }
    buffer.add(entry)
    overflow.pending = false
    this.state = { seq: fields.seq, head: hash, sampledAtMs: t }
    this.chain.save(this.state)
    this.opts.onStep?.('chain-saved', fields.seq, payload)
    send(entry)

    this.next = t + intervalMs
    if (this.next > sim.endMs) {
      this.next = undefined
      this.finishReason = 'delivered'
    }
    return payload
  }
}
