/**
 * C2SP signed notes (https://c2sp.org/signed-note), Ed25519 signature type
 * 0x01: the envelope of the ledger's checkpoints. Wire-compatible with Go's
 * golang.org/x/mod/sumdb/note, so any standard note verifier reads them.
 * Pure; the default verifier is noble (runs in browsers), and callers may pass
 * another engine (the integrity checker passes Node's crypto).
 */
import * as ed from '@noble/ed25519'
import { sha256, sha512 } from '@noble/hashes/sha2.js'
import { concatBytes, fromBase64, toBase64, toHex, utf8 } from '../protocol/index.ts'
import { strictNobleVerifier, type SignatureVerifier } from '../protocol/index.ts'

export const NOTE_ERROR_CODES = {
  ERR_NOTE_MALFORMED:
    'the note is not a signed note: bad UTF-8, a control character, no blank line before the signatures, or a malformed signature line',
  ERR_NOTE_BAD_KEY:
    'a verifier or signer key string is malformed, has an unknown type or a key id that does not match its key',
  ERR_NOTE_BAD_NAME: 'a key name is empty or contains a space or "+"',
  ERR_NOTE_BAD_SIGNATURE: 'the signature of the trusted key does not verify over the note text',
  ERR_NOTE_UNVERIFIED: 'no signature in the note is from the trusted key',
  ERR_NOTE_TOO_MANY_SIGNATURES: 'the note has more signature lines than a verifier reads',
} as const
export type NoteErrorCode = keyof typeof NOTE_ERROR_CODES

export class NoteError extends Error {
  readonly code: NoteErrorCode
  readonly details: Readonly<Record<string, unknown>>
  constructor(code: NoteErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(message)
    this.name = 'NoteError'
    this.code = code
    this.details = details
  }
}

/** signed-note "Signature types": 0x01 is Ed25519. */
export const SIG_TYPE_ED25519 = 0x01
/** signed-note: verifiers MUST accept at least 16 signatures; Go's reader stops at 100. */
export const MAX_NOTE_SIGNATURES = 100
const SIG_PREFIX = '\u2014 ' // em dash, space

// noble's synchronous getPublicKey (signer keys) needs a SHA-512 (noble README, "Usage").
if (!ed.hashes.sha512) ed.hashes.sha512 = sha512

// The verifier type is the protocol's (signature, message, publicKey): one order for every Ed25519 check.
export type { SignatureVerifier } from '../protocol/index.ts'

/** Key names MUST be non-empty and contain no Unicode space and no '+'. */
export function checkKeyName(name: unknown): string {
  if (typeof name !== 'string' || name === '' || /[\s+]/u.test(name) || /[\u0000-\u001f]/.test(name)) {
    throw new NoteError(
      'ERR_NOTE_BAD_NAME',
      `key name must be non-empty without spaces, "+" or control characters, got ${JSON.stringify(name)}`,
      { name },
    )
  }
  return name
}

function checkPublicKey(publicKey: unknown): Uint8Array {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== 32) {
    throw new NoteError(
      'ERR_NOTE_BAD_KEY',
      `Ed25519 public key expected 32 bytes, got ${publicKey instanceof Uint8Array ? publicKey.length : typeof publicKey}`,
    )
  }
  return publicKey
}

/** key ID = SHA-256(key name || 0x0A || 0x01 || 32-byte public key)[:4] (signed-note, "Ed25519 signatures"). */
export function noteKeyId(name: string, publicKey: Uint8Array): Uint8Array {
  checkKeyName(name)
  checkPublicKey(publicKey)
  return sha256(concatBytes(utf8(name), Uint8Array.of(0x0a, SIG_TYPE_ED25519), publicKey)).slice(0, 4)
}

/** The verifier key string "name+hex(keyid)+base64(0x01 || pubkey)" that Go's note.NewVerifier reads. */
export function verifierKey(name: string, publicKey: Uint8Array): string {
  return `${name}+${toHex(noteKeyId(name, publicKey))}+${toBase64(concatBytes(Uint8Array.of(SIG_TYPE_ED25519), publicKey))}`
}

function decodeBase64Strict(s: string, what: string, code: NoteErrorCode): Uint8Array {
  // Canonical standard base64 only (RFC 4648 section 4): re-encoding must give the same text.
  let b: Uint8Array
  try {
    b = fromBase64(s)
  } catch {
    throw new NoteError(code, `${what} is not base64`, { value: s })
  }
  if (s === '' || toBase64(b) !== s) throw new NoteError(code, `${what} is not canonical standard base64`, { value: s })
  return b
}

/** Splits "name+hash+base64" at the first two '+' (the base64 may itself contain '+'). */
function splitKey(vkey: string): [string, string, string] {
  const a = vkey.indexOf('+'),
    b = a < 0 ? -1 : vkey.indexOf('+', a + 1)
  if (a < 0 || b < 0)
    throw new NoteError(
      'ERR_NOTE_BAD_KEY',
      `key string must be "name+keyid+key", got ${JSON.stringify(vkey.slice(0, 80))}`,
    )
  return [vkey.slice(0, a), vkey.slice(a + 1, b), vkey.slice(b + 1)]
}

