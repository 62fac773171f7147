/**
 * A hostile ledger operator for the tamper suite: it takes the entries of a
 * genuine bundle and writes them into a log of its own, in an order of its
 * choosing (entries renumbered and hash-linked again, a fresh Merkle tree, a
 * checkpoint signed by its own key), so every proof checks out under that key.
 * The verifier must still refuse what a real ledger never writes.
 */
import { sha256, sha512 } from '@noble/hashes/sha2.js'
import * as ed from '@noble/ed25519'
import { encodeEntry, entryHash, GENESIS_PREV } from '../../../ledger/tlog/index.ts'
import type { Entry } from '../../../ledger/tlog/index.ts'
import { inclusionProof, leafHash, nodeReaderFromLeaves, rootFromLeaves } from '../../../ledger/tlog/index.ts'
import { formatCheckpoint } from '../../../ledger/tlog/index.ts'
import { signNote, verifierKey } from '../../../ledger/tlog/index.ts'
import { fromBase64, toBase64, utf8 } from '../../../ledger/protocol/index.ts'
import { entryRefs, type EntryRef, type EvidenceBundle } from '../format.ts'

ed.hashes.sha512 ??= sha512

export interface LoggedRef {
  ref: EntryRef
  entry: Entry
  role: string
}

const decode = (r: EntryRef): Entry => JSON.parse(new TextDecoder().decode(fromBase64(r.entry))) as Entry

/**
 * Re-logs the bundle's entries in the order `arrange` returns (it may change entries or add
 * new refs it has placed in the bundle); returns the rewritten bundle and the operator's key.
 */
export async function relog(
  b: EvidenceBundle,
  arrange: (list: LoggedRef[]) => LoggedRef[],
): Promise<{ bundle: EvidenceBundle; key: string }> {
  const list = entryRefs(b)
    .map(({ ref, role }) => ({ ref, role, entry: decode(ref) }))
    .sort((x, y) => x.ref.index - y.ref.index)
  const ordered = arrange(list)
  const leaves: Uint8Array[] = []
  let prev = GENESIS_PREV
  ordered.forEach((x, i) => {
    const bytes = encodeEntry({ ...x.entry, index: i, prev })
    prev = entryHash(bytes)
    x.ref.index = i
    x.ref.entry = toBase64(bytes)
    leaves.push(leafHash(bytes))
  })
  const read = nodeReaderFromLeaves(leaves)
  for (const [i, x] of ordered.entries()) x.ref.proof = (await inclusionProof(i, leaves.length, read)).map(toBase64)
  const origin = 'mallory.example/ledger'
  const seed = sha256(utf8('hostile ledger operator'))
  const pub = ed.getPublicKey(seed)
  b.checkpoint = signNote(
    formatCheckpoint({ origin, size: leaves.length, rootHash: rootFromLeaves(leaves) }),
    origin,
    (m) => ed.sign(m, seed),
    pub,
  )
  b.ledger = { origin, verifierKey: verifierKey(origin, pub) }
  return { bundle: b, key: b.ledger.verifierKey }
}

/** Moves the first entry matching `pick` to just after the last entry matching `after`. */
export function moveAfter(
  list: LoggedRef[],
  pick: (x: LoggedRef) => boolean,
  after: (x: LoggedRef) => boolean,
): LoggedRef[] {
  const moving = list.filter(pick)
  const rest = list.filter((x) => !pick(x))
  let at = -1
  rest.forEach((x, i) => {
    if (after(x)) at = i
  })
  return [...rest.slice(0, at + 1), ...moving, ...rest.slice(at + 1)]
}
