/**
 * What the store keeps in memory of the durable ledger (tree state, derived device and shipment
 * state, counters), and loading it on open with the recovery check of the tree state. It moves
 * only after a batch is durable (store.ts).
 */
import type { ClassicLevel } from 'classic-level'
import { entryHash, GENESIS_PREV, leafHash } from '../tlog/index.ts'
import { fromHex, toHex } from '../protocol/index.ts'
import { parseJsonBytes } from './batch-context.ts'
import { LedgerError } from './errors.ts'
import { END, K, indexOfKey } from './keys-layout.ts'
import { hasLegacyCounts, renameLegacyCounts } from './quarantine-names.ts'
import { DEFAULT_QUARANTINE_CAPS } from './state-types.ts'
import type { DeviceState, LedgerStats, QuarantineCaps, QuarantineRecord, ShipmentState } from './state-types.ts'

export type DB = ClassicLevel<string, Uint8Array>

export interface TreeState {
  size: number
  frontier: string[]
  lastHash: string
  lastTime: number
}

/** The tree state of an empty ledger (a fresh object each time: callers keep it). */
export const emptyTree = (): TreeState => ({ size: 0, frontier: [], lastHash: GENESIS_PREV, lastTime: 0 })

export interface CommittedState {
  tree: TreeState
  /** The tree's frontier as bytes (tree.frontier is its hex, as stored). */
  frontier: Uint8Array[]
  devices: Map<string, DeviceState>
  shipments: Map<string, ShipmentState>
  /** Device id -> ids of the shipments listing it. */
  deviceShipments: Map<string, Set<string>>
  stats: LedgerStats
  quarantineSeq: number
  caps: QuarantineCaps
}

const emptyStats = (): LedgerStats => ({
  batches: 0,
  entries: 0,
  largestBatch: 0,
  entriesByType: {},
  quarantined: 0,
  quarantineByReason: {},
})

/** Records that a shipment lists its devices (committed shipments only). */
export function linkShipment(state: CommittedState, s: ShipmentState): void {
  for (const id of s.devices) {
    let set = state.deviceShipments.get(id)
    if (!set) state.deviceShipments.set(id, (set = new Set()))
    set.add(s.shipmentId)
  }
}

/** Reads the committed state of an open database, after checking its tree state against the last entry. */
export async function loadCommitted(db: DB): Promise<CommittedState> {
  const treeBytes = await db.get(K.tree)
  const tree: TreeState = treeBytes ? parseJsonBytes(treeBytes) : emptyTree()
  await checkTreeState(db, tree)
  const devices = new Map<string, DeviceState>()
  for await (const [, v] of db.iterator({ gte: K.devicePrefix, lt: K.devicePrefix + END })) {
    const d = parseJsonBytes<DeviceState>(v)
    devices.set(d.deviceId, d)
  }
  const shipments = new Map<string, ShipmentState>()
  for await (const [, v] of db.iterator({ gte: K.shipmentPrefix, lt: K.shipmentPrefix + END })) {
    const s = parseJsonBytes<ShipmentState>(v)
    shipments.set(s.shipmentId, s)
  }
  const statsBytes = await db.get(K.stats)
  const stats = statsBytes ? parseJsonBytes<LedgerStats>(statsBytes) : emptyStats()
  let quarantineSeq = 0
  for await (const k of db.keys({ gte: K.quarantinePrefix, lt: K.quarantinePrefix + END, reverse: true, limit: 1 }))
    quarantineSeq = indexOfKey(k) + 1
  if (hasLegacyCounts(stats)) {
    const codes: unknown[] = []
    for await (const v of db.values({ gte: K.quarantinePrefix, lt: K.quarantinePrefix + END })) {
      const r = parseJsonBytes<QuarantineRecord>(v)
      if ((r.reason as string) === 'ERR_MALFORMED') codes.push(r.details?.protocolCode)
    }
    renameLegacyCounts(stats, codes)
  }
  // Ledgers written before the quarantine was bounded: count what it holds once.
  if (!stats.quarantineKept) {
    const kept = { records: 0, bytes: 0, byDevice: {} as Record<string, number> }
    for await (const v of db.values({ gte: K.quarantinePrefix, lt: K.quarantinePrefix + END })) {
      const r = parseJsonBytes<QuarantineRecord>(v)
      const who = r.deviceId !== undefined && devices.has(r.deviceId) ? r.deviceId : ''
      kept.records++
      kept.bytes += v.length
      kept.byDevice[who] = (kept.byDevice[who] ?? 0) + 1
    }
    stats.quarantineKept = kept
  }
  const state: CommittedState = {
    tree,
    frontier: tree.frontier.map(fromHex),
    devices,
    shipments,
    deviceShipments: new Map(),
    stats,
    quarantineSeq,
    caps: DEFAULT_QUARANTINE_CAPS,
  }
  for (const s of shipments.values()) linkShipment(state, s)
  return state
}

/**
 * Recovery check on open. The tree state is written in the same atomic batch
 * as its entries, so after any crash it matches them; a mismatch means the
 * directory was changed by something else, and the ledger refuses to append.
 */
async function checkTreeState(db: DB, tree: TreeState): Promise<void> {
  const after = await db.get(K.entry(tree.size))
  if (after)
    throw new LedgerError(
      'ERR_LEDGER_STATE_MISMATCH',
      `an entry exists at index ${tree.size}, beyond the stored tree size`,
      { size: tree.size },
    )
  if (tree.size === 0) return
  const last = await db.get(K.entry(tree.size - 1))
  if (!last)
    throw new LedgerError(
      'ERR_LEDGER_STATE_MISMATCH',
      `entry ${tree.size - 1} (the last of the stored tree) is missing`,
      { size: tree.size },
    )
  const h = entryHash(last)
  if (h !== tree.lastHash)
    throw new LedgerError(
      'ERR_LEDGER_STATE_MISMATCH',
      `entry ${tree.size - 1} hashes to ${h}, the tree state says ${tree.lastHash}`,
      { index: tree.size - 1, expected: tree.lastHash, actual: h },
    )
  const leaf = await db.get(K.node(0, tree.size - 1))
  if (!leaf || toHex(leaf) !== toHex(leafHash(last)))
    throw new LedgerError(
      'ERR_LEDGER_STATE_MISMATCH',
      `the Merkle leaf of entry ${tree.size - 1} does not match its bytes`,
      { index: tree.size - 1 },
    )
}
