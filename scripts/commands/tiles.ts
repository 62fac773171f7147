/**
 * `coldproof tiles --data <dir> --out <dir>`: exports a stopped ledger as
 * C2SP tlog-tiles static files (ledger/tiles/export.ts; docs/PROTOCOL.md,
 * "Tiles for readers") under its newest signed checkpoint. Re-run it to add
 * the tiles of new entries: existing tiles are never rewritten.
 *
 * Exit code: 0 exported; 2 could not (no ledger, locked, no checkpoint, the
 * output directory holds another log).
 */
import type { Command } from 'commander'
import { resolve } from 'node:path'
import { exportTiles } from '../../ledger/tiles/index.ts'
import { openLedgerTileSource } from '../../ledger/tiles/index.ts'
import { ledgerDirOf } from './backup.ts'

const isLocked = (e: unknown): boolean => {
  for (let cur = e as { code?: string; cause?: unknown } | undefined; cur; cur = cur.cause as typeof cur)
    if (cur.code === 'LEVEL_LOCKED') return true
  return false
}

export async function tilesCommand(o: { data: string; out: string }): Promise<number> {
  const say = (s: string) => process.stderr.write(`tiles: ${s}\n`)
  const dir = ledgerDirOf(resolve(o.data))
  let src
  try {
    src = await openLedgerTileSource(dir)
  } catch (e) {
    if (isLocked(e))
      say(
        `the ledger in ${dir} is locked: a running \`coldproof start\` holds it (LevelDB allows one process); a running system keeps its tiles itself with \`coldproof start --tiles <dir>\`, or stop it and export again`,
      )
    else
      say(
        `cannot read the ledger in ${dir}: ${(e as { code?: string }).code ? `${(e as { code?: string }).code}: ` : ''}${(e as Error).message}`,
      )
    return 2
  }
  try {
    const r = await exportTiles(src, resolve(o.out))
    process.stdout.write(
      `exported tree size ${r.size} (root ${r.rootHash}) to ${resolve(o.out)}: ${r.hashTilesWritten} hash tiles and ${r.entryBundlesWritten} entry bundles written${r.previousSize ? `, extending size ${r.previousSize}` : ''}\n`,
    )
    return 0
  } catch (e) {
    say(`${(e as { code?: string }).code ?? 'ERR_TILES'}: ${(e as Error).message}`)
    return 2
  } finally {
    await src.close()
  }
}

export function register(program: Command): void {
  program
    .command('tiles')
    .description(
      'export a stopped ledger as C2SP tlog-tiles static files (checkpoint, tile/, tile/entries/) for any web server or CDN',
    )
    .requiredOption('--data <dir>', 'data directory (holds ledger/) or ledger directory')
    .requiredOption('--out <dir>', 'directory to write the tiles into (re-runs add only new tiles)')
    .action(async (o: { data: string; out: string }) => {
      process.exitCode = await tilesCommand(o)
    })
}
