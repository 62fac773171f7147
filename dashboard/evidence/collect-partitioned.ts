/**
 * The I/O half of the partitioned bundle (docs/BUNDLE.md, "Partitioned
 * bundles, version 3"): reads a cluster shipment's slices out of the
 * partition ledgers (`ledgers[k]` is partition k) and, from the root log, the
 * partition checkpoints and the root checkpoint that prove them.
 *
 * Every checkpoint is chosen by the logs alone, so the same logs give the same
 * bytes: per partition the first checkpoint the root log recorded that covers
 * the slice's entries (a closed slice: its close entry), and the first signed
 * root checkpoint that holds every one of those root entries. Nothing is
 * signed here: a slice not yet under a root checkpoint is refused until the
 * next root tick.
 */
import type { Ledger } from '../../ledger/store/index.ts'
import { parseNote } from '../../ledger/tlog/index.ts'
import { parseCheckpoint } from '../../ledger/tlog/index.ts'
import { rootLeafBytes, type RootView } from '../../ledger/cluster/index.ts'
import { BundleError, type PartitionedBundleInputs, type PartitionInputs } from './build.ts'
import { allEntries, evidenceProofs, plan, type BundleOptions } from './collect.ts'

const sizeOf = (note: string) => parseCheckpoint(parseNote(note).text).size

export async function collectPartitionedBundleInputs(
  ledgers: readonly Ledger[],
  root: RootView,
  shipmentId: string,
  opts: Omit<BundleOptions, 'cosigned'> = {},
): Promise<PartitionedBundleInputs> {
  const leaves = root.leaves()
  const chosen: {
    k: number
    ledger: Ledger
    leafIndex: number
    note: string
    size: number
    plan: Awaited<ReturnType<typeof plan>>
  }[] = []
  for (const [k, ledger] of ledgers.entries()) {
    if (!ledger.shipment(shipmentId)) continue
    const p = await plan(ledger, shipmentId, opts)
    // A frozen slice is proven under the first checkpoint after its close (its entries all come before it).
    const need = p.frozen && p.close ? p.close.entry.index : Math.max(...allEntries(p).map((e) => e.entry.index))
    const leafIndex = leaves.findIndex((l) => l.p === k && sizeOf(l.note) > need)
    if (leafIndex < 0)
      throw new BundleError(
        `partition ${k}'s entries of shipment "${shipmentId}" (up to entry ${need}) are not under a checkpoint the root log recorded yet; the root log records one every second (or when the cluster stops)`,
        { shipmentId, partition: k, entryIndex: need },
      )
    chosen.push({ k, ledger, leafIndex, note: leaves[leafIndex].note, size: sizeOf(leaves[leafIndex].note), plan: p })
  }
  if (chosen.length === 0) throw new BundleError(`no shipment "${shipmentId}" in any partition`, { shipmentId })
  const top = Math.max(...chosen.map((c) => c.leafIndex))
  const rootNote = (await root.checkpoints()).find((n) => sizeOf(n) > top)
  if (!rootNote)
    throw new BundleError(
      `the root log has recorded the partition checkpoints of shipment "${shipmentId}" but signed no root checkpoint over them yet; try again after the next root tick`,
      { shipmentId, rootLeaf: top },
    )
  const rootSize = sizeOf(rootNote)
  const partitions: PartitionInputs[] = []
  for (const c of chosen) {
    const { shipmentId: _, ...evidence } = await evidenceProofs(c.ledger, c.plan, c.size)
    partitions.push({
      partition: c.k,
      origin: c.ledger.origin,
      verifierKey: c.ledger.verifierKey,
      checkpoint: c.note,
      rootEntry: {
        index: c.leafIndex,
        bytes: rootLeafBytes({ p: c.k, note: c.note }),
        proof: await root.inclusionProof(c.leafIndex, rootSize),
      },
      ...evidence,
    })
  }
  return { shipmentId, origin: root.origin, verifierKey: root.verifierKey, checkpoint: rootNote, partitions }
}
