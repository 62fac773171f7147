/**
 * The checker's signature checks: the ledger key it is given, checkpoint
 * entries and the latest checkpoint against the rebuilt tree, and the anchor
 * file (checkpoints.log) the store must reach.
 */
import { CheckpointError, verifyCheckpoint, type Checkpoint } from '../tlog/index.ts'
import type { CheckLedgerOptions, FsckReport, LedgerReader } from './fsck.ts'
import { stop } from './fsck-stop.ts'
import type { RebuiltTree } from './fsck-tree.ts'
import { NoteError, parseVerifierKey, verifierKey, type SignatureVerifier } from '../tlog/index.ts'
import { equalBytes, toBase64 } from '../protocol/index.ts'

/** The ledger's verifier key string and checkpoint origin, from the options; stops with ERR_FSCK_BAD_KEY when unusable. */
export function ledgerKeyOf(opts: CheckLedgerOptions): { vkey: string; origin: string } {
  let vkey: string, origin: string
  try {
    if (typeof opts.ledgerPublicKey === 'string') {
      vkey = opts.ledgerPublicKey.trim()
      origin = opts.origin ?? parseVerifierKey(vkey).name
    } else {
      if (!opts.origin) throw new Error('an origin is needed with a raw public key')
      vkey = verifierKey(opts.origin, opts.ledgerPublicKey)
      origin = opts.origin
    }
    parseVerifierKey(vkey)
  } catch (e) {
    return stop('ERR_FSCK_BAD_KEY', undefined, `ledger key: ${(e as Error).message}`)
  }
  return { vkey, origin }
}

export class CheckpointChecks {
  constructor(
    private readonly key: { vkey: string; origin: string },
    private readonly verifyNoteSig: SignatureVerifier,
    private readonly tree: RebuiltTree,
  ) {}

  /** A checkpoint entry: signed by the ledger, and its root is the tree's at its size. */
  async checkEntry(note: string, index: number): Promise<void> {
    const c = await this.#verify(note, index)
    await this.#checkRoot(c, index, 'this checkpoint entry')
  }

  /** The latest signed checkpoint signs the tree; without one, the anchor must (checked by checkAnchor). */
  async checkLatest(reader: LedgerReader, report: FsckReport): Promise<void> {
    const size = report.size
    let note: string | undefined
    try {
      note = await reader.latestCheckpoint()
    } catch (e) {
      stop('ERR_FSCK_READ', undefined, `cannot read the latest checkpoint: ${(e as Error).message}`)
    }
    if (note === undefined) {
      // No checkpoint entry yet (one is logged every 10 s): the anchor's checkpoint, checked below, may sign the log instead.
      const anchored = await reader.anchorCheckpoint?.().catch(() => undefined)
      if (size > 0 && anchored === undefined)
        stop(
          'ERR_FSCK_NO_CHECKPOINT',
          undefined,
          `the log has ${size} entries but no signed checkpoint: its root cannot be checked against the ledger's signature`,
        )
    } else {
      const c = await this.#verify(note, undefined)
      await this.#checkRoot(c, undefined, 'the latest checkpoint')
      report.checkpoint = { size: c.size, rootHash: toBase64(c.rootHash) }
      report.uncovered = size - c.size
    }
  }

  /** The store must reach the latest checkpoint of the anchor file with the same root. */
  async checkAnchor(reader: LedgerReader, report: FsckReport): Promise<void> {
    const { vkey, origin } = this.key
    const have = this.tree.size
    let note: string | undefined
    try {
      note = await reader.anchorCheckpoint?.()
    } catch (e) {
      return stop('ERR_FSCK_ANCHOR_DAMAGED', undefined, `checkpoints.log: ${(e as Error).message}`)
    }
    // Every checkpoint is appended to checkpoints.log before it is logged as an entry: the file reaches the latest one.
    const logged = report.checkpoint?.size
    if (reader.anchorCheckpoint && logged !== undefined && note === undefined) {
      return stop(
        'ERR_FSCK_ANCHOR_MISSING',
        undefined,
        `checkpoints.log is missing or empty, but the log holds a checkpoint entry of size ${logged}: the anchor outside the database was lost`,
        { loggedSize: logged },
      )
    }
    if (note === undefined) return
    let c: Checkpoint
    try {
      c = await verifyCheckpoint(note, vkey, { origin, verify: this.verifyNoteSig })
    } catch (e) {
      return stop(
        'ERR_FSCK_ANCHOR_DAMAGED',
        undefined,
        `the latest checkpoint in checkpoints.log does not verify: ${(e as Error).message}`,
      )
    }
    if (logged !== undefined && c.size < logged) {
      return stop(
        'ERR_FSCK_ANCHOR_MISSING',
        undefined,
        `checkpoints.log ends at a checkpoint of size ${c.size}, but the log holds a checkpoint entry of size ${logged}: records of checkpoints.log were lost`,
        { anchorSize: c.size, loggedSize: logged },
      )
    }
    if (c.size > have) {
      return stop(
        'ERR_FSCK_BEHIND_ANCHOR',
        have,
        `the log holds ${have} entries, but the latest checkpoint in checkpoints.log signs ${c.size}: entries ${have}..${c.size - 1} were lost from the database`,
        { size: have, anchorSize: c.size },
      )
    }
    const root = await this.tree.rootOfPrefix(c.size)
    if (!equalBytes(root, c.rootHash)) {
      return stop(
        'ERR_FSCK_ANCHOR_MISMATCH',
        undefined,
        `at size ${c.size} the entries hash to ${toBase64(root)}, but checkpoints.log signs ${toBase64(c.rootHash)}`,
        { size: c.size, expected: toBase64(c.rootHash), calculated: toBase64(root) },
      )
    }
    report.anchor = { size: c.size, rootHash: toBase64(c.rootHash) }
  }

  async #verify(note: string, index: number | undefined): Promise<Checkpoint> {
    const { vkey, origin } = this.key
    try {
      return await verifyCheckpoint(note, vkey, { origin, verify: this.verifyNoteSig })
    } catch (e) {
      if (e instanceof CheckpointError && e.code === 'ERR_CHECKPOINT_ORIGIN')
        return stop('ERR_FSCK_CHECKPOINT_ORIGIN', index, e.message, { ...e.details })
      if (e instanceof NoteError || e instanceof CheckpointError)
        return stop('ERR_FSCK_CHECKPOINT_SIGNATURE', index, `checkpoint does not verify under ${vkey}: ${e.message}`, {
          noteCode: e.code,
        })
      throw e
    }
  }

  async #checkRoot(c: Checkpoint, index: number | undefined, what: string): Promise<void> {
    const have = this.tree.size
    if (c.size > have)
      return stop(
        'ERR_FSCK_CHECKPOINT_SIZE',
        index,
        `${what} commits to ${c.size} entries, but only ${have} precede it`,
        { checkpointSize: c.size, size: have },
      )
    const root = await this.tree.rootOfPrefix(c.size)
    if (!equalBytes(root, c.rootHash)) {
      return stop(
        'ERR_FSCK_ROOT_MISMATCH',
        index,
        `${what} signs root ${toBase64(c.rootHash)} for size ${c.size}, but the entries hash to ${toBase64(root)}`,
        { size: c.size, expected: toBase64(c.rootHash), calculated: toBase64(root) },
      )
    }
  }
}
