/**
 * The checker's replay of the entry rules, in log order: devices registered
 * before use and revoked once, each device chain in seq order and linked
 * (unless a gap entry declared a range lost), fork evidence signed by the
 * device, shipments created, changed and closed by the ledger's own rules.
 */
import { readingOfEntry } from '../tlog/index.ts'
import type { Entry } from '../tlog/index.ts'
import type { FsckReport } from './fsck.ts'
import { stop } from './fsck-stop.ts'
import { applyChange, changeProblem, initialWindows, type LoggerWindow } from '../tlog/index.ts'
import type { SignatureVerifier } from '../tlog/index.ts'
import { equalBytes, fromBase64, fromHex, toHex } from '../protocol/index.ts'
import { decodeReading } from '../protocol/index.ts'
import { GENESIS_PREV_HASH, readingHash, readingSigningMessage } from '../protocol/index.ts'

interface DeviceState {
  publicKey: Uint8Array
  registeredAt: number
  revokedAt?: number
}
interface ReadingRef {
  index: number
  hash: Uint8Array
}
/** A device chain as read so far: its head, and whether the head is the end of a declared gap (no hash to link to). */
interface ChainState {
  refs: Map<number, ReadingRef>
  head: number
  headHash: Uint8Array
  afterGap: boolean
}
interface ShipmentState {
  closed: boolean
  received?: boolean
  startAt: number
  loggers: LoggerWindow[]
}

export class EntryRules {
  readonly #devices = new Map<string, DeviceState>()
  readonly #chains = new Map<string, ChainState>()
  readonly #shipments = new Map<string, ShipmentState>()
  /** A gap entry's held reading, which must be the very next entry. */
  #owedAfterGap: { deviceId: string; seq: number; index: number } | undefined

  constructor(
    private readonly report: FsckReport,
    private readonly verifyReading: SignatureVerifier,
    private readonly checkCheckpoint: (note: string, index: number) => Promise<void>,
  ) {}

  /** Checks entry i against everything before it, and records what it changes. */
  async check(entry: Entry, i: number): Promise<void> {
    this.#payOwedReading(entry, i)
    switch (entry.type) {
      case 'device.register':
        return this.#register(entry as Entry<'device.register'>, i)
      case 'device.revoke':
        return this.#revoke(entry as Entry<'device.revoke'>, i)
      case 'reading':
        return this.#reading(entry as Entry<'reading'>, i)
      case 'shipment.create':
        return this.#shipmentCreate(entry as Entry<'shipment.create'>, i)
      case 'shipment.close':
        return this.#shipmentClose(entry as Entry<'shipment.close'>, i)
      case 'shipment.devices':
        return this.#shipmentDevices(entry as Entry<'shipment.devices'>, i)
      case 'shipment.receive':
        return this.#shipmentReceive(entry as Entry<'shipment.receive'>, i)
      case 'alarm.ack': {
        const b = (entry as Entry<'alarm.ack'>).body
        if (!this.#shipments.has(b.shipmentId))
          stop('ERR_FSCK_SHIPMENT', i, `acknowledges an alarm of shipment ${b.shipmentId}, which does not exist`, {
            shipmentId: b.shipmentId,
          })
        return
      }
      case 'gap':
        return this.#gap(entry as Entry<'gap'>, i)
      case 'reading.fork':
        return this.#fork(entry as Entry<'reading.fork'>, i)
      case 'checkpoint': {
        await this.checkCheckpoint((entry as Entry<'checkpoint'>).body.note, i)
        this.report.checkpointEntries++
        return
      }
    }
  }

  /** After the last entry: no gap entry may still wait for its held reading. */
  finish(): void {
    const owed = this.#owedAfterGap
    if (owed)
      stop(
        'ERR_FSCK_GAP',
        owed.index,
        `the gap entry is the last entry: the held reading ${owed.deviceId}#${owed.seq} chained with it is missing`,
        { ...owed },
      )
  }

  #payOwedReading(entry: Entry, i: number): void {
    const owed = this.#owedAfterGap
    if (!owed) return
    const b = entry.type === 'reading' ? (entry as Entry<'reading'>).body : undefined
    if (!b || b.deviceId !== owed.deviceId || b.seq !== owed.seq)
      stop(
        'ERR_FSCK_GAP',
        i,
        `the gap entry ${owed.index} must be followed by the held reading ${owed.deviceId}#${owed.seq} it chains, found ${entry.type}`,
        { ...owed },
      )
    this.#owedAfterGap = undefined
  }

