/**
 * Test support: builds the entries of a small ledger from real signed readings
 * (devices sign with @noble/ed25519, as the simulated firmware does) and a
 * real signed checkpoint, without any storage. Used by the codec and fsck
 * tests; not part of the ledger's public surface.
 */
import type { Entry, EntryBodies, EntryType } from '../entry-types.ts'
import { encodeEntry, entryHash, GENESIS_PREV } from '../entry-codec.ts'
import { assemblePayload, encodeRecord, type ReadingFields } from '../../protocol/reading.ts'
import { GENESIS_PREV_HASH, readingHash, readingSigningMessage } from '../../protocol/signing.ts'
import { toBase64, toHex } from '../../protocol/bytes.ts'
import { nobleSign, noblePublicKey } from '../../protocol/test/support.ts'
import { appendLeaf, leafHash, rootFromFrontier } from '../merkle.ts'
import { formatCheckpoint } from '../checkpoint.ts'
import { signNote, verifierKey } from '../note.ts'

export interface TestDevice {
  id: string
  seed: Uint8Array
  publicKey: Uint8Array
  seq: number
  prev: Uint8Array
}

export function testDevice(id: string, seedByte: number): TestDevice {
  const seed = new Uint8Array(32).fill(seedByte)
  return { id, seed, publicKey: noblePublicKey(seed), seq: 0, prev: GENESIS_PREV_HASH }
}

/** The next signed payload of `d` (advances its sequence and chain). */
export function signedReading(
  d: TestDevice,
  tempCentiC: number,
  deviceTimeMs: number,
  extra: Partial<ReadingFields> = {},
): Uint8Array {
  const record = encodeRecord({ deviceId: d.id, seq: d.seq + 1, deviceTimeMs, tempCentiC, prevHash: d.prev, ...extra })
  const payload = assemblePayload(record, nobleSign(readingSigningMessage(record), d.seed))
  d.seq++
  d.prev = readingHash(payload)
  return payload
}

export interface TestLedger {
  origin: string
  seed: Uint8Array
  publicKey: Uint8Array
  verifierKey: string
  entries: Uint8Array[]
  append<T extends EntryType>(type: T, body: EntryBodies[T], time?: number): Entry<T>
  /** Signs a checkpoint over the current entries and appends its 'checkpoint' entry. */
  checkpoint(): string
}

export function testLedger(origin = 'coldproof.test/ledger', seedByte = 77): TestLedger {
  const seed = new Uint8Array(32).fill(seedByte),
    publicKey = noblePublicKey(seed)
  const entries: Uint8Array[] = []
  let frontier: Uint8Array[] = []
  let prev = GENESIS_PREV
  const l: TestLedger = {
    origin,
    seed,
    publicKey,
    verifierKey: verifierKey(origin, publicKey),
    entries,
    append(type, body, time = 1_760_000_000_000 + entries.length) {
      const entry = { v: 1 as const, index: entries.length, type, time, prev, body }
      const bytes = encodeEntry(entry as Entry)
      frontier = appendLeaf(frontier, entries.length, leafHash(bytes)).frontier
      entries.push(bytes)
      prev = entryHash(bytes)
      return entry as Entry<typeof type>
    },
    checkpoint() {
      const rootHash = rootFromFrontier(frontier),
        size = entries.length
      const note = signNote(formatCheckpoint({ origin, size, rootHash }), origin, (m) => nobleSign(m, seed), publicKey)
      l.append('checkpoint', { size, rootHash: toBase64(rootHash), note })
      return note
    },
  }
  return l
}

export function registerBody(d: TestDevice): EntryBodies['device.register'] {
  return { deviceId: d.id, publicKey: toHex(d.publicKey), by: 'qa@coldproof.test' }
}

export function readingBody(payload: Uint8Array, d: { id: string }, seq: number): EntryBodies['reading'] {
  return { payload: toBase64(payload), deviceId: d.id, seq }
}
