/**
 * `coldproof verify-ledger <dir>`: checks a whole ledger directory offline
 * (ledger/store/fsck.ts): every database file's checksums, every entry hash and
 * link, every reading signature and device chain, the Merkle root against the
 * latest signed checkpoint and its signature, and the latest checkpoint of
 * checkpoints.log. It reads a private copy of the database and never changes
 * the directory. On a failure it names the first bad index and what is wrong.
 *
 *   coldproof verify-ledger .data/ledger --key 'coldproof.local/ledger+1a2b3c4d+AU...'
 *   coldproof verify-ledger .data/ledger --key ledger.vkey --json
 *
 * Exit code: 0 the ledger verifies; 1 it does not; 2 it could not be checked
 * (bad arguments, missing or locked directory).
 */
import { jsonForTerminal, terminalText } from '../../dashboard/common/unsafe-text.ts'
import type { Command } from 'commander'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import cliProgress from 'cli-progress'
import { checkLedger, type FsckReport } from '../../ledger/store/index.ts'
import { openLedgerDirReader } from '../../ledger/store/index.ts'
import { parseVerifierKey } from '../../ledger/tlog/index.ts'
import { VERIFIER_KEY_FILE } from '../../ledger/store/index.ts'

const RESTORE =
  'To recover: restore the directory from a backup with `coldproof restore` (docs/OPERATIONS.md, "Recovery"); this check changed nothing in it.'

interface VerifyLedgerOptions {
  key?: string
  origin?: string
  json?: boolean
  progress?: boolean
}

/** `--key` is a verifier key string, or a file holding one. */
async function resolveKey(dir: string, key: string | undefined): Promise<{ vkey: string; source: string }> {
  if (key === undefined) {
    const path = join(dir, VERIFIER_KEY_FILE)
    return {
      vkey: (await readFile(path, 'utf8')).trim(),
      source: `${path} (from the directory being checked: this proves integrity, not which ledger it is; pass --key with the published key to pin it)`,
    }
  }
  try {
    parseVerifierKey(key)
    return { vkey: key, source: '--key' }
  } catch {
    /* not a key string: a file */
  }
  return { vkey: (await readFile(key, 'utf8')).trim(), source: key }
}

function summary(r: FsckReport): string {
  const lines = [
    `✔ ledger verifies: ${r.size} entries, ${r.readings} readings from ${r.devices} device${r.devices === 1 ? '' : 's'}, ${r.checkpointEntries} checkpoint entr${r.checkpointEntries === 1 ? 'y' : 'ies'}`,
    r.checkpoint
      ? `  latest signed checkpoint: size ${r.checkpoint.size}, root ${r.checkpoint.rootHash}${r.uncovered ? ` (${r.uncovered} later entr${r.uncovered === 1 ? 'y' : 'ies'} not yet signed)` : ''}`
      : '  empty ledger',
    r.anchor
      ? `  checkpoints.log: reaches its latest checkpoint (size ${r.anchor.size}) with the same root`
      : '  checkpoints.log: none (a ledger from before the anchor, or never checkpointed)',
  ]
  if (r.gaps.length)
    lines.push(
      `  ${r.gaps.length} device chain gap(s), readings never received: ${r.gaps
        .slice(0, 5)
        .map((g) => `${g.deviceId} #${g.from}${g.to > g.from ? `..${g.to}` : ''}`)
        .join(', ')}${r.gaps.length > 5 ? ', ...' : ''}`,
    )
  return lines.join('\n')
}

export async function verifyLedgerCommand(dir: string, o: VerifyLedgerOptions): Promise<number> {
  let vkey: string, source: string
  try {
    ;({ vkey, source } = await resolveKey(dir, o.key))
    parseVerifierKey(vkey)
  } catch (e) {
    process.stderr.write(terminalText(`verify-ledger: no usable ledger verifier key: ${(e as Error).message}\n`))
    return 2
  }
  let reader
  try {
    reader = await openLedgerDirReader(dir)
  } catch (e) {
    process.stderr.write(terminalText(`verify-ledger: ${(e as Error).message}\n`))
    return 2
  }
  // A progress bar only for a person at a terminal, never in JSON or piped output.
  const showBar = (o.progress ?? true) && !o.json && process.stderr.isTTY
  const bar = showBar
    ? new cliProgress.SingleBar(
        {
          stream: process.stderr,
          format: 'verifying {bar} {value}/{total} entries | {eta_formatted} left',
          hideCursor: true,
        },
        cliProgress.Presets.shades_classic,
      )
    : undefined
  let report: FsckReport
  try {
    let started = false
    report = await checkLedger(reader, {
      ledgerPublicKey: vkey,
      origin: o.origin,
      onProgress: bar
        ? (done, total) => {
            if (!started) {
              bar.start(total, 0)
              started = true
            }
            if (done % 256 === 0 || done === total) bar.update(done)
          }
        : undefined,
    })
    if (started) bar!.stop()
  } finally {
    await reader.close()
  }
  if (o.json) {
    process.stdout.write(jsonForTerminal(JSON.stringify({ dir, key: vkey, ...report }, null, 2)) + '\n')
  } else if (report.ok) {
    process.stdout.write(terminalText(`${summary(report)}\n  key: ${vkey} — ${source}\n`))
  } else {
    const f = report.failure!
    process.stdout.write(
      terminalText(`✘ ledger does NOT verify${f.index !== undefined ? ` — first bad entry: ${f.index}` : ''}
  ${f.code}: ${f.message}
  (${report.size} entries; key: ${vkey})
  ${RESTORE}
`),
    )
  }
  return report.ok ? 0 : 1
}

export function register(program: Command): void {
  program
    .command('verify-ledger')
    .description(
      'check a whole ledger directory offline: entry hashes and links, reading signatures, device chains, Merkle root and checkpoint signature',
    )
    .argument('<dir>', 'ledger data directory (holds db/ and ledger.vkey)')
    .option(
      '--key <vkey-or-file>',
      'the ledger verifier key "name+keyid+base64", or a file holding it (default: <dir>/ledger.vkey)',
    )
    .option('--origin <origin>', 'expected checkpoint origin (default: the key name)')
    .option('--json', 'print the report as JSON')
    .option('--no-progress', 'no progress bar')
    .action(async (dir: string, o: VerifyLedgerOptions) => {
      process.exitCode = await verifyLedgerCommand(dir, o)
    })
}
