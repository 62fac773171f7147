/**
 * The evidence bundle, version 2 (docs/BUNDLE.md): one JSON file per shipment
 * that lets anyone check the shipment's compliance result offline, trusting
 * no server. Every log entry it carries is the exact entry bytes (base64) with
 * its RFC 6962 inclusion path to the one signed checkpoint of the bundle, so
 * `c2sp.org/tlog-proof@v1\nindex <i>\n<path...>\n\n<checkpoint>` is a C2SP
 * tlog-proof of it (tlogProofOf). Pure; runs in Node and browsers.
 */
import { sha256 } from '@noble/hashes/sha2.js'
import { toHex, utf8 } from '../../ledger/protocol/index.ts'
import { formatTlogProof } from '../../ledger/tlog/index.ts'
import { fromBase64 } from '../../ledger/protocol/index.ts'
import type { ShipmentResult } from '../compliance/index.ts'

export const BUNDLE_FORMAT = 'coldproof-evidence-bundle'
export const BUNDLE_VERSION = 2
/** The partitioned bundle of the cluster mode (docs/BUNDLE.md, "Partitioned bundles, version 3"). */
export const PARTITIONED_BUNDLE_VERSION = 3

/** One log entry: its index, its exact canonical bytes, its inclusion path to the bundle's checkpoint. */
export interface EntryRef {
  index: number
  /** base64 of the exact entry bytes (canonical JSON, ledger/tlog/entry-codec.ts) that are Merkle-leafed. */
  entry: string
  /** RFC 6962 2.1.1 inclusion path (base64 hashes, leaf's sibling first) to the checkpoint's tree. */
  proof: string[]
}

/**
 * One logger's chain for the shipment (docs/BUNDLE.md, "Which readings"):
 * every reading from the start of the window up to the close anchor, in
 * sequence order, through the create anchor. `before` is the reading just
 * below the first (its device time is before the window); null when the
 * chain starts at seq 1. Seqs the chain skips are declared lost by the `gap`
 * entries listed in `gaps`, each covering one skipped range exactly.
 */
export interface DeviceChain {
  deviceId: string
  before: EntryRef | null
  readings: EntryRef[]
  gaps: EntryRef[]
}

export interface DeviceEvidence {
  deviceId: string
  /** The device.register entry: public key, model, calibration. */
  register: EntryRef
  /** The device.revoke entry, if the device was revoked. */
  revoke: EntryRef | null
}

export interface EvidenceBundle {
  format: typeof BUNDLE_FORMAT
  version: typeof BUNDLE_VERSION
  shipmentId: string
  /** Informational only: a verifier must pin the ledger key itself (docs/BUNDLE.md, "Trust"). */
  ledger: { origin: string; verifierKey: string }
  /** The signed C2SP tlog-checkpoint note every inclusion proof leads to. */
  checkpoint: string
  /**
   * The shipment record: its create and close entries; `receive`, the signed receipt, and
   * `assignments`, the shipment.devices entries in log order, only when the shipment has them.
   */
  shipment: { create: EntryRef; close: EntryRef | null; receive?: EntryRef; assignments?: EntryRef[] }
  devices: DeviceEvidence[]
  chains: DeviceChain[]
  /** `reading.fork` entries of the shipment's loggers logged before the close: a compromised logger. */
  forks: EntryRef[]
  /** Readings above a close anchor with device times in the window: shown apart, never part of the verdict. */
  postClose: EntryRef[]
  /** alarm.ack entries of the shipment: the audit trail of acknowledged deviations. */
  acknowledgements: EntryRef[]
  /** What the server claims: the compliance engine's result over these readings. */
  claimed: ShipmentResult
}

/** One log's share of a shipment's evidence: every entry with its inclusion path to that log's checkpoint. */
export type EvidenceSection = Pick<
  EvidenceBundle,
  'shipment' | 'devices' | 'chains' | 'forks' | 'postClose' | 'acknowledgements'
>

/**
 * One partition's part of a partitioned bundle: its slice of the shipment (docs/SCALING.md,
 * "Shipments in the cluster mode") proven to the partition's signed checkpoint, and the root log
 * entry recording that checkpoint, proven to the bundle's root checkpoint.
 */
export interface PartitionEvidence extends EvidenceSection {
  partition: number
  /** Informational: the partition log's origin ("<origin>/p<k>") and verifier key. */
  ledger: { origin: string; verifierKey: string }
  /** The partition log's signed checkpoint every entry of this section is proven to. */
  checkpoint: string
  /** The root log leaf {"p":partition,"note":checkpoint} (base64 of its exact bytes), its index and inclusion path to the root checkpoint. */
  rootEntry: EntryRef
}

/** Version 3: a cluster shipment's evidence across partition logs, under one signed root checkpoint. */
export interface PartitionedEvidenceBundle {
  format: typeof BUNDLE_FORMAT
  version: typeof PARTITIONED_BUNDLE_VERSION
  shipmentId: string
  /** Informational: the root log; its key is the one a verifier pins. */
  ledger: { origin: string; verifierKey: string }
  /** The signed root checkpoint every partition's root entry is proven to. */
  checkpoint: string
  partitions: PartitionEvidence[]
  claimed: ShipmentResult
}

export type AnyEvidenceBundle = EvidenceBundle | PartitionedEvidenceBundle

/** hex SHA-256 of the exact bundle file bytes: what the PDF report prints. */
export function bundleHash(json: string | Uint8Array): string {
  return toHex(sha256(typeof json === 'string' ? utf8(json) : json))
}

/** The file text: pretty enough to read, stable for a given bundle. */
export function serializeBundle(b: AnyEvidenceBundle): string {
  return JSON.stringify(b, null, 1) + '\n'
}

/** The C2SP tlog-proof text of one entry of the bundle (for standard transparency-log tooling). */
export function tlogProofOf(bundle: EvidenceBundle, ref: EntryRef): string {
  return formatTlogProof(
    ref.index,
    ref.proof.map((h) => fromBase64(h)),
    bundle.checkpoint,
  )
}

/** Every entry reference of a bundle (or of one partition's section), with the role it plays. */
export function entryRefs(b: EvidenceSection): { role: string; ref: EntryRef; deviceId?: string }[] {
  const out: { role: string; ref: EntryRef; deviceId?: string }[] = []
  if (b.shipment?.create) out.push({ role: 'shipment.create', ref: b.shipment.create })
  if (b.shipment?.close) out.push({ role: 'shipment.close', ref: b.shipment.close })
  if (b.shipment?.receive) out.push({ role: 'shipment.receive', ref: b.shipment.receive })
  for (const a of b.shipment?.assignments ?? []) out.push({ role: 'shipment.devices', ref: a })
  for (const d of b.devices ?? []) {
    if (d.register) out.push({ role: 'device.register', ref: d.register, deviceId: d.deviceId })
    if (d.revoke) out.push({ role: 'device.revoke', ref: d.revoke, deviceId: d.deviceId })
  }
  for (const c of b.chains ?? []) {
    if (c.before) out.push({ role: 'reading (before the window)', ref: c.before, deviceId: c.deviceId })
    for (const r of c.readings ?? []) out.push({ role: 'reading', ref: r, deviceId: c.deviceId })
    for (const g of c.gaps ?? []) out.push({ role: 'gap', ref: g, deviceId: c.deviceId })
  }
  for (const f of b.forks ?? []) out.push({ role: 'reading.fork', ref: f })
  for (const r of b.postClose ?? []) out.push({ role: 'reading (post-close)', ref: r })
  for (const a of b.acknowledgements ?? []) out.push({ role: 'alarm.ack', ref: a })
  return out
}
