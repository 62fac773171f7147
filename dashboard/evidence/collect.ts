/**
 * The I/O half of the bundle builder: reads one shipment's evidence out of an
 * open ledger (ledger/store/ledger.ts), makes sure a signed checkpoint covers every
 * entry it includes (signing one now if needed), and fetches each entry's
 * inclusion path to that checkpoint. `createBundleBuilder(ledger)` is the
 * dashboard's BundleBuilder (dashboard/server/app.ts).
 */
import type { Ledger } from '../../ledger/store/index.ts'
import type { GapBody, ReadingForkBody, ShipmentDevicesBody, StoredEntry } from '../../ledger/tlog/index.ts'
import { windowsOf, type LoggerWindow } from '../../ledger/tlog/index.ts'
import type { ShipmentState } from '../../ledger/store/index.ts'
import { readingOfEntry } from '../../ledger/tlog/index.ts'
import { buildBundle, BundleError, type BundleInputs, type EvidenceInputs, type StoredRef } from './build.ts'
import type { EvidenceEntries } from './recompute.ts'
import { withCosignatures } from '../../ledger/witness/index.ts'

export interface Plan {
  shipmentId: string
  create: StoredEntry
  close: StoredEntry | null
  receive: StoredEntry | null
  assignments: StoredEntry<'shipment.devices'>[]
  devices: { deviceId: string; register: StoredEntry; revoke: StoredEntry | null }[]
  chains: { deviceId: string; before: StoredEntry | null; readings: StoredEntry[]; gaps: StoredEntry[] }[]
  forks: StoredEntry[]
  postClose: StoredEntry[]
  acknowledgements: StoredEntry[]
  /** A closed shipment's bundle as of its close: signed under the first checkpoint logged after it. */
  frozen: boolean
}

/** One logger's part of the shipment's chain evidence: seqs lo..end, the reading below lo, the gaps it skips. */
interface ChainRange {
  deviceId: string
  lo: number
  end: number
  before: StoredEntry<'reading'> | null
  gaps: StoredEntry<'gap'>[]
}

/**
 * Where a logger's chain evidence starts and ends (docs/BUNDLE.md, "Which readings"). It ends at the
 * close anchor (open: at the highest of the chain head and the window's readings). It starts at the
 * lower of the first reading in the window and the one after the create anchor, moved down past any
 * declared gap or reading that is not provably before the window, so that `before` is a real reading
 * taken before the window.
 */
async function chainRange(
  ledger: Ledger,
  s: ShipmentState,
  w: LoggerWindow,
  inWindowSeqs: number[],
  allGaps: StoredEntry<'gap'>[],
  asOf: number,
): Promise<ChainRange> {
  const { deviceId } = w
  // A logger assigned later starts at its assignment anchor; a removed one ends at its removal anchor.
  const ca = w.startAnchor ?? s.createAnchors?.find((a) => a.deviceId === deviceId)
  const ce = w.endAnchor ?? s.closeAnchors?.find((a) => a.deviceId === deviceId)
  const top = inWindowSeqs.reduce((m, x) => Math.max(m, x), 0)
  const end = ce
    ? ce.seq
    : s.closedAt !== undefined || w.until !== null
      ? top
      : Math.max(ledger.device(deviceId)?.contiguous ?? 0, top)
  const gapsOf = allGaps.filter((g) => g.entry.body.deviceId === deviceId)
  let lo = inWindowSeqs.reduce((m, x) => Math.min(m, x), Math.min(ca ? ca.seq + 1 : Infinity, end + 1))
  let before: StoredEntry<'reading'> | null = null
  while (lo > 1) {
    const g = gapsOf.find((x) => x.entry.body.fromSeq <= lo - 1 && lo - 1 <= x.entry.body.toSeq)
    if (g) {
      lo = g.entry.body.fromSeq
      continue
    }
    const r = (await ledger.readingsByDevice(deviceId, lo - 1, lo - 1))[0]
    // A reading chained after the close (a gap filled late) must not change a closed shipment's evidence.
    if (!r || r.entry.index >= asOf) break
    if (readingOfEntry(r.entry).fields.deviceTimeMs >= w.from) {
      lo--
      continue
    }
    before = r
    break
  }
  const gaps = gapsOf
    .filter((g) => g.entry.body.toSeq >= lo && g.entry.body.fromSeq <= end)
    .sort((a, b) => a.entry.body.fromSeq - b.entry.body.fromSeq || a.entry.index - b.entry.index)
  return { deviceId, lo, end, before, gaps }
}

