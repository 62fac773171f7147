/**
 * `coldproof verify-consistency <old> <new> <proof>`: proves that the ledger
 * only grew between two signed checkpoints (RFC 9162 2.1.4.2 consistency
 * proof), e.g. the checkpoints of two evidence bundles or reports. The
 * server hands out the proof at GET /api/ledger/consistency?from=<old size>&to=<new size>.
 *
 * A checkpoint file holds a signed checkpoint note, or is an evidence bundle
 * (its "checkpoint" is used). The proof file holds one base64 hash per line,
 * or the JSON the server answers ({ "proof": [...] }). docs/BUNDLE.md.
 *
 * Exit code: 0 consistent and both checkpoints signed by the pinned key;
 * 1 not; 2 could not be checked.
 */
import { jsonForTerminal, terminalText } from '../../dashboard/common/unsafe-text.ts'
import type { Command } from 'commander'
import { readFile } from 'node:fs/promises'
import { verifyCheckpoint, parseCheckpoint, type Checkpoint } from '../../ledger/tlog/index.ts'
import { parseNote, parseVerifierKey } from '../../ledger/tlog/index.ts'
import { verifyConsistency } from '../../ledger/tlog/index.ts'
import { fromBase64, toBase64 } from '../../ledger/protocol/index.ts'
import { resolveKeyArg } from './verify.ts'

interface Options {
  key?: string
  json?: boolean
}

async function readCheckpointNote(file: string): Promise<string> {
  const text = await readFile(file, 'utf8')
  if (text.trimStart().startsWith('{')) {
    const j = JSON.parse(text) as { checkpoint?: unknown; note?: unknown }
    const note = typeof j.checkpoint === 'string' ? j.checkpoint : typeof j.note === 'string' ? j.note : null
    if (!note)
      throw new Error(`${file} is JSON without a "checkpoint" (bundle) or "note" (/api/ledger/checkpoint) field`)
    return note
  }
  return text
}

/** One base64 hash per line (blank lines ignored), or the server's JSON answer. */
export function parseConsistencyProof(text: string): Uint8Array[] {
  const lines = text.trimStart().startsWith('{')
    ? (((JSON.parse(text) as { proof?: unknown }).proof as unknown[]) ?? [])
    : text
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l !== '')
  return lines.map((l, i) => {
    let h: Uint8Array | undefined
    try {
      h = typeof l === 'string' ? fromBase64(l) : undefined
    } catch {
      /* below */
    }
    if (h?.length !== 32 || toBase64(h) !== l)
      throw new Error(`proof line ${i + 1} is not the base64 of a 32-byte hash`)
    return h
  })
}

export async function verifyConsistencyCommand(
  oldFile: string,
  newFile: string,
  proofFile: string,
  o: Options,
): Promise<number> {
  let notes: [string, string], proof: Uint8Array[], key: { vkey: string; source: string } | undefined
  try {
    notes = [await readCheckpointNote(oldFile), await readCheckpointNote(newFile)]
    proof = parseConsistencyProof(await readFile(proofFile, 'utf8'))
    if (o.key !== undefined) key = await resolveKeyArg(o.key)
  } catch (e) {
    process.stderr.write(terminalText(`verify-consistency: ${(e as Error).message}\n`))
    return 2
  }
  const out: {
    consistent: boolean
    pinned: boolean
    old?: { size: number; rootHash: string }
    new?: { size: number; rootHash: string }
    failures: string[]
  } = { consistent: false, pinned: key !== undefined, failures: [] }
  const cps: (Checkpoint | null)[] = []
  for (const [i, note] of notes.entries()) {
    const which = i === 0 ? 'old' : 'new'
    try {
      cps.push(
        key
          ? await verifyCheckpoint(note, key.vkey, { origin: parseVerifierKey(key.vkey).name })
          : parseCheckpoint(parseNote(note).text),
      )
    } catch (e) {
      out.failures.push(`${which} checkpoint: ${(e as { code?: string }).code ?? 'ERR'}: ${(e as Error).message}`)
      cps.push(null)
    }
  }
  const [a, b] = cps
  if (a && b) {
    out.old = { size: a.size, rootHash: toBase64(a.rootHash) }
    out.new = { size: b.size, rootHash: toBase64(b.rootHash) }
    if (a.origin !== b.origin) out.failures.push(`the checkpoints are of different logs: ${a.origin} and ${b.origin}`)
    try {
      verifyConsistency(a.size, b.size, a.rootHash, b.rootHash, proof)
    } catch (e) {
      out.failures.push(`consistency proof: ${(e as { code?: string }).code ?? 'ERR'}: ${(e as Error).message}`)
    }
  }
  if (!key)
    out.failures.push(
      "ledger key: NOT PINNED — the checkpoint signatures were not checked; pass --key with the ledger's published key",
    )
  out.consistent = out.failures.length === 0
  if (o.json) {
    process.stdout.write(jsonForTerminal(JSON.stringify(out, null, 2)) + '\n')
  } else if (out.consistent) {
    process.stdout.write(
      terminalText(
        `CONSISTENT — the log of size ${a!.size} is a prefix of the log of size ${b!.size}: it only grew\n  old root ${out.old!.rootHash}\n  new root ${out.new!.rootHash}\n  both checkpoints signed by ${key!.vkey} (${key!.source})\n`,
      ),
    )
  } else {
    process.stdout.write(
      terminalText(
        `NOT VERIFIED — consistency between the two checkpoints is not proven\n${out.failures.map((f) => `  ✘ ${f}`).join('\n')}\n`,
      ),
    )
  }
  return out.consistent ? 0 : 1
}

export function register(program: Command): void {
  program
    .command('verify-consistency')
    .description('prove the ledger only grew between two signed checkpoints (RFC 9162 consistency proof)')
    .argument('<old>', 'older checkpoint: a signed checkpoint note, or an evidence bundle')
    .argument('<new>', 'newer checkpoint: a signed checkpoint note, or an evidence bundle')
    .argument('<proof>', 'consistency proof: one base64 hash per line, or the JSON of GET /api/ledger/consistency')
    .option('--key <vkey-or-file>', "the ledger's published verifier key, or a file holding it")
    .option('--json', 'print the result as JSON')
    .action(async (oldFile: string, newFile: string, proofFile: string, o: Options) => {
      process.exitCode = await verifyConsistencyCommand(oldFile, newFile, proofFile, o)
    })
}
