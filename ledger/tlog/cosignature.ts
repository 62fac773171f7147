/**
 * C2SP tlog-cosignature (https://c2sp.org/tlog-cosignature), Ed25519 type:
 * a witness's note signature over a checkpoint, "cosignature/v1\ntime <t>\n"
 * followed by the checkpoint body, carried as `— <name> base64(keyid ||
 * u64 timestamp || signature)` with key id SHA-256(name || 0x0A || 0x04 ||
 * public key)[:4]. Witness verifier keys are vkeys of signature type 0x04.
 * Pure (noble by default), so the browser's verifier checks cosignatures too.
 */
import * as ed from '@noble/ed25519'
import { sha256 } from '@noble/hashes/sha2.js'
import { checkKeyName, nobleNoteVerify, parseNote, type SignatureVerifier } from './note.ts'
import { concatBytes, fromBase64, toBase64, toHex, utf8 } from '../protocol/index.ts'

/** tlog-cosignature: the signature type byte of Ed25519 cosignatures (key ids and vkeys). */
export const SIG_TYPE_COSIGNATURE_V1 = 0x04
const SIG_PREFIX = '\u2014 '

export const COSIGNATURE_ERROR_CODES = {
  ERR_COSIGNATURE_BAD_KEY:
    'a witness key string is not "name+keyid+base64(0x04 ‖ 32-byte Ed25519 key)" with a matching key id',
  ERR_COSIGNATURE_MISSING: 'the checkpoint carries no cosignature from the witness key',
  ERR_COSIGNATURE_INVALID:
    'a cosignature from the witness key does not verify over the checkpoint (altered, or made over another checkpoint)',
} as const
export type CosignatureErrorCode = keyof typeof COSIGNATURE_ERROR_CODES

export class CosignatureError extends Error {
  readonly code: CosignatureErrorCode
  readonly details: Readonly<Record<string, unknown>>
  constructor(code: CosignatureErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(message)
    this.name = 'CosignatureError'
    this.code = code
    this.details = details
  }
}

export interface WitnessKey {
  name: string
  keyId: Uint8Array
  publicKey: Uint8Array
}

export function cosignerKeyId(name: string, publicKey: Uint8Array): Uint8Array {
  checkKeyName(name)
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== 32)
    throw new CosignatureError('ERR_COSIGNATURE_BAD_KEY', 'an Ed25519 witness public key is 32 bytes')
  return sha256(concatBytes(utf8(name), Uint8Array.of(0x0a, SIG_TYPE_COSIGNATURE_V1), publicKey)).slice(0, 4)
}

/** The witness's verifier key, "name+hex(keyid)+base64(0x04 || pub)". */
export function witnessVerifierKey(name: string, publicKey: Uint8Array): string {
  return `${name}+${toHex(cosignerKeyId(name, publicKey))}+${toBase64(concatBytes(Uint8Array.of(SIG_TYPE_COSIGNATURE_V1), publicKey))}`
}

function splitKey(s: string): [string, string, string] {
  const a = s.indexOf('+'),
    b = a < 0 ? -1 : s.indexOf('+', a + 1)
  if (a < 0 || b < 0)
    throw new CosignatureError(
      'ERR_COSIGNATURE_BAD_KEY',
      `witness key must be "name+keyid+key", got ${JSON.stringify(s.slice(0, 80))}`,
    )
  return [s.slice(0, a), s.slice(a + 1, b), s.slice(b + 1)]
}

function keyMaterial(
  name: string,
  id: string,
  b64: string,
  what: string,
): { name: string; keyId: Uint8Array; key: Uint8Array } {
  try {
    checkKeyName(name)
  } catch (e) {
    throw new CosignatureError('ERR_COSIGNATURE_BAD_KEY', `${what}: ${(e as Error).message}`)
  }
  if (!/^[0-9a-f]{8}$/.test(id))
    throw new CosignatureError(
      'ERR_COSIGNATURE_BAD_KEY',
      `${what}: key id must be 8 lowercase hex digits, got ${JSON.stringify(id)}`,
    )
  let raw: Uint8Array
  try {
    raw = fromBase64(b64)
  } catch {
    throw new CosignatureError('ERR_COSIGNATURE_BAD_KEY', `${what}: the key is not base64`)
  }
  if (toBase64(raw) !== b64)
    throw new CosignatureError('ERR_COSIGNATURE_BAD_KEY', `${what}: the key is not canonical base64`)
  if (raw[0] !== SIG_TYPE_COSIGNATURE_V1)
    throw new CosignatureError(
      'ERR_COSIGNATURE_BAD_KEY',
      `${what}: key type 0x${(raw[0] ?? 0).toString(16).padStart(2, '0')} is not a cosignature/v1 key (0x04)${raw[0] === 0x01 ? '; this looks like a log key, not a witness key' : ''}`,
    )
  if (raw.length !== 33)
    throw new CosignatureError('ERR_COSIGNATURE_BAD_KEY', `${what}: an Ed25519 key is 32 bytes, got ${raw.length - 1}`)
  return { name, keyId: Uint8Array.from([0, 2, 4, 6].map((i) => parseInt(id.slice(i, i + 2), 16))), key: raw.slice(1) }
}

