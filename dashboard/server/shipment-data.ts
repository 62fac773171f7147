/**
 * Everything known about one shipment, read from the ledger: its record as
 * logged, the rule profile, its readings and the compliance result computed
 * from them by the same engine the regulator's verifier runs. Used by the
 * shipment detail route and every report.
 */
import type { Ledger } from '../../ledger/store/index.ts'
import type { ShipmentCreateBody } from '../../ledger/tlog/index.ts'
import type { ShipmentState } from '../../ledger/store/index.ts'
import { validateProfile, type RuleProfile, type ShipmentResult } from '../compliance/index.ts'
import { recomputeResult } from '../evidence/recompute.ts'
import { shipmentEvidenceEntries } from '../evidence/collect.ts'
import { readingView, resultView, deviceView, type ReadingView, type ResultView } from './views.ts'
import { ApiError } from './errors.ts'
import type { ReportInput } from '../reports/types.ts'
import { windowsOf } from '../../ledger/tlog/index.ts'

export interface ShipmentData {
  state: ShipmentState
  body: ShipmentCreateBody
  profile: RuleProfile | null
  readings: ReadingView[]
  /** Post-close evidence: readings above a close anchor with device times in the window (never part of the result). */
  postClose: ReadingView[]
  result: ShipmentResult | null
  view: ResultView | null
}

export function mustShipment(ledger: Ledger, id: string): ShipmentState {
  const s = ledger.shipment(id)
  if (!s) throw new ApiError('ERR_SHIPMENT_NOT_FOUND', `no shipment "${id}"`, 'params.id')
  return s
}

/**
 * `isLate` and `delayOf` are the live monitor's judgement (FleetMonitor.isLate, .delayOf), so lists, CSV
 * and reports mark the same readings late and show the delay that decided it.
 */
export async function loadShipment(
  ledger: Ledger,
  id: string,
  isLate: (deviceId: string, seq: number) => boolean,
  delayOf?: (deviceId: string, seq: number) => number | undefined,
): Promise<ShipmentData> {
  const state = mustShipment(ledger, id)
  const created = await ledger.getEntry(state.createIndex)
  const body = created.entry.body as ShipmentCreateBody
  let profile: RuleProfile | null = null
  try {
    profile = validateProfile(body.profile)
  } catch {
    profile = null
  }
  const entries = await ledger.readingsByShipment(id)
  const readings = entries.map((e) => {
    const v = readingView(e, Number.MAX_SAFE_INTEGER)
    v.late = isLate(v.deviceId, v.seq)
    v.delayMs = delayOf?.(v.deviceId, v.seq) ?? null
    return v
  })
  let result: ShipmentResult | null = null
  if (profile) {
    // The same input as the bundle's claimed result (declared gaps, forks, an early end included).
    const close =
      state.closedAt === undefined
        ? null
        : {
            closedAt: state.closedAt,
            ...(state.endsEarly !== undefined ? { endsEarly: { reason: state.endsEarly } } : {}),
          }
    result = recomputeResult(body, close, readings, await shipmentEvidenceEntries(ledger, id, entries))
  }
  const view = result && profile ? resultView(result, profile, state.closedAt !== undefined) : null
  const postClose =
    state.closedAt === undefined
      ? []
      : (await ledger.postCloseReadings(id)).map((e) => readingView(e, Number.MAX_SAFE_INTEGER))
  return { state, body, profile, readings, postClose, result, view }
}

/** Plain report data (dashboard/reports/types.ts) for one shipment. */
export function reportInput(
  ledger: Ledger,
  d: ShipmentData,
  generatedAt: number,
  bundleSha256: string | null,
): ReportInput {
  const cp = ledger.latestCheckpoint()
  // Every logger the shipment had (a removed one's readings up to its removal are evidence too).
  const loggers = windowsOf(d.state)
  const changed = loggers.some((w) => w.addIndex !== null || w.removeIndex !== null)
  return {
    ...(changed ? { loggers: loggers.map((w) => ({ deviceId: w.deviceId, from: w.from, until: w.until })) } : {}),
    shipment: {
      shipmentId: d.state.shipmentId,
      product: d.state.product,
      route: d.state.route,
      devices: loggers.map((w) => w.deviceId),
      gs1: d.state.gs1 ?? null,
      startAt: d.state.startAt,
      closedAt: d.state.closedAt ?? null,
      createdBy: d.state.createdBy,
      createdAt: d.state.createdAt,
      profileHash: d.state.profileHash,
      profile: (d.body.profile ?? {}) as Record<string, unknown>,
      range: { minCentiC: d.profile?.range.lowCentiC ?? null, maxCentiC: d.profile?.range.highCentiC ?? null },
    },
    readings: d.readings,
    postClose: d.postClose,
    endsEarly: d.state.endsEarly ?? null,
    receipt:
      d.state.receiveSignature && d.state.receivedAt !== undefined
        ? { receivedAt: d.state.receivedAt, signature: d.state.receiveSignature }
        : null,
    close:
      d.state.closedAt === undefined
        ? null
        : { by: d.state.closedBy ?? 'unknown', signature: d.state.closeSignature ?? null },
    result: d.view ?? {
      verdict: 'UNKNOWN_PROFILE',
      reasons: ['the logged rule profile does not validate'],
      mktCentiC: null,
      timeInRangeMs: null,
      timeAboveMs: null,
      timeBelowMs: null,
      excursions: [],
    },
    devices: loggers
      .map((w) => w.deviceId)
      .map((id) => {
        const dev = ledger.device(id)
        if (!dev)
          return {
            deviceId: id,
            publicKey: '',
            fingerprint: 'unknown device',
            model: null,
            calibration: null,
            revoked: false,
          }
        const v = deviceView(dev, null)
        return {
          deviceId: id,
          publicKey: v.publicKey,
          fingerprint: v.fingerprint,
          model: v.model,
          calibration: v.calibration,
          revoked: v.state === 'revoked',
        }
      }),
    checkpoint: cp ? { origin: ledger.origin, size: cp.size, rootHash: cp.rootHash, note: cp.note } : null,
    bundleSha256,
    generatedAt,
  }
}
