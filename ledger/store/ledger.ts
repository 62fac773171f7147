/**
 * The ledger: ColdProof's evidence store (ARCHITECTURE.md decisions 3-6, 9).
 * `openLedger(opts)` opens (or creates) a ledger directory:
 *
 *   <dir>/db/              LevelDB: the log, Merkle nodes, indexes, state (store.ts)
 *   <dir>/ledger.key       the checkpoint signing key, mode 0600, never overwritten
 *   <dir>/ledger.vkey      its public C2SP note verifier key
 *   <dir>/checkpoints.log  every signed checkpoint, fsynced: the anchor outside the database
 *
 * Writes resolve only once durable. Reads see durable state only. A
 * directory that held a ledger is checked before it is served
 * (ledger/store/open-checks.ts) and never re-created empty.
 */
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import type {
  GapBody,
  ReadingForkBody,
  AlarmAckBody,
  DeviceRegisterBody,
  DeviceRevokeBody,
  EntryType,
  ReadingBody,
  ShipmentCloseBody,
  ShipmentCreateBody,
  ShipmentDevicesBody,
  ShipmentReceiveBody,
  StoredEntry,
} from '../tlog/index.ts'
import { profileHashOf } from '../tlog/index.ts'
import { defaultLedgerLog, type LedgerLog } from './log.ts'
import { SHIPMENT_ID_PATTERN } from '../tlog/index.ts'
import { checkDeviceId, fromHex, toBase64, toHex, MAX_SEQ } from '../protocol/index.ts'
import { isDiskFull, LogStore, type StoredCheckpoint } from './store.ts'
import { Checkpointer } from './checkpointer.ts'
import { loadOrCreateLedgerKey, readVerifierKey, KEY_FILE, type LedgerKey } from './ledger-key.ts'
import { AnchorWriter, readAnchors } from './anchor-log.ts'
import { checkAgainstAnchor, checkLedgerDir, dbError, RESTORE_HINT } from './open-checks.ts'
import { LedgerError } from './errors.ts'
import type { KnownReading } from './batch-context.ts'
import {
  DEFAULT_QUARANTINE_CAPS,
  type DeviceState,
  type LedgerStats,
  type QuarantineCaps,
  type QuarantineRecord,
  type ShipmentState,
} from './state-types.ts'

export interface OpenLedgerOptions {
  dir: string
  /** Checkpoint origin line and key name (default "coldproof.local/ledger", fixed at key creation). */
  origin?: string
  /** Ledger receive time source, ms UTC. */
  clock?: () => number
  /** Sign a checkpoint every this many entries (default 1000). */
  checkpointEvery?: number
  /** ... and every this many ms while entries arrive (default 10 s; 0 = only by count and on close). */
  checkpointIntervalMs?: number
  /** Readings whose device time is further than this ahead of the ledger clock are rejected by the ingest (default 5 min). */
  futureSkewMs?: number
  /** A checkpoint is signed this many ms after a receipt starts waiting for one (default 50). */
  anchorDelayMs?: number
  /** Bounds of the quarantine (default 10,000 records, 32 MiB, 1,000 per device); over a cap a rejection is counted, not kept. */
  quarantineCaps?: Partial<QuarantineCaps>
  /** Where the ledger's warnings and errors go (pino; default JSON lines on stderr). */
  log?: LedgerLog
}

/** What the broker needs to authenticate a device (the DeviceRegistry interface of docs/ARCHITECTURE.md). */
export interface DeviceLookup {
  publicKey: Uint8Array
  revoked: boolean
}

export type RegisterDeviceInput = Omit<DeviceRegisterBody, 'publicKey'> & { publicKey: string | Uint8Array }
export type CreateShipmentInput = Omit<ShipmentCreateBody, 'profileHash' | 'anchors'> & { profileHash?: string }
export type CloseShipmentInput = Omit<ShipmentCloseBody, 'anchors'>

export interface HeldReading {
  seq: number
  payload: string
  h: string
  p: string
  t: number
  receivedAt: number
}

/**
 * Write health (docs/OPERATIONS.md, "Disk full"): ok, or why the ledger
 * refuses writes and acknowledges nothing right now. ERR_LEDGER_DISK_FULL and
 * ERR_LEDGER_WRITE_FAILED clear by themselves once a retried write succeeds;
 * ERR_LEDGER_FAILED needs a restart.
 */
