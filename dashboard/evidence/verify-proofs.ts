/**
 * The log proofs: the ledger key (pinned by the user, or only the bundle's
 * own), the checkpoint's C2SP signature, and every entry's RFC 6962 inclusion
 * proof against the checkpoint's root. Pure.
 */
import { leafHash, memoNodeHash, verifyInclusion, MerkleError } from '../../ledger/tlog/index.ts'
import { parseNote, parseVerifierKey } from '../../ledger/tlog/index.ts'
import { parseCheckpoint, verifyCheckpoint, type Checkpoint } from '../../ledger/tlog/index.ts'
import { toBase64 } from '../../ledger/protocol/index.ts'
import type { EvidenceBundle } from './format.ts'
import { verifyCosignature, CosignatureError } from '../../ledger/tlog/index.ts'
import { isObj, readingRef, strictBase64, type Parsed } from './verify-entries.ts'
import type { Engine } from './verify-engines.ts'
import type { Checks, VerifyOptions, VerifyReport } from './verify-report.ts'

/** Checks the ledger key and the checkpoint signature; returns the checkpoint when it parses. */
export async function checkCheckpoint(
  b: EvidenceBundle,
  opts: VerifyOptions,
  report: VerifyReport,
  checks: Checks,
  engine: Engine,
): Promise<Checkpoint | null> {
  const bundleKey = isObj(b.ledger) && typeof b.ledger.verifierKey === 'string' ? b.ledger.verifierKey : null
  let keyUsed: string | null = null
  if (opts.trustedKey !== undefined) {
    try {
      parseVerifierKey(opts.trustedKey)
      keyUsed = opts.trustedKey.trim()
      report.ledgerKey = { pinned: true, verifierKey: keyUsed, source: opts.trustedKeySource ?? 'supplied by the user' }
      checks.summary('ledger-key', `pinned: ${keyUsed} (${report.ledgerKey.source})`)
      if (bundleKey !== null && bundleKey !== keyUsed)
        checks.note('ledger-key', `the bundle names another key (${bundleKey}); it is ignored`)
    } catch (e) {
      checks.fail('ledger-key', {
        code: 'LEDGER_KEY_INVALID',
        message: `the trusted key is not a verifier key: ${(e as Error).message}`,
      })
    }
  } else {
    keyUsed = bundleKey
    report.ledgerKey = { pinned: false, verifierKey: bundleKey, source: 'the bundle itself (not trusted)' }
    checks.fail('ledger-key', {
      code: 'LEDGER_KEY_NOT_PINNED',
      message:
        "NOT PINNED — the checkpoint was checked only against the key inside the bundle, which proves nothing about who signed it; pin the ledger's published key (--key)",
    })
  }
  let cp: Checkpoint | null = null
  try {
    const { text } = parseNote(b.checkpoint)
    cp = parseCheckpoint(text)
  } catch (e) {
    checks.fail('checkpoint', {
      code: 'CHECKPOINT_MALFORMED',
      message: `the checkpoint is not a signed tlog-checkpoint: ${(e as Error).message}`,
    })
  }
  if (cp) {
    report.checkpoint = { origin: cp.origin, size: cp.size, rootHash: toBase64(cp.rootHash) }
    if (!keyUsed) {
      checks.fail('checkpoint', {
        code: 'CHECKPOINT_SIGNATURE',
        message: 'no ledger key to check the checkpoint signature against',
      })
    } else {
      try {
        await verifyCheckpoint(b.checkpoint, keyUsed, {
          origin: parseVerifierKey(keyUsed).name,
          verify: engine.noteVerify,
        })
        checks.summary(
          'checkpoint',
          `signed by ${parseVerifierKey(keyUsed).name}: tree size ${cp.size}, root ${toBase64(cp.rootHash)}${report.ledgerKey.pinned ? '' : ' (key from the bundle only)'}`,
        )
      } catch (e) {
        const code = (e as { code?: string }).code
        checks.fail('checkpoint', {
          code: 'CHECKPOINT_SIGNATURE',
          message: `${code ? `${code}: ` : ''}${(e as Error).message}`,
        })
      }
    }
  }
  if (opts.witnesses?.length) await checkCosignatures(b.checkpoint, opts.witnesses, report, checks, engine)
  return cp
}

