/**
 * buildBundle: the evidence bundle (format.ts) from entries read out of the
 * ledger (collect.ts does the reading). Pure: the same inputs give the same
 * bytes, so a PDF report and a bundle built from the same ledger state name
 * the same SHA-256. The claimed result is the compliance engine's, over the
 * same readings the dashboard evaluates (recompute.ts).
 */
import { toBase64 } from '../../ledger/protocol/index.ts'
import { decodeEntry, readingOfEntry } from '../../ledger/tlog/index.ts'
import type {
  Entry,
  GapBody,
  ReadingForkBody,
  ShipmentCloseBody,
  ShipmentCreateBody,
  ShipmentDevicesBody,
} from '../../ledger/tlog/index.ts'
import {
  BUNDLE_FORMAT,
  BUNDLE_VERSION,
  PARTITIONED_BUNDLE_VERSION,
  bundleHash,
  serializeBundle,
  type EntryRef,
  type EvidenceBundle,
  type EvidenceSection,
  type PartitionedEvidenceBundle,
} from './format.ts'
import { recomputeResult, type EvidenceReading } from './recompute.ts'

/** An entry as stored: index, exact bytes, inclusion path to the checkpoint's tree size. */
export interface StoredRef {
  index: number
  bytes: Uint8Array
  proof: Uint8Array[]
}

/** One log's evidence entries of a shipment, each with its inclusion path. */
export interface EvidenceInputs {
  shipmentId: string
  create: StoredRef
  close: StoredRef | null
  /** The shipment.receive entry (the signed receipt), when there is one. */
  receive?: StoredRef | null
  /** The shipment.devices entries (loggers assigned or removed), in log order. */
  assignments?: StoredRef[]
  devices: { deviceId: string; register: StoredRef; revoke: StoredRef | null }[]
  chains: { deviceId: string; before: StoredRef | null; readings: StoredRef[]; gaps: StoredRef[] }[]
  forks: StoredRef[]
  postClose: StoredRef[]
  acknowledgements: StoredRef[]
}

export interface BundleInputs extends EvidenceInputs {
  origin: string
  verifierKey: string
  /** Signed checkpoint note; every proof below is to its tree size. */
  checkpoint: string
}

export class BundleError extends Error {
  readonly code: 'ERR_BUNDLE_INPUT'
  readonly details: Readonly<Record<string, unknown>>
  constructor(message: string, details: Record<string, unknown> = {}) {
    super(message)
    this.name = 'BundleError'
    this.code = 'ERR_BUNDLE_INPUT'
    this.details = details
  }
}

const ref = (s: StoredRef): EntryRef => ({ index: s.index, entry: toBase64(s.bytes), proof: s.proof.map(toBase64) })

function expectType<T extends Entry['type']>(s: StoredRef, type: T): Entry<T> {
  const e = decodeEntry(s.bytes)
  if (e.type !== type || e.index !== s.index)
    throw new BundleError(`entry ${s.index} is a ${e.type} at index ${e.index}, expected a ${type} at ${s.index}`, {
      index: s.index,
      type: e.type,
    })
  return e as Entry<T>
}

/** One log's evidence entries, decoded for the engine, and the section of the bundle they make. */
function section(inputs: EvidenceInputs): {
  create: ShipmentCreateBody
  close: ShipmentCloseBody | null
  fields: EvidenceReading[]
  gaps: GapBody[]
  forks: ReadingForkBody[]
  changes: { index: number; body: ShipmentDevicesBody }[]
  section: EvidenceSection
} {
  const create = expectType(inputs.create, 'shipment.create').body as ShipmentCreateBody
  if (create.shipmentId !== inputs.shipmentId)
    throw new BundleError(`the shipment.create entry is for ${create.shipmentId}, not ${inputs.shipmentId}`)
  const close = inputs.close ? (expectType(inputs.close, 'shipment.close').body as ShipmentCloseBody) : null
  const fields = inputs.chains.flatMap((c) => c.readings.map((r) => readingOfEntry(expectType(r, 'reading')).fields))
  const gaps = inputs.chains.flatMap((c) => c.gaps.map((g) => expectType(g, 'gap').body as GapBody))
  const forks = inputs.forks.map((f) => expectType(f, 'reading.fork').body as ReadingForkBody)
  for (const p of inputs.postClose) expectType(p, 'reading')
  if (inputs.receive) expectType(inputs.receive, 'shipment.receive')
  const assignments = [...(inputs.assignments ?? [])].sort((a, b) => a.index - b.index)
  const changes = assignments.map((a) => ({
    index: a.index,
    body: expectType(a, 'shipment.devices').body as ShipmentDevicesBody,
  }))
  return {
    create,
    close,
    fields,
    gaps,
    forks,
    changes,
    section: {
      // receive and assignments only when the shipment has them: bundles without them keep their bytes.
      shipment: {
        create: ref(inputs.create),
        close: inputs.close ? ref(inputs.close) : null,
        ...(inputs.receive ? { receive: ref(inputs.receive) } : {}),
        ...(assignments.length ? { assignments: assignments.map(ref) } : {}),
      },
      devices: [...inputs.devices]
        .sort((a, b) => (a.deviceId < b.deviceId ? -1 : 1))
        .map((d) => ({ deviceId: d.deviceId, register: ref(d.register), revoke: d.revoke ? ref(d.revoke) : null })),
      chains: [...inputs.chains]
        .sort((a, b) => (a.deviceId < b.deviceId ? -1 : 1))
        .map((c) => ({
          deviceId: c.deviceId,
          before: c.before ? ref(c.before) : null,
          readings: c.readings.map(ref),
          gaps: c.gaps.map(ref),
        })),
      forks: [...inputs.forks].sort((a, b) => a.index - b.index).map(ref),
      postClose: [...inputs.postClose].sort((a, b) => a.index - b.index).map(ref),
      acknowledgements: [...inputs.acknowledgements].sort((a, b) => a.index - b.index).map(ref),
    },
  }
}