export interface LedgerHealth {
  ok: boolean
  code?: 'ERR_LEDGER_DISK_FULL' | 'ERR_LEDGER_WRITE_FAILED' | 'ERR_LEDGER_FAILED'
  reason?: string
  /** ms UTC of the first failure of the current episode. */
  since?: number
  /** Failed write attempts since open: database batches and checkpoints.log appends. */
  writeFailures: { database: number; anchor: number }
}

export interface LatestCheckpoint {
  note: string
  size: number /** base64 */
  rootHash: string
}

export interface Ledger {
  readonly dir: string
  readonly origin: string
  /** C2SP signed-note verifier key of the checkpoint signer: "name+keyid+base64(0x01||pub)". */
  readonly verifierKey: string
  readonly futureSkewMs: number
  readonly clock: () => number

  // write API (each resolves once its entry is durable)
  registerDevice(body: RegisterDeviceInput): Promise<StoredEntry<'device.register'>>
  revokeDevice(body: DeviceRevokeBody): Promise<StoredEntry<'device.revoke'>>
  createShipment(body: CreateShipmentInput): Promise<StoredEntry<'shipment.create'>>
  /** Refused with ERR_LEDGER_EVIDENCE_ENDS_EARLY unless every logger's chain reaches closedAt or `endsEarly` gives the reason it does not. */
  closeShipment(body: CloseShipmentInput): Promise<StoredEntry<'shipment.close'>>
  /** Assigns loggers to or removes them from an open shipment, effective from device time `at` (ledger/tlog/logger-windows.ts). */
  changeShipmentDevices(body: Omit<ShipmentDevicesBody, 'anchors'>): Promise<StoredEntry<'shipment.devices'>>
  /** Logs the signed receipt of an open shipment at its destination (once; ERR_LEDGER_SHIPMENT_RECEIVED after). */
  receiveShipment(body: ShipmentReceiveBody): Promise<StoredEntry<'shipment.receive'>>
  acknowledgeAlarm(body: AlarmAckBody): Promise<StoredEntry<'alarm.ack'>>
  /** Declares readings fromSeq..toSeq of a device lost for good (docs/PROTOCOL.md, "Declared gaps"). */
  declareGap(body: GapBody): Promise<StoredEntry<'gap'>>
  /** Logs two different signed readings of one device and seq as evidence of a fork. */
  recordFork(body: ReadingForkBody): Promise<StoredEntry<'reading.fork'>>
  /**
   * Ingest only: appends a reading the ingest has verified (the seq right above the chain head, linked to it).
   * `known`: the payload as the ingest decoded and hashed it, so the ledger does not do it again.
   */
  appendReading(body: ReadingBody, receivedAt: number, known?: KnownReading): Promise<StoredEntry<'reading'>>
  /** Ingest only: holds a verified reading above a gap, outside the log, until the gap is filled or declared. */
  holdReading(body: ReadingBody, receivedAt: number, known?: KnownReading): Promise<void>
  /** A device's held readings, by seq: payload (base64), hash and prevHash (hex), device time, receive time. */
  heldReadings(deviceId: string): Promise<HeldReading[]>
  /** Ingest only: stores a rejected message (outside the log); id -1 when a quarantine cap was reached (counted, not kept). */
  quarantine(record: Omit<QuarantineRecord, 'id'>): Promise<QuarantineRecord>
  /** Ingest only: the stored chain link of a device's reading: payload hash, its prevHash (hex), entry index. */
  readingLink(deviceId: string, seq: number): Promise<{ h: string; p: string; i: number } | undefined>
  /** Settles after every write submitted before it is durable. */
  barrier(): Promise<void>
  /** Signs a checkpoint now if entries were added since the last one. */
  checkpoint(): Promise<LatestCheckpoint | undefined>
  /** Write health: ok, or why writes are refused now (disk full, I/O error). */
  health(): LedgerHealth
  /**
   * Resolves once a signed checkpoint covering entry `index` (size > index)
   * is durable in checkpoints.log; the ingest publishes a receipt only then.
   * Asking signs one promptly (after `anchorDelayMs`).
   */
  whenAnchored(index: number): Promise<void>

