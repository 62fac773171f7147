/**
 * A logger for tests that need many signed readings quickly: Ed25519 through
 * Node's signer (a thousand readings sign in moments), a fixed seed byte per
 * logger, and the reading chain kept as the firmware keeps it.
 */
import { createPrivateKey, createPublicKey, sign, type KeyObject } from 'node:crypto'
import {
  encodeRecord,
  assemblePayload,
  readingSigningMessage,
  readingHash,
  GENESIS_PREV_HASH,
  toHex,
} from '../../ledger/protocol/index.ts'

/** RFC 8410 PKCS#8 prefix of an Ed25519 private key. */
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex')

export class NodeLogger {
  readonly key: KeyObject
  readonly publicKey: string
  seq = 0
  prev = GENESIS_PREV_HASH
  constructor(
    readonly deviceId: string,
    seedByte: number,
  ) {
    this.key = createPrivateKey({
      key: Buffer.concat([PKCS8_PREFIX, Buffer.alloc(32, seedByte)]),
      format: 'der',
      type: 'pkcs8',
    })
    this.publicKey = toHex(createPublicKey(this.key).export({ format: 'der', type: 'spki' }).subarray(12))
  }

  /** The next reading in the chain, as the ingest receives it (payload in base64). */
  next(deviceTimeMs: number, tempCentiC: number, status?: number): { payload: string; deviceId: string; seq: number } {
    this.seq++
    const record = encodeRecord({
      deviceId: this.deviceId,
      seq: this.seq,
      deviceTimeMs,
      tempCentiC,
      ...(status === undefined ? {} : { status }),
      prevHash: this.prev,
    })
    const payload = assemblePayload(record, new Uint8Array(sign(null, readingSigningMessage(record), this.key)))
    this.prev = readingHash(payload)
    return { payload: Buffer.from(payload).toString('base64'), deviceId: this.deviceId, seq: this.seq }
  }
}
