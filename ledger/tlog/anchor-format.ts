/**
 * The record format of `checkpoints.log`, the ledger's anchor outside the
 * database (docs/ARCHITECTURE.md, "The anchor"). Each record is one signed
 * checkpoint note (C2SP tlog-checkpoint + signed-note), framed by a header
 * line that makes a torn or damaged record recognisable:
 *
 *   checkpoint <tree size> <note length in bytes> <SHA-256 hex of the note>\n
 *   <the note, exactly that many bytes, ending in \n>
 *
 * Records only ever get appended. A last record cut short by a crash (header
 * or note incomplete, or its hash wrong with nothing valid after it) is a torn
 * tail: it was never fsynced as complete, so no receipt relied on it, and the
 * writer cuts it off before appending. A bad record followed by a valid one
 * is damage (parsing goes on after it, so the latest record is still found).
 * Pure.
 */
import { sha256 } from '@noble/hashes/sha2.js'
import { toHex } from '../protocol/index.ts'

export interface AnchorRecord {
  /** Byte offset of the header line in the file (or in the bytes parsed). */
  offset: number
  /** Byte offset just past the record. */
  end: number
  size: number
  note: string
}

export interface ParsedAnchors {
  records: AnchorRecord[]
  /** Offset where a torn last record starts (cut it off before appending). */
  tornTailAt?: number
  /** Offset of a damaged record that valid records follow. */
  damagedAt?: number
}

const enc = new TextEncoder()
const dec = new TextDecoder('utf-8', { fatal: true })
const MAGIC = 'checkpoint '
const MAGIC_BYTES = enc.encode(MAGIC)
const HEADER = /^checkpoint (0|[1-9][0-9]{0,15}) ([1-9][0-9]{0,5}) ([0-9a-f]{64})$/
/** A header line is short; a longer run without a newline is not one. */
const MAX_HEADER = 120

export function encodeAnchorRecord(size: number, note: string): Uint8Array {
  if (!Number.isSafeInteger(size) || size < 0)
    throw new RangeError(`"size" expected a non-negative safe integer, got ${size}`)
  if (!note.endsWith('\n')) throw new RangeError('"note" expected a signed note ending in a newline')
  const body = enc.encode(note)
  const header = enc.encode(`checkpoint ${size} ${body.length} ${toHex(sha256(body))}\n`)
  const out = new Uint8Array(header.length + body.length)
  out.set(header)
  out.set(body, header.length)
  return out
}

/** The record starting at `o`, or undefined when the bytes there are not one whole valid record. */
function recordAt(bytes: Uint8Array, o: number): AnchorRecord | undefined {
  let nl = -1
  for (let i = o; i < Math.min(bytes.length, o + MAX_HEADER); i++)
    if (bytes[i] === 0x0a) {
      nl = i
      break
    }
  if (nl < 0) return undefined
  let header: string
  try {
    header = dec.decode(bytes.subarray(o, nl))
  } catch {
    return undefined
  }
  const m = HEADER.exec(header)
  if (!m) return undefined
  const length = Number(m[2])
  const end = nl + 1 + length
  if (end > bytes.length) return undefined
  const body = bytes.subarray(nl + 1, end)
  if (toHex(sha256(body)) !== m[3] || body[body.length - 1] !== 0x0a) return undefined
  let note: string
  try {
    note = dec.decode(body)
  } catch {
    return undefined
  }
  return { offset: o, end, size: Number(m[1]), note }
}

/** Offsets of possible record starts at or after `from`: the file start or just after a newline. */
function nextCandidate(bytes: Uint8Array, from: number): number {
  for (let i = from; i <= bytes.length - MAGIC_BYTES.length; i++) {
    if ((i === 0 || bytes[i - 1] === 0x0a) && MAGIC_BYTES.every((b, k) => bytes[i + k] === b)) return i
  }
  return -1
}

/**
 * Parses anchor records. With `fromStart` false, `bytes` is a window of the
 * file's end: parsing starts at the first whole record in it.
 */
export function parseAnchorRecords(
  bytes: Uint8Array,
  { fromStart = true }: { fromStart?: boolean } = {},
): ParsedAnchors {
  const out: ParsedAnchors = { records: [] }
  let o = 0
  if (!fromStart) {
    o = nextCandidate(bytes, 0)
    while (o >= 0 && !recordAt(bytes, o)) o = nextCandidate(bytes, o + 1)
    if (o < 0) return out
  }
  while (o < bytes.length) {
    const r = recordAt(bytes, o)
    if (r) {
      out.records.push(r)
      o = r.end
      continue
    }
    // Not a valid record here: damage if a valid one follows, else a torn tail.
    let next = nextCandidate(bytes, o + 1)
    while (next >= 0 && !recordAt(bytes, next)) next = nextCandidate(bytes, next + 1)
    if (next < 0) {
      out.tornTailAt = o
      return out
    }
    out.damagedAt ??= o
    o = next
  }
  return out
}