  #chainOf(deviceId: string): ChainState {
    let c = this.#chains.get(deviceId)
    if (!c) this.#chains.set(deviceId, (c = { refs: new Map(), head: 0, headHash: GENESIS_PREV_HASH, afterGap: false }))
    return c
  }

  /** The registered device, or a stop: `what` names the entry for the message. */
  #deviceFor(deviceId: string, i: number, what: string, details: Record<string, unknown>): DeviceState {
    const d = this.#devices.get(deviceId)
    if (!d) stop('ERR_FSCK_DEVICE_UNKNOWN', i, `${what} ${deviceId}, which is not registered before it`, details)
    return d!
  }

  #register({ body: b }: Entry<'device.register'>, i: number): void {
    if (this.#devices.has(b.deviceId))
      stop(
        'ERR_FSCK_DEVICE_REREGISTERED',
        i,
        `device ${b.deviceId} was registered already at entry ${this.#devices.get(b.deviceId)!.registeredAt}`,
        { deviceId: b.deviceId },
      )
    this.#devices.set(b.deviceId, { publicKey: fromHex(b.publicKey), registeredAt: i })
    this.report.devices++
  }

  #revoke({ body: b }: Entry<'device.revoke'>, i: number): void {
    const d = this.#devices.get(b.deviceId)
    if (!d)
      stop('ERR_FSCK_DEVICE_UNKNOWN', i, `revokes ${b.deviceId}, which is not registered`, { deviceId: b.deviceId })
    if (d!.revokedAt !== undefined)
      stop('ERR_FSCK_DEVICE_REVOKED', i, `revokes ${b.deviceId}, already revoked at entry ${d!.revokedAt}`, {
        deviceId: b.deviceId,
      })
    d!.revokedAt = i
  }

  async #reading(e: Entry<'reading'>, i: number): Promise<void> {
    const r = readingOfEntry(e)
    const { deviceId, seq } = r.fields
    const d = this.#deviceFor(deviceId, i, 'reading of', { deviceId, seq })
    if (d.revokedAt !== undefined)
      stop(
        'ERR_FSCK_DEVICE_REVOKED',
        i,
        `reading of ${deviceId}#${seq} logged after the device was revoked at entry ${d.revokedAt}`,
        { deviceId, seq, revokedAt: d.revokedAt },
      )
    if (!(await this.verifyReading(r.signature, readingSigningMessage(r.record), d.publicKey))) {
      stop(
        'ERR_FSCK_READING_SIGNATURE',
        i,
        `the signature of ${deviceId}#${seq} does not verify under the key registered at entry ${d.registeredAt}`,
        { deviceId, seq, publicKey: toHex(d.publicKey) },
      )
    }
    const chain = this.#chainOf(deviceId)
    const hash = readingHash(r.payload)
    const seen = chain.refs.get(seq)
    if (seen) {
      if (equalBytes(seen.hash, hash))
        stop('ERR_FSCK_READING_DUPLICATE', i, `${deviceId}#${seq} is logged again (first at entry ${seen.index})`, {
          deviceId,
          seq,
          first: seen.index,
        })
      stop(
        'ERR_FSCK_CHAIN_FORK',
        i,
        `${deviceId}#${seq} differs from the reading with the same sequence at entry ${seen.index}`,
        { deviceId, seq, first: seen.index, firstHash: toHex(seen.hash), hash: toHex(hash) },
      )
    }
    if (seq !== chain.head + 1)
      stop(
        'ERR_FSCK_CHAIN_ORDER',
        i,
        `${deviceId}#${seq} is logged while the chain head is ${chain.head}: readings follow each other in seq order, and a skipped range needs a gap entry`,
        { deviceId, seq, head: chain.head },
      )
    if (!chain.afterGap && !equalBytes(chain.headHash, r.fields.prevHash)) {
      const prior = chain.refs.get(seq - 1)
      stop(
        'ERR_FSCK_CHAIN_LINK',
        i,
        `reading ${deviceId}#${seq} has prevHash ${toHex(r.fields.prevHash)}, but ${seq === 1 ? 'a first reading must have 32 zero bytes' : `${deviceId}#${seq - 1} (entry ${prior?.index}) hashes to ${toHex(chain.headHash)}`}`,
        { deviceId, seq, expected: toHex(chain.headHash), actual: toHex(r.fields.prevHash) },
      )
    }
    chain.refs.set(seq, { index: i, hash })
    chain.head = seq
    chain.headHash = hash
    chain.afterGap = false
    this.report.readings++
  }

  #gap({ body: b }: Entry<'gap'>, i: number): void {
    const d = this.#deviceFor(b.deviceId, i, 'gap entry for', { deviceId: b.deviceId })
    if (d.revokedAt !== undefined)
      stop(
        'ERR_FSCK_DEVICE_REVOKED',
        i,
        `gap entry for ${b.deviceId} logged after the device was revoked at entry ${d.revokedAt}`,
        { deviceId: b.deviceId },
      )
    const chain = this.#chainOf(b.deviceId)
    if (b.fromSeq !== chain.head + 1)
      stop(
        'ERR_FSCK_GAP',
        i,
        `declares ${b.deviceId} #${b.fromSeq}..${b.toSeq} lost, but the chain head is ${chain.head}: a gap starts right above it`,
        { deviceId: b.deviceId, fromSeq: b.fromSeq, head: chain.head },
      )
    chain.head = b.toSeq
    chain.afterGap = true
    this.#owedAfterGap = { deviceId: b.deviceId, seq: b.toSeq + 1, index: i }
    this.report.gaps.push({ deviceId: b.deviceId, from: b.fromSeq, to: b.toSeq, cause: b.cause, index: i })
  }

  async #fork({ body: b }: Entry<'reading.fork'>, i: number): Promise<void> {
    const d = this.#deviceFor(b.deviceId, i, 'reading.fork entry for', { deviceId: b.deviceId })
    // Evidence against a device must be its own signatures: a fork entry cannot be made up.
    for (const [k, payload] of b.payloads.entries()) {
      const r = decodeReading(fromBase64(payload))
      if (!(await this.verifyReading(r.signature, readingSigningMessage(r.record), d.publicKey))) {
        stop(
          'ERR_FSCK_FORK',
          i,
          `payload ${k} of the fork of ${b.deviceId}#${b.seq} does not verify under the key registered at entry ${d.registeredAt}`,
          { deviceId: b.deviceId, seq: b.seq, payload: k },
        )
      }
    }
    this.report.forks.push({ deviceId: b.deviceId, seq: b.seq, index: i })
  }

  #shipmentCreate({ body: b }: Entry<'shipment.create'>, i: number): void {
    if (this.#shipments.has(b.shipmentId))
      stop('ERR_FSCK_SHIPMENT', i, `shipment ${b.shipmentId} is created twice`, { shipmentId: b.shipmentId })
    for (const id of b.devices)
      if (!this.#devices.has(id))
        stop('ERR_FSCK_DEVICE_UNKNOWN', i, `shipment ${b.shipmentId} lists ${id}, which is not registered before it`, {
          shipmentId: b.shipmentId,
          deviceId: id,
        })
    this.#shipments.set(b.shipmentId, { closed: false, startAt: b.startAt, loggers: initialWindows(b) })
  }

  #shipmentClose({ body: b }: Entry<'shipment.close'>, i: number): void {
    const s = this.#shipments.get(b.shipmentId)
    if (!s || s.closed)
      stop(
        'ERR_FSCK_SHIPMENT',
        i,
        `closes shipment ${b.shipmentId}, which ${s ? 'is closed already' : 'does not exist'}`,
        { shipmentId: b.shipmentId },
      )
    s!.closed = true
  }

  #shipmentDevices({ body: b }: Entry<'shipment.devices'>, i: number): void {
    const s = this.#shipments.get(b.shipmentId)
    if (!s || s.closed)
      stop(
        'ERR_FSCK_SHIPMENT',
        i,
        `changes the loggers of shipment ${b.shipmentId}, which ${s ? 'is closed already' : 'does not exist'}`,
        { shipmentId: b.shipmentId },
      )
    for (const id of b.add)
      if (!this.#devices.has(id))
        stop(
          'ERR_FSCK_DEVICE_UNKNOWN',
          i,
          `shipment ${b.shipmentId} is assigned ${id}, which is not registered before it`,
          { shipmentId: b.shipmentId, deviceId: id },
        )
    // The ledger's own assignment rule (ledger/tlog/logger-windows.ts), replayed.
    const problem = changeProblem(s!.loggers, b, s!.startAt)
    if (problem)
      stop(
        'ERR_FSCK_SHIPMENT',
        i,
        `changes the loggers of shipment ${b.shipmentId} against the rule: ${problem.message}`,
        { shipmentId: b.shipmentId },
      )
    s!.loggers = applyChange(s!.loggers, { index: i, body: b })
  }

  #shipmentReceive({ body: b }: Entry<'shipment.receive'>, i: number): void {
    const s = this.#shipments.get(b.shipmentId)
    if (!s || s.closed || s.received)
      stop(
        'ERR_FSCK_SHIPMENT',
        i,
        `receives shipment ${b.shipmentId}, which ${!s ? 'does not exist' : s.closed ? 'is closed already' : 'was received already'}`,
        { shipmentId: b.shipmentId },
      )
    s!.received = true
  }
}
