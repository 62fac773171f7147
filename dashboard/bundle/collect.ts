/**
 * The I/O half of the bundle builder: reads one shipment's evidence out of an
 * open ledger (ledger/ledger.ts), makes sure a signed checkpoint covers every
 * entry it includes (signing one now if needed), and fetches each entry's
 * inclusion path to that checkpoint. `createBundleBuilder(ledger)` is the
 * dashboard's BundleBuilder (dashboard/server/app.ts).
 */
import type { Ledger } from '../../ledger/ledger.ts'
import type { StoredEntry } from '../../ledger/entry-types.ts'
import { buildBundle, BundleError, type BundleInputs, type StoredRef } from './build.ts'

interface Plan {
  shipmentId: string
  create: StoredEntry
  close: StoredEntry | null
  devices: { deviceId: string; register: StoredEntry; revoke: StoredEntry | null }[]
  chains: { deviceId: string; before: StoredEntry | null; readings: StoredEntry[]; after: StoredEntry | null }[]
  acknowledgements: StoredEntry[]
}

/** Which entries the bundle of `shipmentId` holds, read from the ledger (no proofs yet). */
async function plan(ledger: Ledger, shipmentId: string): Promise<Plan> {
  const s = ledger.shipment(shipmentId)
  if (!s) throw new BundleError(`no shipment "${shipmentId}" in the ledger`, { shipmentId })
  const create = await ledger.getEntry(s.createIndex)
  const close = s.closeIndex !== undefined ? await ledger.getEntry(s.closeIndex) : null
  const devices: Plan['devices'] = []
  for (const id of s.devices) {
    const d = ledger.device(id)
    if (!d) throw new BundleError(`device "${id}" of shipment "${shipmentId}" is not registered`, { shipmentId, deviceId: id })
    devices.push({ deviceId: id, register: await ledger.getEntry(d.registerIndex), revoke: d.revokeIndex !== undefined ? await ledger.getEntry(d.revokeIndex) : null })
  }
  // The window's readings by device time; each device's chain is then the full seq range between
  // its first and last one (a reading with a jumped clock in between stays in the chain).
  const inWindow = await ledger.readingsByShipment(shipmentId)
  const range = new Map<string, { lo: number; hi: number }>()
  for (const e of inWindow) {
    const { deviceId, seq } = e.entry.body
    const r = range.get(deviceId)
    range.set(deviceId, r ? { lo: Math.min(r.lo, seq), hi: Math.max(r.hi, seq) } : { lo: seq, hi: seq })
  }
  const chains: Plan['chains'] = []
  for (const id of s.devices) {
    const r = range.get(id)
    if (!r) { chains.push({ deviceId: id, before: null, readings: [], after: null }); continue }
    const readings = await ledger.readingsByDevice(id, r.lo, r.hi)
    const before = r.lo > 1 ? (await ledger.readingsByDevice(id, r.lo - 1, r.lo - 1))[0] ?? null : null
    const after = (await ledger.readingsByDevice(id, r.hi + 1, r.hi + 1))[0] ?? null
    chains.push({ deviceId: id, before, readings, after })
  }
  const acknowledgements = (await ledger.entriesByType('alarm.ack')).filter((e) => e.entry.body.shipmentId === shipmentId)
  return { shipmentId, create, close, devices, chains, acknowledgements }
}

function allEntries(p: Plan): StoredEntry[] {
  return [
    p.create, ...(p.close ? [p.close] : []),
    ...p.devices.flatMap((d) => [d.register, ...(d.revoke ? [d.revoke] : [])]),
    ...p.chains.flatMap((c) => [...(c.before ? [c.before] : []), ...c.readings, ...(c.after ? [c.after] : [])]),
    ...p.acknowledgements,
  ]
}

/** A signed checkpoint whose tree holds entry `maxIndex`; signs one now when the latest does not. */
async function coveringCheckpoint(ledger: Ledger, maxIndex: number): Promise<{ note: string; size: number }> {
  let cp = ledger.latestCheckpoint()
  if (!cp || cp.size <= maxIndex) {
    await ledger.barrier()
    cp = (await ledger.checkpoint()) ?? ledger.latestCheckpoint()
  }
  if (!cp || cp.size <= maxIndex) throw new BundleError(`no signed checkpoint covers entry ${maxIndex}`, { maxIndex, checkpointSize: cp?.size })
  return cp
}

/** Reads everything the bundle of `shipmentId` needs (entries, one covering checkpoint, proofs). */
export async function collectBundleInputs(ledger: Ledger, shipmentId: string): Promise<BundleInputs> {
  return withProofs(ledger, await plan(ledger, shipmentId))
}

async function withProofs(ledger: Ledger, p: Plan): Promise<BundleInputs> {
  const maxIndex = Math.max(...allEntries(p).map((e) => e.entry.index))
  const cp = await coveringCheckpoint(ledger, maxIndex)
  const stored = async (e: StoredEntry): Promise<StoredRef> => ({ index: e.entry.index, bytes: e.bytes, proof: await ledger.inclusionProof(e.entry.index, cp.size) })
  const opt = async (e: StoredEntry | null) => (e ? stored(e) : null)
  return {
    shipmentId: p.shipmentId,
    origin: ledger.origin,
    verifierKey: ledger.verifierKey,
    checkpoint: cp.note,
    create: await stored(p.create),
    close: await opt(p.close),
    devices: await Promise.all(p.devices.map(async (d) => ({ deviceId: d.deviceId, register: await stored(d.register), revoke: await opt(d.revoke) }))),
    chains: await Promise.all(p.chains.map(async (c) => ({ deviceId: c.deviceId, before: await opt(c.before), readings: await Promise.all(c.readings.map(stored)), after: await opt(c.after) }))),
    acknowledgements: await Promise.all(p.acknowledgements.map(stored)),
  }
}

export type BundleBuilderFn = (shipmentId: string) => Promise<{ json: string; sha256: string }>

/**
 * The dashboard's BundleBuilder. While no entry of a shipment's evidence
 * changes, it hands out the same bundle bytes (the same checkpoint, even if
 * newer ones were signed since), so a PDF report and a later bundle download
 * name the same SHA-256.
 */
export function createBundleBuilder(ledger: Ledger): BundleBuilderFn {
  const cache = new Map<string, { key: string; json: string; sha256: string }>()
  return async (shipmentId) => {
    const p = await plan(ledger, shipmentId)
    // The bundle is a function of its entries; the shipment's sensors' chains already fix the readings.
    const key = allEntries(p).map((e) => `${e.entry.index}:${e.hash}`).join(',')
    const hit = cache.get(shipmentId)
    if (hit && hit.key === key) return { json: hit.json, sha256: hit.sha256 }
    const { json, sha256 } = buildBundle(await withProofs(ledger, p))
    cache.set(shipmentId, { key, json, sha256 })
    return { json, sha256 }
  }
}