export function buildBundle(inputs: BundleInputs): { bundle: EvidenceBundle; json: string; sha256: string } {
  const { create, close, fields, gaps, forks, changes, section: evidence } = section(inputs)
  const bundle: EvidenceBundle = {
    format: BUNDLE_FORMAT,
    version: BUNDLE_VERSION,
    shipmentId: inputs.shipmentId,
    ledger: { origin: inputs.origin, verifierKey: inputs.verifierKey },
    checkpoint: inputs.checkpoint,
    ...evidence,
    claimed: recomputeResult(create, close, fields, {
      gaps,
      forks,
      ...(changes.length ? { assignments: changes } : {}),
    }),
  }
  const json = serializeBundle(bundle)
  return { bundle, json, sha256: bundleHash(json) }
}

/**
 * The engine's view of a cluster shipment from its slices (docs/BUNDLE.md, "Partitioned bundles"):
 * the first slice's create with every logger (`cluster.devices`, in the shipment's order), and a
 * close at the slices' common close time that says the evidence ends early if any slice does
 * (the first such slice's reason, in partition order). The builder and the verifier both use it.
 */
export function mergedShipment(
  creates: readonly ShipmentCreateBody[],
  closes: readonly (ShipmentCloseBody | null)[],
): { create: ShipmentCreateBody; close: Pick<ShipmentCloseBody, 'closedAt' | 'endsEarly'> | null } {
  const first = creates[0]
  const create: ShipmentCreateBody = { ...first, devices: [...(first.cluster?.devices ?? first.devices)] }
  const closed = closes.filter((c): c is ShipmentCloseBody => c !== null)
  if (closed.length === 0 || closed.length < closes.length) return { create, close: null }
  const early = closed.find((c) => c.endsEarly)
  return {
    create,
    close: { closedAt: closed[0].closedAt, ...(early?.endsEarly ? { endsEarly: early.endsEarly } : {}) },
  }
}

/** One partition's part of a partitioned bundle (collect-partitioned.ts reads it). */
export interface PartitionInputs extends Omit<EvidenceInputs, 'shipmentId'> {
  partition: number
  origin: string
  verifierKey: string
  /** The partition's signed checkpoint; every proof of this partition is to its tree size. */
  checkpoint: string
  /** The root log leaf recording `checkpoint`: its index, exact bytes and inclusion path to the root checkpoint. */
  rootEntry: StoredRef
}

export interface PartitionedBundleInputs {
  shipmentId: string
  /** The root log's origin and key, and the signed root checkpoint every root entry is proven to. */
  origin: string
  verifierKey: string
  checkpoint: string
  partitions: PartitionInputs[]
}

/** The partitioned evidence bundle (version 3) of a cluster shipment. Pure, like buildBundle. */
export function buildPartitionedBundle(inputs: PartitionedBundleInputs): {
  bundle: PartitionedEvidenceBundle
  json: string
  sha256: string
} {
  if (inputs.partitions.length === 0)
    throw new BundleError(`no partition holds shipment "${inputs.shipmentId}"`, { shipmentId: inputs.shipmentId })
  const parts = [...inputs.partitions]
    .sort((a, b) => a.partition - b.partition)
    .map((p) => ({ p, s: section({ ...p, shipmentId: inputs.shipmentId }) }))
  const { create, close } = mergedShipment(
    parts.map((x) => x.s.create),
    parts.map((x) => x.s.close),
  )
  const bundle: PartitionedEvidenceBundle = {
    format: BUNDLE_FORMAT,
    version: PARTITIONED_BUNDLE_VERSION,
    shipmentId: inputs.shipmentId,
    ledger: { origin: inputs.origin, verifierKey: inputs.verifierKey },
    checkpoint: inputs.checkpoint,
    partitions: parts.map(({ p, s }) => ({
      partition: p.partition,
      ledger: { origin: p.origin, verifierKey: p.verifierKey },
      checkpoint: p.checkpoint,
      rootEntry: ref(p.rootEntry),
      ...s.section,
    })),
    claimed: recomputeResult(
      create,
      close,
      parts.flatMap((x) => x.s.fields),
      { gaps: parts.flatMap((x) => x.s.gaps), forks: parts.flatMap((x) => x.s.forks) },
    ),
  }
  const json = serializeBundle(bundle)
  return { bundle, json, sha256: bundleHash(json) }
}