/** The shipment's shipment.devices entries logged before `asOf`. */
async function assignmentsOf(
  ledger: Ledger,
  shipmentId: string,
  asOf: number,
): Promise<StoredEntry<'shipment.devices'>[]> {
  return (await ledger.entriesByType('shipment.devices')).filter(
    (e) => e.entry.body.shipmentId === shipmentId && e.entry.index < asOf,
  )
}

/** Entries at or after this index are not part of a shipment's evidence: its close index once closed. */
function asOfIndex(s: ShipmentState): number {
  return s.closeIndex ?? Number.POSITIVE_INFINITY
}

/**
 * Every logger's chain range, and the forks of the shipment's loggers that bear on it. A closed
 * shipment's evidence is what the log held at its close: gaps, forks and earlier readings logged
 * later leave it as it was, so its bundle never changes (docs/BUNDLE.md, "Frozen at the close").
 */
async function evidenceRanges(
  ledger: Ledger,
  s: ShipmentState,
  inWindow: StoredEntry<'reading'>[],
): Promise<{ ranges: ChainRange[]; forks: StoredEntry<'reading.fork'>[] }> {
  const asOf = asOfIndex(s)
  const seqs = new Map<string, number[]>()
  for (const e of inWindow) {
    const list = seqs.get(e.entry.body.deviceId)
    if (list) list.push(e.entry.body.seq)
    else seqs.set(e.entry.body.deviceId, [e.entry.body.seq])
  }
  const gaps = (await ledger.entriesByType('gap')).filter((g) => g.entry.index < asOf)
  const ranges: ChainRange[] = []
  for (const w of windowsOf(s)) ranges.push(await chainRange(ledger, s, w, seqs.get(w.deviceId) ?? [], gaps, asOf))
  const endOf = new Map(ranges.map((r) => [r.deviceId, r.end]))
  const forks = (await ledger.entriesByType('reading.fork')).filter((f) => {
    const end = endOf.get(f.entry.body.deviceId)
    return end !== undefined && f.entry.body.seq <= end && f.entry.index < asOf
  })
  return { ranges, forks }
}

/**
 * The declared gaps and forks a shipment's verdict takes into account, chosen exactly as the bundle
 * builder chooses them, so the dashboard shows the verdict the bundle claims.
 */
export async function shipmentEvidenceEntries(
  ledger: Ledger,
  shipmentId: string,
  inWindow: StoredEntry<'reading'>[],
): Promise<EvidenceEntries> {
  const s = ledger.shipment(shipmentId)
  if (!s) throw new BundleError(`no shipment "${shipmentId}" in the ledger`, { shipmentId })
  const { ranges, forks } = await evidenceRanges(ledger, s, inWindow)
  const assignments = (await assignmentsOf(ledger, shipmentId, asOfIndex(s))).map((e) => ({
    index: e.entry.index,
    body: e.entry.body as ShipmentDevicesBody,
  }))
  return {
    gaps: ranges.flatMap((r) => r.gaps.map((g) => g.entry.body as GapBody)),
    forks: forks.map((f) => f.entry.body as ReadingForkBody),
    ...(assignments.length ? { assignments } : {}),
  }
}

/** What a bundle request asks for (GET /api/shipments/:id/bundle.json?postClose=true). */
export interface BundleOptions {
  /**
   * A closed shipment's supplement: its frozen evidence plus what was logged about it after the
   * close (post-close readings, acknowledgements, revocations), under the latest checkpoint.
   * Without it a closed shipment's bundle is frozen at the close: the same bytes forever.
   */
  postClose?: boolean
  /**
   * Add the witness cosignatures stored for the bundle's checkpoint. They arrive after the
   * checkpoint (and more may come later), so they are opt-in: without them a closed
   * shipment's frozen bundle keeps the same bytes forever (docs/BUNDLE.md, "Witness cosignatures").
   */
  cosigned?: boolean
}

