/**
 * `coldproof backup <dataDir|ledgerDir> <out>` and
 * `coldproof restore <backup> <dataDir|ledgerDir> [--force]`
 * (ledger/store/backup.ts; docs/OPERATIONS.md, "Backup and restore").
 *
 * A running ledger holds the LevelDB lock, so its backup is taken by the
 * dashboard from one snapshot while it ingests: `--url <dashboard> --token
 * <admin API token>`. A stopped ledger is backed up from a private copy of
 * its database (after the same checksum checks as verify-ledger), never
 * changing the directory.
 *
 * Exit code: 0 done; 1 refused (damaged source, bad backup, non-empty
 * target); 2 bad arguments or unreachable dashboard.
 */
import type { Command } from 'commander'
import { existsSync, createReadStream } from 'node:fs'
import { readdir, rename } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { backupLines, BackupError, restoreBackup, writeBackupFile } from '../../ledger/store/index.ts'
import { LedgerDirError, openLedgerDirReader } from '../../ledger/store/index.ts'

/** `<data>/ledger` when given a data directory, else the directory itself. */
export function ledgerDirOf(dir: string): string {
  return ['db', 'ledger.key', 'checkpoints.log'].some((f) => existsSync(join(dir, f))) ? dir : join(dir, 'ledger')
}

async function* fromDashboard(url: string, token: string | undefined): AsyncGenerator<Uint8Array> {
  const res = await fetch(new URL('/api/admin/backup', url), {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  })
  if (res.status !== 200 || !res.body)
    throw new Error(`${url} answered HTTP ${res.status}: ${(await res.text()).slice(0, 300)}`)
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) yield chunk
}

async function backup(dir: string, out: string, o: { url?: string; token?: string }): Promise<number> {
  const say = (s: string) => process.stderr.write(`backup: ${s}\n`)
  if (o.url) {
    const bytes = await writeBackupFile(fromDashboard(o.url, o.token), out)
    say(`wrote ${out} (${bytes} bytes) from the running ledger at ${o.url}`)
    return 0
  }
  const ledgerDir = ledgerDirOf(resolve(dir))
  let reader
  try {
    reader = await openLedgerDirReader(ledgerDir)
  } catch (e) {
    if (e instanceof LedgerDirError && e.code === 'ERR_LEDGER_DIR_LOCKED') {
      say(
        `${e.message}. A running ledger is backed up through its dashboard: coldproof backup ${dir} ${out} --url <dashboard url> --token <admin API token>`,
      )
      return 2
    }
    throw e
  }
  try {
    const problem = await reader.storageProblem?.()
    if (problem || !reader.db) {
      say(
        `${ledgerDir} cannot be backed up: ${problem?.code ?? 'ERR_FSCK_DB_DAMAGED'}: ${problem?.message ?? 'the database cannot be opened'}`,
      )
      return 1
    }
    const bytes = await writeBackupFile(backupLines(reader.db.iterator(), ledgerDir), out)
    say(`wrote ${out} (${bytes} bytes) from ${ledgerDir}`)
    return 0
  } finally {
    await reader.close()
  }
}

async function restore(file: string, dir: string, o: { force?: boolean }): Promise<number> {
  const say = (s: string) => process.stderr.write(`restore: ${s}\n`)
  const ledgerDir = ledgerDirOf(resolve(dir))
  const present = existsSync(ledgerDir) ? await readdir(ledgerDir) : []
  if (present.length) {
    if (!o.force) {
      say(
        `ERR_RESTORE_TARGET: ${ledgerDir} is not empty (${present.slice(0, 5).join(', ')}${present.length > 5 ? ', ...' : ''}); stop ColdProof and pass --force to move it aside to ${ledgerDir}.before-restore-<time>`,
      )
      return 1
    }
    const aside = `${ledgerDir}.before-restore-${new Date().toISOString().replace(/[:.]/g, '-')}`
    await rename(ledgerDir, aside)
    say(`moved the existing ${ledgerDir} to ${aside} (kept: it may hold evidence of what happened)`)
  }
  const r = await restoreBackup(createReadStream(file), ledgerDir)
  say(
    `restored ${r.keys} keys (${r.size} entries) and ${r.files.join(', ')} into ${ledgerDir}. Start ColdProof: devices re-send what the backup lacks.`,
  )
  return 0
}

const run = (f: () => Promise<number>) => async () => {
  try {
    process.exitCode = await f()
  } catch (e) {
    process.stderr.write(`${e instanceof BackupError ? `${e.code}: ` : ''}${(e as Error).message}\n`)
    process.exitCode = e instanceof BackupError ? 1 : 2
  }
}

export function register(program: Command): void {
  program
    .command('backup')
    .description(
      'write a consistent backup of a ledger (from the running dashboard with --url, else from a stopped directory)',
    )
    .argument('<dir>', 'data directory (holds ledger/) or ledger directory')
    .argument('<out>', 'backup file to write (mode 0600: it holds the ledger signing key)')
    .option('--url <url>', 'the running dashboard to back up from (GET /api/admin/backup)')
    .option('--token <token>', 'an admin API token for --url')
    .action((dir: string, out: string, o: { url?: string; token?: string }) => run(() => backup(dir, out, o))())
  program
    .command('restore')
    .description(
      'restore a backup into a data or ledger directory (empty, or moved aside with --force); stop ColdProof first',
    )
    .argument('<backup>', 'backup file written by coldproof backup')
    .argument('<dir>', 'data directory (holds ledger/) or ledger directory')
    .option('--force', 'move a non-empty target aside to <dir>.before-restore-<time> first')
    .action((file: string, dir: string, o: { force?: boolean }) => run(() => restore(file, dir, o))())
}
