/**
 * buildBundle: the evidence bundle (format.ts) from entries read out of the
 * ledger (collect.ts does the reading). Pure: the same inputs give the same
 * bytes, so a PDF report and a bundle built from the same ledger state name
 * the same SHA-256. The claimed result is the compliance engine's, over the
 * same readings the dashboard evaluates (recompute.ts).
 */
import { toBase64 } from '../../ledger/protocol/bytes.ts'
import { decodeEntry, readingOfEntry } from '../../ledger/entry-codec.ts'
import type { Entry, GapBody, ReadingForkBody, ShipmentCloseBody, ShipmentCreateBody, ShipmentDevicesBody } from '../../ledger/entry-types.ts'
import { BUNDLE_FORMAT, BUNDLE_VERSION, bundleHash, serializeBundle, type EntryRef, type EvidenceBundle } from './format.ts'
import { recomputeResult } from './recompute.ts'

/** An entry as stored: index, exact bytes, inclusion path to the checkpoint's tree size. */
export interface StoredRef { index: number; bytes: Uint8Array; proof: Uint8Array[] }

export interface BundleInputs {
  shipmentId: string
  origin: string
  verifierKey: string
  /** Signed checkpoint note; every proof below is to its tree size. */
  checkpoint: string
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
  if (e.type !== type || e.index !== s.index) throw new BundleError(`entry ${s.index} is a ${e.type} at index ${e.index}, expected a ${type} at ${s.index}`, { index: s.index, type: e.type })
  return e as Entry<T>
}

export function buildBundle(inputs: BundleInputs): { bundle: EvidenceBundle; json: string; sha256: string } {
  const create = expectType(inputs.create, 'shipment.create').body as ShipmentCreateBody
  if (create.shipmentId !== inputs.shipmentId) throw new BundleError(`the shipment.create entry is for ${create.shipmentId}, not ${inputs.shipmentId}`)
  const close = inputs.close ? expectType(inputs.close, 'shipment.close').body as ShipmentCloseBody : null
  const fields = inputs.chains.flatMap((c) => c.readings.map((r) => readingOfEntry(expectType(r, 'reading')).fields))
  const gaps = inputs.chains.flatMap((c) => c.gaps.map((g) => expectType(g, 'gap').body as GapBody))
  const forks = inputs.forks.map((f) => expectType(f, 'reading.fork').body as ReadingForkBody)
  for (const p of inputs.postClose) expectType(p, 'reading')
  if (inputs.receive) expectType(inputs.receive, 'shipment.receive')
  const assignments = [...(inputs.assignments ?? [])].sort((a, b) => a.index - b.index)
  const changes = assignments.map((a) => ({ index: a.index, body: expectType(a, 'shipment.devices').body as ShipmentDevicesBody }))
  const bundle: EvidenceBundle = {
    format: BUNDLE_FORMAT,
    version: BUNDLE_VERSION,
    shipmentId: inputs.shipmentId,
    ledger: { origin: inputs.origin, verifierKey: inputs.verifierKey },
    checkpoint: inputs.checkpoint,
    // receive and assignments only when the shipment has them: bundles without them keep their bytes.
    shipment: {
      create: ref(inputs.create), close: inputs.close ? ref(inputs.close) : null,
      ...(inputs.receive ? { receive: ref(inputs.receive) } : {}),
      ...(assignments.length ? { assignments: assignments.map(ref) } : {}),
    },
    devices: [...inputs.devices].sort((a, b) => (a.deviceId < b.deviceId ? -1 : 1)).map((d) => ({ deviceId: d.deviceId, register: ref(d.register), revoke: d.revoke ? ref(d.revoke) : null })),
    chains: [...inputs.chains].sort((a, b) => (a.deviceId < b.deviceId ? -1 : 1)).map((c) => ({
      deviceId: c.deviceId,
      before: c.before ? ref(c.before) : null,
      readings: c.readings.map(ref),
      gaps: c.gaps.map(ref),
    })),
    forks: [...inputs.forks].sort((a, b) => a.index - b.index).map(ref),
    postClose: [...inputs.postClose].sort((a, b) => a.index - b.index).map(ref),
    acknowledgements: [...inputs.acknowledgements].sort((a, b) => a.index - b.index).map(ref),
    claimed: recomputeResult(create, close, fields, { gaps, forks, ...(changes.length ? { assignments: changes } : {}) }),
  }
  const json = serializeBundle(bundle)
  return { bundle, json, sha256: bundleHash(json) }
}
