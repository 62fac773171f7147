/**
 * A device's identity: its id and Ed25519 key pair. On disk the key lives in
 * `<dir>/key.json`, created once with mode 0600 and never overwritten, as a
 * logger's key lives in its secure element for the device's life: a new key
 * would be a new device to the ledger (ARCHITECTURE.md decision 3).
 */
import { closeSync, fsyncSync, openSync, readFileSync, writeSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { checkDeviceId, checkDevicePublicKey, equalBytes, fromHex, toHex } from '../ledger/protocol/index.ts'
import { SimError } from './errors.ts'
import { fsyncDir } from '../ledger/protocol/atomic-file.ts'
import { newSecretKey, publicKeyOf } from './signer.ts'

export interface Identity {
  deviceId: string
  secretKey: Uint8Array
  publicKey: Uint8Array
}

export const KEY_FILE = 'key.json'

interface KeyFileJson {
  v: 1
  deviceId: string
  secretKey: string
  publicKey: string
}

/** An identity held only in memory (large test fleets); the key is random unless given. */
export function memoryIdentity(deviceId: string, secretKey: Uint8Array = newSecretKey()): Identity {
  checkDeviceId(deviceId)
  return { deviceId, secretKey, publicKey: publicKeyOf(secretKey) }
}

/** Writes a new key file; throws ERR_KEY_FILE_EXISTS rather than replace one. */
export function createKeyFile(dir: string, deviceId: string, secretKey: Uint8Array = newSecretKey()): Identity {
  const id = memoryIdentity(deviceId, secretKey)
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const path = join(dir, KEY_FILE)
  let fd: number
  try {
    // 'wx' = O_CREAT | O_EXCL: fails if the file exists, even in a race.
    fd = openSync(path, 'wx', 0o600)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new SimError('ERR_KEY_FILE_EXISTS', `key file ${path} already exists; a device key is never overwritten`, {
        path,
      })
    }
    throw e
  }
  try {
    const json: KeyFileJson = { v: 1, deviceId, secretKey: toHex(id.secretKey), publicKey: toHex(id.publicKey) }
    writeSync(fd, JSON.stringify(json, null, 2) + '\n')
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  fsyncDir(dir)
  return id
}

export function readKeyFile(dir: string, deviceId: string): Identity {
  const path = join(dir, KEY_FILE)
  const bad = (why: string): never => {
    throw new SimError('ERR_KEY_FILE_INVALID', `key file ${path}: ${why}`, { path })
  }
  let json: Partial<KeyFileJson>
  try {
    json = JSON.parse(readFileSync(path, 'utf8')) as Partial<KeyFileJson>
  } catch (e) {
    return bad(`cannot be read as JSON (${(e as Error).message})`)
  }
  if (json.v !== 1) bad(`"v" must be 1, got ${JSON.stringify(json.v)}`)
  if (json.deviceId !== deviceId)
    bad(`belongs to device ${JSON.stringify(json.deviceId)}, not ${JSON.stringify(deviceId)}`)
  if (typeof json.secretKey !== 'string' || !/^[0-9a-f]{64}$/.test(json.secretKey))
    bad('"secretKey" must be 64 lowercase hex digits')
  const id = memoryIdentity(deviceId, fromHex(json.secretKey as string))
  if (typeof json.publicKey !== 'string' || !equalBytes(fromHex(json.publicKey), id.publicKey))
    bad('"publicKey" does not match the secret key')
  checkDevicePublicKey(id.publicKey)
  return id
}

/** Loads `<dir>/key.json`, creating it on first use. */
export function loadOrCreateIdentity(dir: string, deviceId: string): Identity {
  try {
    return createKeyFile(dir, deviceId)
  } catch (e) {
    if (e instanceof SimError && e.code === 'ERR_KEY_FILE_EXISTS') return readKeyFile(dir, deviceId)
    throw e
  }
}
