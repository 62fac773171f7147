/**
 * Checks a device's MQTT password: the signed token of docs/PROTOCOL.md,
 * "Device authentication". Verified with Node's built-in Ed25519 (OpenSSL)
 * against the key the registry holds, so the broker keeps no device secret.
 */
import { ed25519PublicKey, ed25519Verify } from '../ledger/node-crypto/index.ts'
import { authSigningMessage, decodeAuthToken, toHex } from '../ledger/protocol/index.ts'
import type { DeviceRecord } from './registry.ts'
import type { ReplayCache } from './replay-cache.ts'
import type { RefusalReason } from './refusals.ts'

export interface TokenCheck {
  deviceId: string
  token: string
  record: DeviceRecord
  audience: string
  nowMs: number
  skewMs: number
  replay: ReplayCache
}

export type TokenVerdict = { ok: true } | { ok: false; reason: RefusalReason; detail: string }

export function checkDeviceToken(c: TokenCheck): TokenVerdict {
  let decoded
  try {
    decoded = decodeAuthToken(c.token)
  } catch (e) {
    return { ok: false, reason: 'token_malformed', detail: (e as Error).message }
  }
  // Time first: cheap, and a stale token never reaches the replay cache.
  if (decoded.timeMs < c.nowMs - c.skewMs)
    return {
      ok: false,
      reason: 'token_expired',
      detail: `token time ${decoded.timeMs} is ${c.nowMs - decoded.timeMs} ms old (window ${c.skewMs} ms)`,
    }
  if (decoded.timeMs > c.nowMs + c.skewMs)
    return {
      ok: false,
      reason: 'token_from_future',
      detail: `token time ${decoded.timeMs} is ${decoded.timeMs - c.nowMs} ms ahead (window ${c.skewMs} ms)`,
    }
  const good = ed25519Verify(
    ed25519PublicKey(c.record.publicKey),
    authSigningMessage(c.deviceId, c.audience, decoded.body),
    decoded.signature,
  )
  // The audience is inside the signed message: a token for another broker fails here.
  if (!good)
    return { ok: false, reason: 'bad_signature', detail: `signature does not verify for audience "${c.audience}"` }
  // Recorded only after the signature verifies, so nobody can poison the cache.
  const added = c.replay.add(`${c.deviceId}/${toHex(decoded.nonce)}`, decoded.timeMs + c.skewMs, c.nowMs)
  if (added === 'replayed')
    return { ok: false, reason: 'token_replayed', detail: `nonce ${toHex(decoded.nonce)} already used` }
  if (added === 'full')
    return { ok: false, reason: 'replay_cache_full', detail: `replay cache holds ${c.replay.size} live nonces` }
  return { ok: true }
}