/** Which entries the bundle of `shipmentId` holds, read from the ledger (no proofs yet). */
export async function plan(ledger: Ledger, shipmentId: string, opts: BundleOptions = {}): Promise<Plan> {
  const s = ledger.shipment(shipmentId)
  if (!s) throw new BundleError(`no shipment "${shipmentId}" in the ledger`, { shipmentId })
  // Frozen: a closed shipment's bundle holds only entries logged before its close entry.
  const frozen = s.closeIndex !== undefined && !opts.postClose
  const asOf = frozen ? asOfIndex(s) : Number.POSITIVE_INFINITY
  const create = await ledger.getEntry(s.createIndex)
  const close = s.closeIndex !== undefined ? await ledger.getEntry(s.closeIndex) : null
  const receive = s.receiveIndex !== undefined && s.receiveIndex < asOf ? await ledger.getEntry(s.receiveIndex) : null
  const assignments = await assignmentsOf(ledger, shipmentId, asOf)
  const devices: Plan['devices'] = []
  for (const { deviceId: id } of windowsOf(s)) {
    const d = ledger.device(id)
    if (!d)
      throw new BundleError(`device "${id}" of shipment "${shipmentId}" is not registered`, {
        shipmentId,
        deviceId: id,
      })
    const revoked = d.revokeIndex !== undefined && d.revokeIndex < asOf
    devices.push({
      deviceId: id,
      register: await ledger.getEntry(d.registerIndex),
      revoke: revoked ? await ledger.getEntry(d.revokeIndex!) : null,
    })
  }
  // Each logger's chain is the full seq range from the window's start to its close anchor
  // (a reading with a jumped clock in between stays in the chain as a link).
  const { ranges, forks } = await evidenceRanges(ledger, s, await ledger.readingsByShipment(shipmentId))
  const chains: Plan['chains'] = []
  for (const r of ranges) {
    const readings = r.lo <= r.end ? await ledger.readingsByDevice(r.deviceId, r.lo, r.end) : []
    chains.push({ deviceId: r.deviceId, before: r.before, readings, gaps: r.gaps })
  }
  const postClose = s.closeIndex !== undefined && !frozen ? await ledger.postCloseReadings(shipmentId) : []
  const acknowledgements = (await ledger.entriesByType('alarm.ack')).filter(
    (e) => e.entry.body.shipmentId === shipmentId && e.entry.index < asOf,
  )
  return {
    shipmentId,
    create,
    close,
    receive,
    assignments,
    devices,
    chains,
    forks,
    postClose,
    acknowledgements,
    frozen,
  }
}

