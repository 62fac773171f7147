/**
 * The ledger's checkpoint-signing key (ARCHITECTURE.md decision 4). Kept in the data
 * directory as a Go-compatible note signer key string
 * ("PRIVATE+KEY+<name>+<keyid>+<base64(0x01||seed)>", see ledger/tlog/note.ts), in
 * a file created once with mode 0600 and never overwritten: replacing it would
 * make every earlier checkpoint unverifiable with the published key. The key
 * name is the checkpoint origin line (C2SP tlog-checkpoint convention).
 */
import { createPrivateKey, randomBytes, sign as cryptoSign, type KeyObject } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseSignerKey, signerKey, verifierKey } from '../tlog/index.ts'
import { LedgerError } from './errors.ts'

export const KEY_FILE = 'ledger.key'
/** The public verifier key, rewritten on every open (derived, so safe to rewrite). */
export const VERIFIER_KEY_FILE = 'ledger.vkey'
export const DEFAULT_ORIGIN = 'coldproof.local/ledger'

/** RFC 8410 PKCS#8 prefix for a 32-byte Ed25519 seed. */
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex')

export interface LedgerKey {
  /** The key name, which is also the checkpoint origin. */
  name: string
  publicKey: Uint8Array
  /** C2SP signed-note verifier key "name+keyid+base64(0x01||pub)". */
  verifierKey: string
  sign(message: Uint8Array): Uint8Array
}

function fromSeed(name: string, seed: Uint8Array, publicKey: Uint8Array): LedgerKey {
  const key: KeyObject = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' })
  return {
    name,
    publicKey,
    verifierKey: verifierKey(name, publicKey),
    sign: (m) => new Uint8Array(cryptoSign(null, m, key)),
  }
}

/**
 * Loads the key from `dir`, creating it (mode 0600, exclusive create) on
 * first use. An existing key whose name differs from `origin` is refused
 * rather than silently re-labelled.
 */
export async function loadOrCreateLedgerKey(dir: string, origin?: string): Promise<LedgerKey> {
  const path = join(dir, KEY_FILE)
  let text: string | undefined
  try {
    text = await readFile(path, 'utf8')
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT')
      throw new LedgerError('ERR_LEDGER_KEY_FILE', `cannot read ${path}: ${(e as Error).message}`, { path })
  }
  if (text === undefined) {
    const name = origin ?? DEFAULT_ORIGIN
    const seed = new Uint8Array(randomBytes(32))
    try {
      // 'wx': fail if the file appeared meanwhile, never overwrite a key.
      await writeFile(path, signerKey(name, seed) + '\n', { mode: 0o600, flag: 'wx' })
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return loadOrCreateLedgerKey(dir, origin)
      throw new LedgerError('ERR_LEDGER_KEY_FILE', `cannot create ${path}: ${(e as Error).message}`, { path })
    }
    text = await readFile(path, 'utf8')
  }
  let parsed: ReturnType<typeof parseSignerKey>
  try {
    parsed = parseSignerKey(text.trim())
  } catch (e) {
    throw new LedgerError('ERR_LEDGER_KEY_FILE', `${path} is not a note signer key: ${(e as Error).message}`, { path })
  }
  if (origin !== undefined && origin !== parsed.name) {
    throw new LedgerError(
      'ERR_LEDGER_KEY_FILE',
      `the ledger key in ${path} is named "${parsed.name}", but origin "${origin}" was asked for; checkpoints of one ledger keep one origin`,
      { path, keyName: parsed.name, origin },
    )
  }
  const key = fromSeed(parsed.name, parsed.seed, parsed.publicKey)
  await writeFile(join(dir, VERIFIER_KEY_FILE), key.verifierKey + '\n')
  return key
}

/** Reads the verifier key of a ledger directory without touching the private key. */
export async function readVerifierKey(dir: string): Promise<string> {
  return (await readFile(join(dir, VERIFIER_KEY_FILE), 'utf8')).trim()
}
