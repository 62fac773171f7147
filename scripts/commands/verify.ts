/**
 * `coldproof verify <bundle.json>`: checks a shipment's evidence bundle
 * offline with dashboard/evidence/verify.ts (the same code the browser's Verify
 * page runs): reading signatures, device chains, inclusion proofs, the
 * checkpoint signature against the pinned ledger key, the rule profile hash
 * and the recomputed compliance result. docs/BUNDLE.md.
 *
 *   coldproof verify SHIP-1-bundle.json --key 'coldproof.local/ledger+1a2b3c4d+AU...'
 *   coldproof verify SHIP-1-bundle.json --key ledger.vkey --engine noble --json
 *
 *   coldproof verify SHIP-1-bundle.json --key ledger.vkey --witness 'witness.example/w1+8a9b0c1d+BA...'
 *
 * A partitioned bundle (cluster mode, version 3) is checked against the root
 * log's key (--key <data>/cluster/root/ledger.vkey); --partition-key 0=<vkey or
 * file> pins a partition log's key as well.
 *
 * Exit code: 0 VERIFIED; 1 NOT VERIFIED (including: no --key given);
 * 2 could not be checked (unreadable file, bad arguments, a file refused
 * unread: over the --max-size cap or nested too deep), with one line on
 * stderr and never a stack trace.
 */
import type { Command } from 'commander'
import { readFile, stat } from 'node:fs/promises'
import cliProgress from 'cli-progress'
import { parseVerifierKey } from '../../ledger/tlog/index.ts'
import { parseWitnessKey } from '../../ledger/tlog/index.ts'
import {
  DEFAULT_MAX_BUNDLE_BYTES,
  formatReport,
  refuseInput,
  refuseSize,
  verifyBundle,
  type EngineName,
  type VerifyProgress,
  type VerifyReport,
} from '../../dashboard/evidence/verify.ts'
import { verifyThreads } from '../../dashboard/evidence/verify-threads.ts'
import { jsonForTerminal, showUnsafe } from '../../dashboard/common/unsafe-text.ts'

interface VerifyOptions {
  key?: string
  partitionKey?: string[]
  witness?: string[]
  engine?: string
  json?: boolean
  progress?: boolean
  maxSize?: string
}

/** One line on stderr, terminal-safe (a file name or an error can carry anything). */
const complain = (s: string) => {
  process.stderr.write(`verify: ${showUnsafe(s)}\n`)
}

/** `--key` is a verifier key string, or a file holding one (e.g. a ledger's ledger.vkey). */
export async function resolveKeyArg(key: string): Promise<{ vkey: string; source: string }> {
  try {
    parseVerifierKey(key)
    return { vkey: key.trim(), source: '--key' }
  } catch {
    /* not a key string: a file */
  }
  const vkey = (await readFile(key, 'utf8')).trim()
  parseVerifierKey(vkey)
  return { vkey, source: `--key ${key}` }
}

/** `--witness` is a witness verifier key string, or a file holding one (as `coldproof witness` prints it). */
async function resolveWitnessArg(arg: string): Promise<string> {
  try {
    parseWitnessKey(arg)
    return arg.trim()
  } catch {
    /* not a key string: a file */
  }
  const vkey = (await readFile(arg, 'utf8')).trim()
  parseWitnessKey(vkey)
  return vkey
}

/** Progress bars appear only for large bundles, only for a person at a terminal. */
function progressBar(enabled: boolean): { onProgress?: (p: VerifyProgress) => void; stop(): void } {
  if (!enabled) return { stop() {} }
  const bar = new cliProgress.SingleBar(
    { stream: process.stderr, format: '{phase} {bar} {value}/{total} | {eta_formatted} left', hideCursor: true },
    cliProgress.Presets.shades_classic,
  )
  let phase: string | null = null
  return {
    onProgress(p) {
      if (p.total < 1000) return
      if (phase !== p.phase) {
        if (phase) bar.stop()
        bar.start(p.total, 0, { phase: p.phase.padEnd(10) })
        phase = p.phase
      }
      bar.update(p.done)
    },
    stop() {
      if (phase) bar.stop()
    },
  }
}

