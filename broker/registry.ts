/**
 * The broker's view of the device registry (ARCHITECTURE.md decision 3).
 *
 * The registry belongs to the ledger (registrations and revocations are log
 * entries); the broker only reads it through this one method, looked up on
 * every CONNECT, so a registration or revocation takes effect without a
 * restart. The start-up code passes the Ledger object, which implements it.
 */
import { checkDeviceId, checkDevicePublicKey } from '../ledger/protocol/index.ts'

export interface DeviceRecord {
  /** The registered 32-byte Ed25519 public key. */
  publicKey: Uint8Array
  revoked: boolean
}

export interface DeviceRegistry {
  lookupDevice(deviceId: string): Promise<DeviceRecord | undefined>
}

export interface MemoryDeviceRegistry extends DeviceRegistry {
  register(deviceId: string, publicKey: Uint8Array): void
  revoke(deviceId: string): void
}

/** In-memory registry for tests and tools; the key is checked as at ledger registration. */
export function createMemoryRegistry(): MemoryDeviceRegistry {
  const devices = new Map<string, DeviceRecord>()
  return {
    async lookupDevice(deviceId) {
      const d = devices.get(deviceId)
      return d && { publicKey: d.publicKey, revoked: d.revoked }
    },
    register(deviceId, publicKey) {
      devices.set(checkDeviceId(deviceId), { publicKey: checkDevicePublicKey(publicKey).slice(), revoked: false })
    },
    revoke(deviceId) {
      const d = devices.get(deviceId)
      if (!d) throw new RangeError(`device "${deviceId}" is not registered`)
      d.revoked = true
    },
  }
}
