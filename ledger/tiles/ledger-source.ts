/**
 * The TileSource of a stopped ledger directory: its newest signed checkpoint
 * (the last record of checkpoints.log, durable and verified under ledger.vkey,
 * with the witness cosignatures stored for it)
 * and its stored entry bytes. It opens the store, not the ledger, so an
 * export never signs or appends anything.
 */
import { join } from 'node:path'
import { LogStore } from '../store/index.ts'
import { readVerifierKey } from '../store/index.ts'
import { readAnchors } from '../store/index.ts'
import { TilesError } from './tile-path.ts'
import { withCosignatures } from '../witness/index.ts'
import type { TileSource } from './export.ts'

export async function openLedgerTileSource(dir: string): Promise<TileSource & { close(): Promise<void> }> {
  const verifierKey = await readVerifierKey(dir)
  const anchors = await readAnchors(dir, verifierKey)
  if (!anchors.latest)
    throw new TilesError(
      'ERR_TILES_NO_CHECKPOINT',
      `${dir} has no signed checkpoint in checkpoints.log yet; start the ledger (it signs one as entries arrive) and export again`,
    )
  const store = await LogStore.open(join(dir, 'db'), { createIfMissing: false })
  return {
    // Witness cosignatures stored for this checkpoint are published with it.
    note: await withCosignatures(dir, anchors.latest.note),
    verifierKey,
    entryBytes: (i) => store.entryBytes(i),
    close: () => store.close(),
  }
}
