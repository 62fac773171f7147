/** Shared test helpers: small scenarios and key conversion for Node's crypto. */
import { createPublicKey, verify as nodeVerify, type KeyObject } from 'node:crypto'
import { decodeReading, readingSigningMessage } from '../../ledger/protocol/index.ts'
import { parseScenario, type Scenario } from '../scenario/index.ts'

export const START = Date.parse('2026-11-20T06:00:00Z')

export function smallScenario(
  over: { devices?: number; durationMin?: number; bufferCapacity?: number; faults?: unknown; doors?: number } = {},
): Scenario {
  const n = over.devices ?? 1
  return parseScenario({
    name: 'small',
    seed: 42,
    shipments: [
      {
        shipmentId: 'shp-small',
        product: 'test vaccine',
        storageClass: '2-8',
        ...(over.bufferCapacity ? { bufferCapacity: over.bufferCapacity } : {}),
        ...(over.faults ? { faults: over.faults } : {}),
        devices: Array.from({ length: n }, (_, i) => ({ deviceId: `dev-${i + 1}` })),
        legs: [
          {
            durationMin: over.durationMin ?? 120,
            model: 'reefer',
            setpointC: 5,
            doorOpeningsPerDay: over.doors ?? 24,
            ambient: { meanC: 20, amplitudeC: 5 },
          },
        ],
      },
    ],
  })
}

const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex')
export function nodeKey(publicKeyHex: string): KeyObject {
  return createPublicKey({
    key: Buffer.concat([SPKI_PREFIX, Buffer.from(publicKeyHex, 'hex')]),
    format: 'der',
    type: 'spki',
  })
}

/** Verifies a payload with Node's OpenSSL Ed25519 (an implementation independent of noble). */
export function verifyWithNode(payload: Uint8Array, key: KeyObject): boolean {
  const d = decodeReading(payload)
  return nodeVerify(null, readingSigningMessage(d.record), key, d.signature)
}

/**
 * The crash-test device: buffer of 5, sampling every 5 min, offline for
 * minutes 0..29 (seq 1..6: seq 6 drops seq 1), back online from seq 7.
 */
export const crashScenario = (): Scenario =>
  smallScenario({ bufferCapacity: 5, durationMin: 60, faults: { connectivityLoss: [{ fromMin: 0, toMin: 30 }] } })
/** Simulated time of the last offline sample (seq 6). */
export const CRASH_OFFLINE_UNTIL = START + 25 * 60_000