export async function verifyCommand(file: string, o: VerifyOptions): Promise<number> {
  const engine = (o.engine ?? 'webcrypto') as EngineName
  if (engine !== 'webcrypto' && engine !== 'noble') {
    complain(`--engine must be webcrypto or noble, got ${JSON.stringify(o.engine)}`)
    return 2
  }
  const maxBytes = o.maxSize === undefined ? DEFAULT_MAX_BUNDLE_BYTES : Math.floor(Number(o.maxSize) * 1024 * 1024)
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) {
    complain(`--max-size must be a positive number of MiB, got ${JSON.stringify(o.maxSize)}`)
    return 2
  }
  let key: { vkey: string; source: string } | undefined
  if (o.key !== undefined) {
    try {
      key = await resolveKeyArg(o.key)
    } catch (e) {
      complain(
        `--key is neither a ledger verifier key ("name+keyid+base64") nor a file holding one: ${(e as Error).message}`,
      )
      return 2
    }
  }
  let partitionKeys: Record<number, string> | undefined
  for (const arg of o.partitionKey ?? []) {
    const m = /^(\d{1,2})=(.+)$/s.exec(arg)
    if (!m) {
      complain(
        `--partition-key must be <partition>=<verifier key or file>, e.g. 0=cluster/partitions/p0/ledger.vkey; got ${JSON.stringify(arg)}`,
      )
      return 2
    }
    try {
      ;(partitionKeys ??= {})[Number(m[1])] = (await resolveKeyArg(m[2])).vkey
    } catch (e) {
      complain(
        `--partition-key ${m[1]}= is neither a ledger verifier key nor a file holding one: ${(e as Error).message}`,
      )
      return 2
    }
  }
  let witnesses: string[] | undefined
  if (o.witness?.length) {
    try {
      witnesses = await Promise.all(o.witness.map(resolveWitnessArg))
    } catch (e) {
      complain(
        `--witness is neither a witness verifier key ("name+keyid+base64" of type 0x04) nor a file holding one: ${(e as Error).message}`,
      )
      return 2
    }
  }
  let bytes: Uint8Array
  try {
    // The size is checked on the file, before a byte of it is read into memory.
    const big = refuseSize((await stat(file)).size, maxBytes)
    if (big) {
      complain(`${file} refused (BUNDLE_TOO_LARGE): ${big.message}`)
      return 2
    }
    bytes = new Uint8Array(await readFile(file))
  } catch (e) {
    complain(`cannot read ${file}: ${(e as Error).message}`)
    return 2
  }
  const refused = refuseInput(bytes, maxBytes)
  if (refused) {
    complain(`${file} refused (${refused.code}): ${refused.message}`)
    return 2
  }
  const bar = progressBar((o.progress ?? true) && !o.json && process.stderr.isTTY === true)
  let report: VerifyReport
  try {
    report = await verifyBundle(bytes, {
      trustedKey: key?.vkey,
      trustedKeySource: key?.source,
      witnesses,
      engine,
      ...(partitionKeys ? { partitionKeys } : {}),
      onProgress: bar.onProgress,
      maxBytes,
      // One worker thread per core for the reading signatures (the pre-built CLI only; the report is the same).
      spreadSignatures: verifyThreads(),
    })
  } catch (e) {
    // The verifier reports every finding in its report; an exception is a bug, still said in one line.
    complain(`${file} could not be checked: ${(e as Error).message}`)
    return 2
  } finally {
    bar.stop()
  }
  process.stdout.write(o.json ? jsonForTerminal(JSON.stringify(report, null, 2)) + '\n' : formatReport(report))
  // The report names the problems; this line names the file they are in (several files may be checked in one script).
  if (!report.verified) complain(`${file}: not verified (the failed checks are listed above)`)
  return report.verified ? 0 : 1
}

export function register(program: Command): void {
  program
    .command('verify')
    .description(
      'verify a shipment evidence bundle offline: signatures, device chains, inclusion proofs, checkpoint, profile hash, recomputed result',
    )
    .argument('<bundle>', 'evidence bundle file (JSON, docs/BUNDLE.md)')
    .option(
      '--key <vkey-or-file>',
      'the ledger\'s published verifier key "name+keyid+base64", or a file holding it; without it the result is NOT VERIFIED',
    )
    .option(
      '--partition-key <k=vkey-or-file...>',
      "a partitioned bundle (cluster mode): pin partition k's log key too (repeatable); --key is then the root log's key",
    )
    .option(
      '--witness <vkey-or-file...>',
      'require a valid tlog-cosignature from this witness on the bundle\'s checkpoint (repeatable); its verifier key "name+keyid+base64", or a file holding it',
    )
    .option(
      '--engine <engine>',
      'Ed25519 engine: webcrypto (platform, fast) or noble (pure JavaScript, fully independent)',
      'webcrypto',
    )
    .option('--json', 'print the report as JSON')
    .option(
      '--max-size <MiB>',
      `refuse a bundle file larger than this, unread (default ${DEFAULT_MAX_BUNDLE_BYTES / 1024 / 1024})`,
    )
    .option('--no-progress', 'no progress bar')
    .action(async (file: string, o: VerifyOptions) => {
      process.exitCode = await verifyCommand(file, o)
    })
}