  // read API
  size(): number
  rootHash(): Uint8Array
  getEntry(index: number): Promise<StoredEntry>
  entryBytes(index: number): Promise<Uint8Array>
  entriesByType<T extends EntryType>(type: T, opts?: { from?: number; limit?: number }): Promise<StoredEntry<T>[]>
  /** Readings of a device with fromSeq <= seq <= toSeq, in seq order. O(k). */
  readingsByDevice(
    deviceId: string,
    fromSeq?: number,
    toSeq?: number,
    opts?: { limit?: number },
  ): Promise<StoredEntry<'reading'>[]>
  /** Readings of a shipment's devices within [startAt, closedAt], by device time; once closed, only those up to each logger's close anchor. O(k). */
  readingsByShipment(
    shipmentId: string,
    opts?: { fromTime?: number; toTime?: number; limit?: number },
  ): Promise<StoredEntry<'reading'>[]>
  /** A closed shipment's post-close evidence: readings above a close anchor whose device time lies in the window, by device and seq. */
  postCloseReadings(shipmentId: string): Promise<StoredEntry<'reading'>[]>
  device(deviceId: string): DeviceState | undefined
  devices(): DeviceState[]
  lookupDevice(deviceId: string): DeviceLookup | undefined
  shipment(shipmentId: string): ShipmentState | undefined
  shipments(): ShipmentState[]
  /** The latest checkpoint logged as an entry. */
  latestCheckpoint(): LatestCheckpoint | undefined
  /** The newest signed checkpoint, durable in checkpoints.log (GET /checkpoint). */
  latestAnchor(): LatestCheckpoint | undefined
  rootAt(size: number): Promise<Uint8Array>
  inclusionProof(index: number, size: number): Promise<Uint8Array[]>
  consistencyProof(oldSize: number, newSize: number): Promise<Uint8Array[]>
  quarantined(opts?: { from?: number; limit?: number; reverse?: boolean }): Promise<QuarantineRecord[]>
  stats(): LedgerStats
  /** Every key and value of the store from one LevelDB snapshot, in key order (the live integrity check of derived data). */
  storeSnapshot(): AsyncIterable<[string, Uint8Array]>
  /** Calls `listener` with each newly committed entry, in log order. Returns an unsubscribe function. */
  subscribe(listener: (e: StoredEntry) => void): () => void
  /** Calls `listener` after each durable batch (group-commit observability). */
  onBatch(listener: (b: { entries: number; items: number }) => void): () => void

  /** Waits for queued writes, signs a final checkpoint, closes the database. */
  close(): Promise<void>
}

const bad = (message: string, details: Record<string, unknown> = {}): never => {
  throw new LedgerError('ERR_LEDGER_BAD_INPUT', message, details)
}

function str(v: unknown, name: string): string {
  if (typeof v !== 'string' || v.length === 0)
    bad(`"${name}" must be a non-empty string, got ${JSON.stringify(v)}`, { field: name })
  return v as string
}

function deviceIdOf(v: unknown): string {
  try {
    return checkDeviceId(v)
  } catch (e) {
    return bad((e as Error).message, { field: 'deviceId' })
  }
}

function shipmentIdOf(v: unknown): string {
  if (typeof v !== 'string' || !SHIPMENT_ID_PATTERN.test(v))
    bad(
      `"shipmentId" must be 1..64 characters of [A-Za-z0-9._:-] starting with a letter or digit, got ${JSON.stringify(v)}`,
      { field: 'shipmentId' },
    )
  return v as string
}

function timeOf(v: unknown, name: string): number {
  if (!Number.isSafeInteger(v) || (v as number) < 0)
    bad(`"${name}" must be integer ms UTC, got ${JSON.stringify(v)}`, { field: name })
  return v as number
}

export { profileHashOf }