/** Every required witness has a valid tlog-cosignature/v1 on the checkpoint (ledger/tlog/cosignature.ts). */
async function checkCosignatures(
  note: unknown,
  witnesses: string[],
  report: VerifyReport,
  checks: Checks,
  engine: Engine,
): Promise<void> {
  report.cosignatures = []
  for (const w of witnesses) {
    const entry: { witness: string; timestamp: number | null } = { witness: w.trim(), timestamp: null }
    report.cosignatures.push(entry)
    try {
      entry.timestamp = (await verifyCosignature(String(note), w, engine.noteVerify)).timestamp
      checks.note(
        'checkpoint',
        `cosigned by witness ${w.trim().split('+')[0]} at ${new Date(entry.timestamp * 1000).toISOString()}`,
      )
    } catch (e) {
      const code =
        e instanceof CosignatureError
          ? (
              {
                ERR_COSIGNATURE_BAD_KEY: 'WITNESS_KEY_INVALID',
                ERR_COSIGNATURE_MISSING: 'COSIGNATURE_MISSING',
                ERR_COSIGNATURE_INVALID: 'COSIGNATURE_INVALID',
              } as const
            )[e.code]
          : 'COSIGNATURE_INVALID'
      checks.fail('checkpoint', { code, message: (e as Error).message })
    }
  }
}

/** Checks every entry's inclusion proof against the checkpoint (or marks the check not done). */
export function checkInclusion(cp: Checkpoint | null, all: Parsed[], opts: VerifyOptions, checks: Checks): void {
  if (cp) {
    let done = 0
    // Every proof leads to the same root: each shared upper node is hashed once.
    const hashNode = memoNodeHash()
    // The same upper hashes recur in most proofs: each distinct string is decoded once.
    const decoded = new Map<unknown, Uint8Array | null>()
    const hashOf = (s: unknown) => {
      let h = decoded.get(s)
      if (h === undefined) {
        h = strictBase64(s)
        decoded.set(s, h)
      }
      return h
    }
    for (const p of all) {
      if (p.bytes) {
        const proof = p.ref.proof.map(hashOf)
        if (proof.some((h) => h === null)) {
          checks.fail('inclusion', {
            code: 'INCLUSION_FAILED',
            message: `${p.role} entry ${p.index}: a proof hash is not canonical base64`,
            entryIndex: p.index,
          })
        } else {
          try {
            verifyInclusion(leafHash(p.bytes), p.index, cp.size, proof as Uint8Array[], cp.rootHash, hashNode)
          } catch (e) {
            const why = e instanceof MerkleError ? `${e.code}: ${e.message}` : (e as Error).message
            checks.fail('inclusion', {
              code: 'INCLUSION_FAILED',
              message: `${p.role} entry ${p.index} is not in the checkpoint's tree as given (${why})`,
              entryIndex: p.index,
              ...readingRef(p),
            })
          }
        }
      } else {
        checks.fail('inclusion', {
          code: 'INCLUSION_FAILED',
          message: `${p.role} entry ${p.index} has no decodable bytes to prove`,
          entryIndex: p.index,
        })
      }
      if (++done % 256 === 0 || done === all.length) opts.onProgress?.({ phase: 'inclusion', done, total: all.length })
    }
    if (checks.ok('inclusion')) checks.summary('inclusion', `${all.length} entries are in the log of size ${cp.size}`)
  } else {
    const c = checks.map.get('inclusion')!
    c.ok = false
    c.summary = 'not checked: no readable checkpoint'
  }
}