export function allEntries(p: Plan): StoredEntry[] {
  return [
    p.create,
    ...(p.close ? [p.close] : []),
    ...(p.receive ? [p.receive] : []),
    ...p.assignments,
    ...p.devices.flatMap((d) => [d.register, ...(d.revoke ? [d.revoke] : [])]),
    ...p.chains.flatMap((c) => [...(c.before ? [c.before] : []), ...c.readings, ...c.gaps]),
    ...p.forks,
    ...p.postClose,
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
  if (!cp || cp.size <= maxIndex)
    throw new BundleError(`no signed checkpoint covers entry ${maxIndex}`, { maxIndex, checkpointSize: cp?.size })
  return cp
}

/**
 * The checkpoint a closed shipment's frozen bundle is proven under: the first one logged (as a
 * 'checkpoint' entry) whose tree holds the close entry. It is chosen by the log alone, so every
 * build, before or after a restart, names the same checkpoint and gives the same bytes.
 */
async function closeCheckpoint(ledger: Ledger, closeIndex: number): Promise<{ note: string; size: number }> {
  const first = async () =>
    (await ledger.entriesByType('checkpoint')).find((e) => e.entry.body.size > closeIndex)?.entry.body
  let cp = await first()
  if (!cp) {
    await ledger.barrier()
    await ledger.checkpoint()
    cp = await first()
  }
  if (!cp) throw new BundleError(`no signed checkpoint covers the close entry ${closeIndex}`, { closeIndex })
  return cp
}

/** Reads everything the bundle of `shipmentId` needs (entries, one covering checkpoint, proofs). */
export async function collectBundleInputs(
  ledger: Ledger,
  shipmentId: string,
  opts: BundleOptions = {},
): Promise<BundleInputs> {
  return withProofs(ledger, await plan(ledger, shipmentId, opts), opts.cosigned === true)
}

/** Every entry of a plan with its inclusion path to the tree of `size` (a checkpoint of the ledger). */
export async function evidenceProofs(ledger: Ledger, p: Plan, size: number): Promise<EvidenceInputs> {
  const stored = async (e: StoredEntry): Promise<StoredRef> => ({
    index: e.entry.index,
    bytes: e.bytes,
    proof: await ledger.inclusionProof(e.entry.index, size),
  })
  const opt = async (e: StoredEntry | null) => (e ? stored(e) : null)
  return {
    shipmentId: p.shipmentId,
    create: await stored(p.create),
    close: await opt(p.close),
    receive: await opt(p.receive),
    assignments: await Promise.all(p.assignments.map(stored)),
    devices: await Promise.all(
      p.devices.map(async (d) => ({
        deviceId: d.deviceId,
        register: await stored(d.register),
        revoke: await opt(d.revoke),
      })),
    ),
    chains: await Promise.all(
      p.chains.map(async (c) => ({
        deviceId: c.deviceId,
        before: await opt(c.before),
        readings: await Promise.all(c.readings.map(stored)),
        gaps: await Promise.all(c.gaps.map(stored)),
      })),
    ),
    forks: await Promise.all(p.forks.map(stored)),
    postClose: await Promise.all(p.postClose.map(stored)),
    acknowledgements: await Promise.all(p.acknowledgements.map(stored)),
  }
}

async function withProofs(ledger: Ledger, p: Plan, cosigned = false): Promise<BundleInputs> {
  const maxIndex = Math.max(...allEntries(p).map((e) => e.entry.index))
  const cp =
    p.frozen && p.close
      ? await closeCheckpoint(ledger, p.close.entry.index)
      : await coveringCheckpoint(ledger, maxIndex)
  if (cp.size <= maxIndex)
    throw new BundleError(`checkpoint of size ${cp.size} does not cover entry ${maxIndex}`, {
      maxIndex,
      checkpointSize: cp.size,
    })
  return {
    ...(await evidenceProofs(ledger, p, cp.size)),
    origin: ledger.origin,
    verifierKey: ledger.verifierKey,
    // Witness cosignatures obtained for this checkpoint travel with it (ledger/witness, docs/BUNDLE.md).
    checkpoint: cosigned ? await withCosignatures(ledger.dir, cp.note) : cp.note,
  }
}

export type BundleBuilderFn = (shipmentId: string, opts?: BundleOptions) => Promise<{ json: string; sha256: string }>

/**
 * The dashboard's BundleBuilder. While no entry of a shipment's evidence
 * changes, it hands out the same bundle bytes (the same checkpoint, even if
 * newer ones were signed since), so a PDF report and a later bundle download
 * name the same SHA-256.
 */
export function createBundleBuilder(ledger: Ledger): BundleBuilderFn {
  const cache = new Map<string, { key: string; json: string; sha256: string }>()
  return async (shipmentId, opts = {}) => {
    const p = await plan(ledger, shipmentId, opts)
    // The bundle is a function of its entries; the shipment's sensors' chains already fix the readings.
    const key = allEntries(p)
      .map((e) => `${e.entry.index}:${e.hash}`)
      .join(',')
    const slot = `${p.frozen ? 'frozen' : 'live'}:${shipmentId}`
    // A cosigned bundle grows as witnesses answer: built each time, never cached.
    if (opts.cosigned) return buildBundle(await withProofs(ledger, p, true))
    const hit = cache.get(slot)
    if (hit && hit.key === key) return { json: hit.json, sha256: hit.sha256 }
    const { json, sha256 } = buildBundle(await withProofs(ledger, p))
    cache.set(slot, { key, json, sha256 })
    return { json, sha256 }
  }
}