export async function openLedger(opts: OpenLedgerOptions): Promise<Ledger> {
  let ledgerKey: LedgerKey | undefined
  const log = opts.log ?? defaultLedgerLog()
  const {
    dir,
    clock = Date.now,
    checkpointEvery = 1000,
    checkpointIntervalMs = 10_000,
    futureSkewMs = 5 * 60_000,
    anchorDelayMs = 50,
  } = opts
  if (typeof dir !== 'string' || dir === '') bad('"dir" must be a directory path')
  if (!Number.isSafeInteger(checkpointEvery) || checkpointEvery < 1)
    bad(`"checkpointEvery" must be a positive integer, got ${checkpointEvery}`)
  if (!Number.isFinite(anchorDelayMs) || anchorDelayMs < 0)
    bad(`"anchorDelayMs" must be a non-negative number of ms, got ${anchorDelayMs}`)
  await mkdir(dir, { recursive: true })
  const dbDir = join(dir, 'db')
  const state = await checkLedgerDir(dir, dbDir)
  // An existing key is read (and its origin checked) before the database is opened.
  if (state.keyExists) ledgerKey = await loadOrCreateLedgerKey(dir, opts.origin)
  let store: LogStore
  try {
    // Create-if-missing only for a new ledger: an existing one that lost its database is an error above.
    store = await LogStore.open(dbDir, { createIfMissing: !state.dbExists, log })
  } catch (e) {
    throw dbError(dir, e)
  }
  let checkpointer: Checkpointer
  try {
    if (!state.keyExists && store.size > 0) {
      throw new LedgerError(
        'ERR_LEDGER_KEY_FILE',
        `${dir} holds a database of ${store.size} entries but no ${KEY_FILE}: a new key would not verify its checkpoints; ${RESTORE_HINT}`,
        { dir },
      )
    }
    const key: LedgerKey = ledgerKey ?? (await loadOrCreateLedgerKey(dir, opts.origin))
    const anchors = await readAnchors(dir, key.verifierKey, { origin: key.name })
    await checkAgainstAnchor(dir, store.size, (n) => store.rootAt(n), anchors.latest, await store.latestCheckpoint())
    const anchored = anchors.latest && {
      note: anchors.latest.note,
      size: anchors.latest.size,
      rootHash: toBase64(anchors.latest.rootHash),
    }
    const anchor = await AnchorWriter.open(dir, anchors)
    checkpointer = new Checkpointer(
      { store, key, clock, every: checkpointEvery, intervalMs: checkpointIntervalMs, anchor, anchorDelayMs },
      await store.latestCheckpoint(),
      anchored,
    )
    ledgerKey = key
    store.setQuarantineCaps({ ...DEFAULT_QUARANTINE_CAPS, ...opts.quarantineCaps })
  } catch (e) {
    await store.close()
    throw e
  }
  const key = ledgerKey!
  store.on('batch', () => checkpointer.afterBatch())
  // One warning per failure episode, not one per retry (the state is in health() and /metrics).
  let warned = false
  store.on('write-failed', (e: Error) => {
    if (warned) return
    warned = true
    log.error(
      { event: 'write_failed', dir, err: e.message },
      `ledger ${dir}: a durable write failed (${e.message}); writes are refused and retried until one succeeds`,
    )
  })
  store.on('batch', () => {
    warned = false
  })
  checkpointer.start()
  const lookups = new Map<string, { key: string; value: DeviceLookup }>()
  let closing: Promise<void> | undefined

  const ledger: Ledger = {
    dir,
    origin: key.name,
    verifierKey: key.verifierKey,
    futureSkewMs,
    clock,

    registerDevice(body) {
      const deviceId = deviceIdOf(body?.deviceId)
      const publicKey =
        body.publicKey instanceof Uint8Array ? toHex(body.publicKey) : str(body.publicKey, 'publicKey').toLowerCase()
      const b: DeviceRegisterBody = { deviceId, publicKey, by: str(body.by, 'by') }
      if (body.model !== undefined) b.model = str(body.model, 'model')
      if (body.calibration !== undefined) b.calibration = body.calibration
      return store.appendEntry('device.register', b, clock())
    },
    revokeDevice(body) {
      const b: DeviceRevokeBody = {
        deviceId: deviceIdOf(body?.deviceId),
        reason: str(body.reason, 'reason'),
        by: str(body.by, 'by'),
      }
      return store.appendEntry('device.revoke', b, clock())
    },
    createShipment(body) {
      const shipmentId = shipmentIdOf(body?.shipmentId)
      if (!Array.isArray(body.devices) || body.devices.length === 0)
        bad('"devices" must list at least one device id', { field: 'devices' })
      const profileHash = profileHashOf(body.profile)
      if (body.profileHash !== undefined && body.profileHash !== profileHash) {
        throw new LedgerError(
          'ERR_LEDGER_PROFILE_HASH_MISMATCH',
          `profileHash ${body.profileHash} is not the SHA-256 of the profile's canonical JSON (${profileHash})`,
          { expected: profileHash, actual: body.profileHash },
        )
      }
      const b: ShipmentCreateBody = {
        shipmentId,
        product: str(body.product, 'product'),
        route: { from: str(body.route?.from, 'route.from'), to: str(body.route?.to, 'route.to') },
        devices: body.devices.map(deviceIdOf),
        profile: body.profile,
        profileHash,
        startAt: timeOf(body.startAt, 'startAt'),
        by: str(body.by, 'by'),
      }
      if (body.gs1 !== undefined) b.gs1 = body.gs1
      if (body.cluster !== undefined)
        b.cluster = { partitions: body.cluster.partitions, devices: [...body.cluster.devices] }
      return store.appendEntry('shipment.create', b, clock())
    },
    closeShipment(body) {
      const b: ShipmentCloseBody = {
        shipmentId: shipmentIdOf(body?.shipmentId),
        closedAt: timeOf(body.closedAt, 'closedAt'),
        by: str(body.by, 'by'),
      }
      if (body.endsEarly !== undefined) b.endsEarly = { reason: str(body.endsEarly?.reason, 'endsEarly.reason') }
      if (body.signature !== undefined) {
        // Copied field by field: the entry holds what the signature defines, nothing the caller added (the codec checks the values).
        const { by, meaning, reason, at, override } = body.signature
        b.signature = {
          by,
          meaning,
          reason,
          at,
          ...(override !== undefined ? { override: { reason: override.reason, alarms: [...override.alarms] } } : {}),
        }
      }
      // The anchors are the ledger's to write (shipment-entries.ts), never the caller's.
      return store.appendEntry('shipment.close', b, clock())
    },
    changeShipmentDevices(body) {
      const list = (v: unknown, name: string) =>
        Array.isArray(v) ? v.map(deviceIdOf) : bad(`"${name}" must be an array of device ids`, { field: name })
      // The anchors are the ledger's to write (shipment-entries.ts), never the caller's.
      const b: ShipmentDevicesBody = {
        shipmentId: shipmentIdOf(body?.shipmentId),
        add: list(body.add, 'add'),
        remove: list(body.remove, 'remove'),
        at: timeOf(body.at, 'at'),
        by: str(body.by, 'by'),
      }
      return store.appendEntry('shipment.devices', b, clock())
    },
    receiveShipment(body) {
      const by = str(body?.by, 'by')
      const sg = body.signature
      if (typeof sg !== 'object' || sg === null)
        bad('"signature" must be an object { by, meaning, reason, at }', { field: 'signature' })
      // Copied field by field: the entry holds what the signature defines (the codec checks the values).
      const b: ShipmentReceiveBody = {
        shipmentId: shipmentIdOf(body.shipmentId),
        receivedAt: timeOf(body.receivedAt, 'receivedAt'),
        by,
        signature: { by: sg.by, meaning: sg.meaning, reason: sg.reason, at: sg.at },
      }
      return store.appendEntry('shipment.receive', b, clock())
    },
    acknowledgeAlarm(body) {
      const b: AlarmAckBody = {
        shipmentId: shipmentIdOf(body?.shipmentId),
        alarmId: str(body.alarmId, 'alarmId'),
        reason: str(body.reason, 'reason'),
        comment:
          typeof body.comment === 'string'
            ? body.comment
            : bad('"comment" must be a string (may be empty)', { field: 'comment' }),
        by: str(body.by, 'by'),
      }
      return store.appendEntry('alarm.ack', b, clock())
    },
    declareGap(body) {
      const b: GapBody = {
        deviceId: deviceIdOf(body?.deviceId),
        fromSeq: body.fromSeq,
        toSeq: body.toSeq,
        cause: body.cause,
        by: str(body.by, 'by'),
      }
      if (body.detail !== undefined) b.detail = str(body.detail, 'detail')
      return store.appendEntry('gap', b, clock())
    },
    recordFork(body) {
      const b: ReadingForkBody = { deviceId: deviceIdOf(body?.deviceId), seq: body.seq, payloads: body.payloads }
      return store.appendEntry('reading.fork', b, clock())
    },
    appendReading(body, receivedAt, known) {
      if (!Number.isSafeInteger(body.seq) || body.seq < 1 || body.seq > MAX_SEQ) bad(`"seq" out of range: ${body.seq}`)
      return store.appendEntry(
        'reading',
        { payload: body.payload, deviceId: body.deviceId, seq: body.seq },
        receivedAt,
        known,
      )
    },
    async holdReading(body, receivedAt, known) {
      if (!Number.isSafeInteger(body.seq) || body.seq < 1 || body.seq > MAX_SEQ) bad(`"seq" out of range: ${body.seq}`)
      await store.submit({
        kind: 'hold',
        body: { payload: body.payload, deviceId: body.deviceId, seq: body.seq },
        time: receivedAt,
        ...(known ? { known } : {}),
      })
    },
    heldReadings: (deviceId) => store.heldRows(deviceId),
    async quarantine(record) {
      return (await store.submit({ kind: 'quarantine', record })) as QuarantineRecord
    },
    async readingLink(deviceId, seq) {
      const row = await store.readingRow(deviceId, seq)
      return row && { h: row.h, p: row.p, i: row.i }
    },
    async barrier() {
      await store.submit({ kind: 'barrier' })
    },
    checkpoint: () => checkpointer.checkpoint(),
    health() {
      const h = store.health()
      const writeFailures = { database: h.writeFailures, anchor: checkpointer.anchorFailures }
      if (!h.ok) return { ok: false, code: h.code!, reason: h.reason!, since: h.since!, writeFailures }
      const a = checkpointer.anchorError
      if (a) {
        const full = isDiskFull(a)
        return {
          ok: false,
          code: full ? 'ERR_LEDGER_DISK_FULL' : 'ERR_LEDGER_WRITE_FAILED',
          since: checkpointer.anchorErrorSince,
          writeFailures,
          reason: `${full ? 'the disk is full' : 'a write failed'}: appending to checkpoints.log failed (${a.message}); retrying, no receipt is published meanwhile`,
        }
      }
      return { ok: true, writeFailures }
    },
    whenAnchored(index) {
      if (!Number.isSafeInteger(index)) bad(`"index" must be an integer, got ${index}`)
      return checkpointer.whenAnchored(index)
    },

    size: () => store.size,
    rootHash: () => store.rootHash,
    getEntry: (i) => store.getEntry(i),
    entryBytes: (i) => store.entryBytes(i),
    async entriesByType(type, o) {
      return store.getEntries(await store.indicesByType(type, o)) as Promise<StoredEntry<typeof type>[]>
    },
    async readingsByDevice(deviceId, fromSeq = 1, toSeq = MAX_SEQ, o = {}) {
      return store.getEntries(await store.readingIndicesByDevice(deviceId, fromSeq, toSeq, o.limit)) as Promise<
        StoredEntry<'reading'>[]
      >
    },
    async readingsByShipment(shipmentId, o) {
      return store.getEntries(await store.readingIndicesByShipment(shipmentId, o)) as Promise<StoredEntry<'reading'>[]>
    },
    async postCloseReadings(shipmentId) {
      return store.getEntries(await store.postCloseIndices(shipmentId)) as Promise<StoredEntry<'reading'>[]>
    },
    device: (id) => store.device(id),
    devices: () => store.devices(),
    lookupDevice(deviceId) {
      const d = store.device(deviceId)
      if (!d) return undefined
      const cached = lookups.get(deviceId)
      const k = `${d.publicKey}/${d.revoked}`
      if (cached && cached.key === k) return cached.value
      const value = { publicKey: fromHex(d.publicKey), revoked: d.revoked }
      lookups.set(deviceId, { key: k, value })
      return value
    },
    shipment: (id) => store.shipment(id),
    shipments: () => store.shipments(),
    latestCheckpoint: () => checkpointer.latest,
    latestAnchor: () => checkpointer.anchored,
    rootAt: (size) => store.rootAt(size),
    inclusionProof: (i, size) => store.inclusionProof(i, size),
    consistencyProof: (a, b) => store.consistencyProof(a, b),
    quarantined: (o) => store.quarantine(o),
    stats: () => store.stats,
    storeSnapshot: () => store.db.iterator(),
    subscribe(listener) {
      store.on('entry', listener)
      return () => {
        store.off('entry', listener)
      }
    },
    onBatch(listener) {
      store.on('batch', listener)
      return () => {
        store.off('batch', listener)
      }
    },
    close() {
      closing ??= (async () => {
        // On a full disk the pending batch is abandoned (never acknowledged, so re-sent by its devices), not awaited forever.
        store.stopRetrying()
        await checkpointer.stop()
        await store.close()
      })()
      return closing
    },
  }
  return ledger
}

/**
 * The offline integrity checker reads a ledger directory through
 * ledger/store/fsck-reader.ts (raw keys, no state checks, nothing written); the
 * ledger's public key is in <dir>/ledger.vkey (readVerifierKey).
 */
export { openLedgerDirReader as openLedgerReader } from './fsck-reader.ts'
export { readVerifierKey }
export type { StoredCheckpoint, KnownReading }