function parseKeyMaterial(
  name: string,
  hash16: string,
  key64: string,
  isSigner: boolean,
): { name: string; keyId: Uint8Array; key: Uint8Array } {
  try {
    checkKeyName(name)
  } catch (e) {
    throw new NoteError('ERR_NOTE_BAD_KEY', (e as Error).message, { name })
  }
  if (!/^[0-9a-f]{8}$/.test(hash16))
    throw new NoteError('ERR_NOTE_BAD_KEY', `key id must be 8 lowercase hex digits, got ${JSON.stringify(hash16)}`, {
      name,
    })
  const raw = decodeBase64Strict(key64, 'key', 'ERR_NOTE_BAD_KEY')
  if (raw[0] !== SIG_TYPE_ED25519)
    throw new NoteError(
      'ERR_NOTE_BAD_KEY',
      `key type 0x${raw[0].toString(16).padStart(2, '0')} is not Ed25519 (0x01)`,
      { name, type: raw[0] },
    )
  if (raw.length !== 33)
    throw new NoteError(
      'ERR_NOTE_BAD_KEY',
      `Ed25519 ${isSigner ? 'seed' : 'public key'} must be 32 bytes, got ${raw.length - 1}`,
      { name },
    )
  return { name, keyId: hexToBytes4(hash16), key: raw.slice(1) }
}

function hexToBytes4(h: string): Uint8Array {
  return Uint8Array.from([0, 2, 4, 6].map((i) => parseInt(h.slice(i, i + 2), 16)))
}

/** Reads a verifier key string, checking that its key id is the one its name and key give. */
export function parseVerifierKey(vkey: string): { name: string; keyId: Uint8Array; publicKey: Uint8Array } {
  if (typeof vkey !== 'string')
    throw new NoteError('ERR_NOTE_BAD_KEY', `verifier key expected a string, got ${typeof vkey}`)
  const { name, keyId, key } = parseKeyMaterial(...splitKey(vkey.trim()), false)
  const want = noteKeyId(name, key)
  if (toHex(want) !== toHex(keyId)) {
    throw new NoteError('ERR_NOTE_BAD_KEY', `key id ${toHex(keyId)} does not match the key (expected ${toHex(want)})`, {
      name,
      keyId: toHex(keyId),
      expected: toHex(want),
    })
  }
  return { name, keyId, publicKey: key }
}

/** The private signer key string "PRIVATE+KEY+name+hex(keyid)+base64(0x01 || seed)" of Go's note.GenerateKey. */
export function signerKey(name: string, seed: Uint8Array): string {
  if (!(seed instanceof Uint8Array) || seed.length !== 32)
    throw new NoteError('ERR_NOTE_BAD_KEY', 'Ed25519 seed expected 32 bytes')
  const pub = ed.getPublicKey(seed)
  return `PRIVATE+KEY+${name}+${toHex(noteKeyId(name, pub))}+${toBase64(concatBytes(Uint8Array.of(SIG_TYPE_ED25519), seed))}`
}

/** Reads a signer key string; checks its key id against the public key derived from the seed. */
export function parseSignerKey(skey: string): {
  name: string
  keyId: Uint8Array
  seed: Uint8Array
  publicKey: Uint8Array
} {
  if (typeof skey !== 'string' || !skey.startsWith('PRIVATE+KEY+'))
    throw new NoteError('ERR_NOTE_BAD_KEY', 'signer key must start with "PRIVATE+KEY+"')
  const { name, keyId, key } = parseKeyMaterial(...splitKey(skey.trim().slice('PRIVATE+KEY+'.length)), true)
  const publicKey = ed.getPublicKey(key)
  if (toHex(noteKeyId(name, publicKey)) !== toHex(keyId))
    throw new NoteError('ERR_NOTE_BAD_KEY', `signer key id ${toHex(keyId)} does not match its key`, { name })
  return { name, keyId, seed: key, publicKey }
}

/** Checks the note-wide rules: valid UTF-8 text, no control character other than newline. */
function checkNoteText(text: string, what: string): void {
  if (/[\u0000-\u0009\u000b-\u001f]/.test(text))
    throw new NoteError('ERR_NOTE_MALFORMED', `${what} contains an ASCII control character other than newline`)
  if (/[\ud800-\udfff]/u.test(text.replace(/[\ud800-\udbff][\udc00-\udfff]/g, '')))
    throw new NoteError('ERR_NOTE_MALFORMED', `${what} is not valid Unicode (lone surrogate)`)
}

/**
 * Signs `text` (which must end in a newline) and returns the note: text, blank
 * line, "— name base64(keyid || signature)". `sign` is the Ed25519 engine over
 * the UTF-8 text (the ledger key never leaves the caller).
 */
