/**
 * The witness's cosigning key: a signer key string with signature type 0x04
 * (cosignature.ts) in a file created once with mode 0600 and never
 * overwritten (a new key would disown every cosignature made so far).
 */
import * as ed from '@noble/ed25519'
import { randomBytes } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import { parseWitnessSignerKey, witnessSignerKey, witnessVerifierKey, CosignatureError } from '../tlog/index.ts'

export const DEFAULT_WITNESS_NAME = 'coldproof.local/witness'

export interface WitnessSigner {
  name: string
  publicKey: Uint8Array
  verifierKey: string
  sign(message: Uint8Array): Uint8Array
}

export async function loadOrCreateWitnessKey(
  path: string,
  name = DEFAULT_WITNESS_NAME,
): Promise<WitnessSigner & { created: boolean }> {
  let created = false
  try {
    await writeFile(path, witnessSignerKey(name, new Uint8Array(randomBytes(32))) + '\n', { mode: 0o600, flag: 'wx' })
    created = true
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST')
      throw new CosignatureError(
        'ERR_COSIGNATURE_BAD_KEY',
        `cannot create the witness key ${path}: ${(e as Error).message}`,
      )
  }
  const k = parseWitnessSignerKey(await readFile(path, 'utf8'))
  if (!created && k.name !== name && name !== DEFAULT_WITNESS_NAME)
    throw new CosignatureError(
      'ERR_COSIGNATURE_BAD_KEY',
      `${path} holds the key of witness ${JSON.stringify(k.name)}, not ${JSON.stringify(name)}`,
    )
  return {
    name: k.name,
    publicKey: k.publicKey,
    verifierKey: witnessVerifierKey(k.name, k.publicKey),
    sign: (m) => ed.sign(m, k.seed),
    created,
  }
}