export function parseWitnessKey(vkey: string): WitnessKey {
  if (typeof vkey !== 'string')
    throw new CosignatureError('ERR_COSIGNATURE_BAD_KEY', `witness key expected a string, got ${typeof vkey}`)
  const { name, keyId, key } = keyMaterial(...splitKey(vkey.trim()), 'witness key')
  if (toHex(cosignerKeyId(name, key)) !== toHex(keyId))
    throw new CosignatureError(
      'ERR_COSIGNATURE_BAD_KEY',
      `witness key id ${toHex(keyId)} does not match its name and key (expected ${toHex(cosignerKeyId(name, key))})`,
    )
  return { name, keyId, publicKey: key }
}

/** "PRIVATE+KEY+name+keyid+base64(0x04 || seed)": the witness's signer key file. */
export function witnessSignerKey(name: string, seed: Uint8Array): string {
  return `PRIVATE+KEY+${name}+${toHex(cosignerKeyId(name, ed.getPublicKey(seed)))}+${toBase64(concatBytes(Uint8Array.of(SIG_TYPE_COSIGNATURE_V1), seed))}`
}

export function parseWitnessSignerKey(skey: string): WitnessKey & { seed: Uint8Array } {
  if (typeof skey !== 'string' || !skey.trim().startsWith('PRIVATE+KEY+'))
    throw new CosignatureError('ERR_COSIGNATURE_BAD_KEY', 'witness signer key must start with "PRIVATE+KEY+"')
  const { name, keyId, key } = keyMaterial(...splitKey(skey.trim().slice('PRIVATE+KEY+'.length)), 'witness signer key')
  const publicKey = ed.getPublicKey(key)
  if (toHex(cosignerKeyId(name, publicKey)) !== toHex(keyId))
    throw new CosignatureError(
      'ERR_COSIGNATURE_BAD_KEY',
      `witness signer key id ${toHex(keyId)} does not match its key`,
    )
  return { name, keyId, publicKey, seed: key }
}

/** The message a cosignature signs: "cosignature/v1\ntime <t>\n" || checkpoint body. */
export function cosignedMessage(checkpointText: string, timestamp: number): Uint8Array {
  if (!Number.isSafeInteger(timestamp) || timestamp < 0)
    throw new RangeError(`cosignature timestamp must be a non-negative safe integer of seconds, got ${timestamp}`)
  return utf8(`cosignature/v1\ntime ${timestamp}\n${checkpointText}`)
}

/** One cosignature line ("— name base64(keyid || timestamp || sig)\n") over the checkpoint body. */
export function cosignatureLine(
  checkpointText: string,
  key: { name: string; publicKey: Uint8Array },
  sign: (m: Uint8Array) => Uint8Array,
  timestamp: number,
): string {
  const sig = sign(cosignedMessage(checkpointText, timestamp))
  const ts = new Uint8Array(8)
  new DataView(ts.buffer).setBigUint64(0, BigInt(timestamp))
  return `${SIG_PREFIX}${key.name} ${toBase64(concatBytes(cosignerKeyId(key.name, key.publicKey), ts, sig))}\n`
}

/** Appends signature lines to a signed note (a witness's response moved onto the log's checkpoint). */
export function addSignatureLines(note: string, lines: string): string {
  const have = new Set(
    note
      .slice(note.lastIndexOf('\n\n') + 2)
      .split('\n')
      .filter(Boolean),
  )
  const add = lines.split('\n').filter((l) => l !== '' && !have.has(l))
  return add.length ? note + add.map((l) => `${l}\n`).join('') : note
}

/**
 * Verifies that the signed note `note` carries a valid cosignature by the
 * witness `vkey` and returns its timestamp (seconds). Lines of other keys are
 * ignored; a line of this key that does not verify is an error (as
 * signed-note treats a bad signature by a trusted key). Throws CosignatureError.
 */
export async function verifyCosignature(
  note: string,
  vkey: string,
  verify: SignatureVerifier = nobleNoteVerify,
): Promise<{ timestamp: number }> {
  const key = parseWitnessKey(vkey)
  const { text, signatures } = parseNote(note)
  let found: number | undefined
  for (const s of signatures) {
    if (s.name !== key.name || toHex(s.keyId) !== toHex(key.keyId)) continue
    const who = `${key.name}+${toHex(key.keyId)}`
    if (s.signature.length !== 8 + 64)
      throw new CosignatureError(
        'ERR_COSIGNATURE_INVALID',
        `the cosignature by ${who} is ${s.signature.length} bytes; a timestamp and an Ed25519 signature are 72`,
        { witness: who },
      )
    const timestamp = new DataView(s.signature.buffer, s.signature.byteOffset, 8).getBigUint64(0)
    if (timestamp > BigInt(Number.MAX_SAFE_INTEGER))
      throw new CosignatureError('ERR_COSIGNATURE_INVALID', `the cosignature by ${who} has an out-of-range timestamp`, {
        witness: who,
      })
    if (!(await verify(s.signature.slice(8), cosignedMessage(text, Number(timestamp)), key.publicKey))) {
      throw new CosignatureError(
        'ERR_COSIGNATURE_INVALID',
        `the cosignature by ${who} does not verify over this checkpoint`,
        { witness: who },
      )
    }
    found = Math.max(found ?? 0, Number(timestamp))
  }
  if (found === undefined)
    throw new CosignatureError(
      'ERR_COSIGNATURE_MISSING',
      `the checkpoint carries no cosignature by witness ${key.name}+${toHex(key.keyId)}`,
      { witness: `${key.name}+${toHex(key.keyId)}` },
    )
  return { timestamp: found }
}