export function signNote(
  text: string,
  name: string,
  sign: (msg: Uint8Array) => Uint8Array,
  publicKey: Uint8Array,
): string {
  if (typeof text !== 'string' || !text.endsWith('\n'))
    throw new NoteError('ERR_NOTE_MALFORMED', 'note text must end with a newline')
  checkNoteText(text, 'note text')
  const keyId = noteKeyId(name, publicKey)
  const sig = sign(utf8(text))
  if (!(sig instanceof Uint8Array) || sig.length !== 64)
    throw new NoteError(
      'ERR_NOTE_BAD_SIGNATURE',
      'the signer returned something other than a 64-byte Ed25519 signature',
    )
  return `${text}\n${SIG_PREFIX}${name} ${toBase64(concatBytes(keyId, sig))}\n`
}

export interface NoteSignature {
  name: string
  keyId: Uint8Array
  signature: Uint8Array
}

/** Splits a note into its text and signature lines, checking the format only (no signature is verified). */
export function parseNote(note: string): { text: string; signatures: NoteSignature[] } {
  if (typeof note !== 'string') throw new NoteError('ERR_NOTE_MALFORMED', `note expected a string, got ${typeof note}`)
  checkNoteText(note, 'note')
  // The text is separated from the signatures by the LAST blank line.
  const split = note.lastIndexOf('\n\n')
  if (split < 0) throw new NoteError('ERR_NOTE_MALFORMED', 'note has no blank line before its signatures')
  const text = note.slice(0, split + 1)
  const block = note.slice(split + 2)
  if (block === '' || !block.endsWith('\n'))
    throw new NoteError('ERR_NOTE_MALFORMED', 'the signature block must be non-empty and end with a newline')
  const lines = block.slice(0, -1).split('\n')
  if (lines.length > MAX_NOTE_SIGNATURES)
    throw new NoteError(
      'ERR_NOTE_TOO_MANY_SIGNATURES',
      `note has ${lines.length} signature lines; at most ${MAX_NOTE_SIGNATURES} are read`,
      { count: lines.length },
    )
  const signatures = lines.map((line, i) => {
    if (!line.startsWith(SIG_PREFIX))
      throw new NoteError(
        'ERR_NOTE_MALFORMED',
        `signature line ${i + 1} does not start with an em dash (U+2014) and a space`,
        { line: i + 1 },
      )
    const rest = line.slice(SIG_PREFIX.length)
    const sp = rest.indexOf(' ')
    if (sp < 0)
      throw new NoteError('ERR_NOTE_MALFORMED', `signature line ${i + 1} has no space between key name and signature`, {
        line: i + 1,
      })
    const name = rest.slice(0, sp)
    try {
      checkKeyName(name)
    } catch {
      throw new NoteError(
        'ERR_NOTE_MALFORMED',
        `signature line ${i + 1} has an invalid key name ${JSON.stringify(name)}`,
        { line: i + 1 },
      )
    }
    const raw = decodeBase64Strict(rest.slice(sp + 1), `signature line ${i + 1}`, 'ERR_NOTE_MALFORMED')
    if (raw.length < 5)
      throw new NoteError('ERR_NOTE_MALFORMED', `signature line ${i + 1} is shorter than a key id and a signature`, {
        line: i + 1,
      })
    return { name, keyId: raw.slice(0, 4), signature: raw.slice(4) }
  })
  return { text, signatures }
}

/** noble, strict RFC 8032 (zip215: false), async so it needs no SHA-512 set-up and runs in browsers. */
export const nobleNoteVerify: SignatureVerifier = strictNobleVerifier

/**
 * Verifies `note` against one trusted verifier key and returns its text.
 * As signed-note requires: signatures from other keys (other name or key id)
 * are ignored; a signature from the trusted key must verify; at least one must
 * be present. Throws NoteError with a code.
 */
export async function verifyNote(
  note: string,
  vkey: string,
  verify: SignatureVerifier = nobleNoteVerify,
): Promise<{ text: string }> {
  const key = parseVerifierKey(vkey)
  const { text, signatures } = parseNote(note)
  const message = utf8(text)
  let verified = 0
  for (const s of signatures) {
    if (s.name !== key.name || toHex(s.keyId) !== toHex(key.keyId)) continue
    if (s.signature.length !== 64 || !(await verify(s.signature, message, key.publicKey))) {
      throw new NoteError(
        'ERR_NOTE_BAD_SIGNATURE',
        `the signature by ${key.name}+${toHex(key.keyId)} does not verify over the note text`,
        { name: key.name, keyId: toHex(key.keyId) },
      )
    }
    verified++
  }
  if (verified === 0) {
    throw new NoteError(
      'ERR_NOTE_UNVERIFIED',
      `the note has no signature by ${key.name}+${toHex(key.keyId)} (signed by: ${signatures.map((s) => `${s.name}+${toHex(s.keyId)}`).join(', ')})`,
      { name: key.name, keyId: toHex(key.keyId), signers: signatures.map((s) => `${s.name}+${toHex(s.keyId)}`) },
    )
  }
  return { text }
}
