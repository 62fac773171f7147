/**
 * Keeps a tiles directory current while the ledger runs: after each
 * checkpoint the ledger logs as an entry (and once at attach), the tiles of
 * that checkpoint are exported (export.ts, incremental), one export at a
 * time. A failed export (disk full) is reported and retried with the next
 * checkpoint; it never affects the ledger.
 */
import type { Ledger } from '../store/index.ts'
import { exportTiles, type TilesExport } from './export.ts'

export interface PublishedTiles {
  /** Settles once every export started so far has finished. */
  idle(): Promise<void>
  detach(): void
}

export function attachTilesExport(
  ledger: Pick<Ledger, 'subscribe' | 'latestCheckpoint' | 'verifierKey' | 'entryBytes'>,
  outDir: string,
  onResult: (r: { ok: true; export: TilesExport } | { ok: false; error: Error }) => void = () => {},
): PublishedTiles {
  let last: Promise<unknown> = Promise.resolve()
  const run = (note: string) => {
    const go = () =>
      exportTiles({ note, verifierKey: ledger.verifierKey, entryBytes: (i) => ledger.entryBytes(i) }, outDir).then(
        (r) => onResult({ ok: true, export: r }),
        (e: Error) => onResult({ ok: false, error: e }),
      )
    last = last.then(go, go)
  }
  const initial = ledger.latestCheckpoint()
  if (initial) run(initial.note)
  const unsubscribe = ledger.subscribe((e) => {
    if (e.entry.type === 'checkpoint') run((e.entry.body as { note: string }).note)
  })
  return {
    idle: async () => {
      await last
    },
    detach: unsubscribe,
  }
}
