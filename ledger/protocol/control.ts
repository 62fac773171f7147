/**
 * Ledger -> device control messages (docs/PROTOCOL.md, "Receipts and resend").
 *
 * receipt (37 bytes): 0x01 | u32 seq | 32-byte hash of that reading's payload.
 *   seq is the highest contiguous sequence the ledger has durably stored; the
 *   hash lets the device check the ledger holds exactly what it sent.
 * resend (9 bytes): 0x01 | u32 from | u32 to  (inclusive range, from <= to).
 */
import { ProtocolError } from './errors.ts'
import { HASH_LENGTH, MAX_SEQ } from './reading.ts'
import { abytes, aobject } from './bytes.ts'

export interface Receipt {
  seq: number
  hash: Uint8Array
}
export interface ResendRequest {
  from: number
  to: number
}

const bad = (msg: string): never => {
  throw new ProtocolError('ERR_CONTROL_MALFORMED', msg)
}

export function encodeReceipt(r: Receipt): Uint8Array {
  aobject(r, 'receipt')
  if (!Number.isInteger(r.seq) || r.seq < 0 || r.seq > MAX_SEQ)
    throw new RangeError(`receipt seq must be 0..${MAX_SEQ}, got ${r.seq}`)
  abytes(r.hash, HASH_LENGTH, 'hash')
  const out = new Uint8Array(5 + HASH_LENGTH)
  out[0] = 1
  new DataView(out.buffer).setUint32(1, r.seq)
  out.set(r.hash, 5)
  return out
}

export function decodeReceipt(b: Uint8Array): Receipt {
  if (!(b instanceof Uint8Array) || b.length !== 5 + HASH_LENGTH)
    return bad(`receipt must be ${5 + HASH_LENGTH} bytes, got ${b instanceof Uint8Array ? b.length : typeof b}`)
  if (b[0] !== 1) return bad(`receipt version ${b[0]} is unknown`)
  return { seq: new DataView(b.buffer, b.byteOffset).getUint32(1), hash: b.slice(5) }
}

export function encodeResend(r: ResendRequest): Uint8Array {
  aobject(r, 'resend request')
  if (!Number.isInteger(r.from) || !Number.isInteger(r.to) || r.from < 1 || r.to < r.from || r.to > MAX_SEQ) {
    throw new RangeError(`resend range must satisfy 1 <= from <= to <= ${MAX_SEQ}, got ${r.from}..${r.to}`)
  }
  const out = new Uint8Array(9)
  const dv = new DataView(out.buffer)
  out[0] = 1
  dv.setUint32(1, r.from)
  dv.setUint32(5, r.to)
  return out
}

export function decodeResend(b: Uint8Array): ResendRequest {
  if (!(b instanceof Uint8Array) || b.length !== 9)
    return bad(`resend request must be 9 bytes, got ${b instanceof Uint8Array ? b.length : typeof b}`)
  if (b[0] !== 1) return bad(`resend request version ${b[0]} is unknown`)
  const dv = new DataView(b.buffer, b.byteOffset)
  const from = dv.getUint32(1),
    to = dv.getUint32(5)
  if (from < 1 || to < from) return bad(`resend range ${from}..${to} is empty or starts below 1`)
  return { from, to }
}
