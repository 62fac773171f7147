/**
 * verifyBundle: the offline verifier of an evidence bundle (format.ts,
 * docs/BUNDLE.md). It trusts nothing in the bundle but the mathematics and
 * the ledger key the user pins: it checks every reading signature with its
 * own Ed25519 engine (WebCrypto, or @noble/ed25519 — never the ingest's Node
 * crypto), every device chain across the shipment window, every inclusion
 * proof against the one signed checkpoint, the checkpoint signature, the rule
 * profile hash, and that the compliance engine recomputes exactly the claimed
 * result. Pure (no Node API): the CLI and the browser's Verify page run it.
 */
import {
  BUNDLE_FORMAT,
  BUNDLE_VERSION,
  PARTITIONED_BUNDLE_VERSION,
  type EvidenceBundle,
  type PartitionedEvidenceBundle,
} from './format.ts'
import { verifyPartitionedBundle } from './verify-partitioned.ts'
import { pickEngine, type EngineName } from './verify-engines.ts'
import { isObj, parseEntries, readInput } from './verify-entries.ts'
import { checkCheckpoint, checkInclusion } from './verify-proofs.ts'
import { checkDevices, checkShipment } from './verify-shipment.ts'
import { checkSignatures, decodeChains } from './verify-readings.ts'
import { checkChains } from './verify-chains.ts'
import { checkForks, checkPostClose } from './verify-evidence.ts'
import { checkProfile, checkResult } from './verify-result.ts'
import { Checks, CHECK_ORDER, short, type VerifyOptions, type VerifyReport } from './verify-report.ts'
import { refuseInput } from './input-limits.ts'

// The public names, where importers have always found them.
export type { EngineName, SpreadSignatures } from './verify-engines.ts'
export { DEFAULT_MAX_BUNDLE_BYTES, MAX_JSON_DEPTH, refuseInput, refuseSize, type InputRefusal } from './input-limits.ts'
export {
  VERIFY_REASON_CODES,
  CHECK_TITLES,
  MAX_FINDINGS,
  closeSignatureLine,
  receiptLine,
  findingWhere,
  formatReport,
  headline,
  profileLine,
} from './verify-report.ts'
export type {
  VerifyProgress,
  VerifyOptions,
  VerifyReasonCode,
  Finding,
  CheckId,
  CheckResult,
  VerifyReport,
  Headline,
  ProfileFacts,
} from './verify-report.ts'

const FIELDS = {
  top: [
    'format',
    'version',
    'shipmentId',
    'ledger',
    'checkpoint',
    'shipment',
    'devices',
    'chains',
    'forks',
    'postClose',
    'acknowledgements',
    'claimed',
  ],
  shipment: ['create', 'close', 'receive', 'assignments'],
  device: ['deviceId', 'register', 'revoke'],
  chain: ['deviceId', 'before', 'readings', 'gaps'],
  ref: ['index', 'entry', 'proof'],
}

/** Every field the bundle format does not define, as a JSON path (the claimed result is checked whole, by equality). */
function unknownFields(b: EvidenceBundle): string[] {
  const out: string[] = []
  const extra = (o: unknown, allowed: string[], path: string) => {
    if (!isObj(o)) return
    for (const k of Object.keys(o)) if (!allowed.includes(k)) out.push(`${path}.${JSON.stringify(k)}`)
  }
  const refs = (v: unknown, path: string) => {
    if (Array.isArray(v)) v.forEach((r, i) => extra(r, FIELDS.ref, `${path}[${i}]`))
  }
  extra(b, FIELDS.top, '$')
  extra(b.ledger, ['origin', 'verifierKey'], '$.ledger')
  extra(b.shipment, FIELDS.shipment, '$.shipment')
  extra(b.shipment.create, FIELDS.ref, '$.shipment.create')
  extra(b.shipment.close, FIELDS.ref, '$.shipment.close')
  extra(b.shipment.receive, FIELDS.ref, '$.shipment.receive')
  refs(b.shipment.assignments, '$.shipment.assignments')
  b.devices.forEach((d, i) => {
    extra(d, FIELDS.device, `$.devices[${i}]`)
    if (isObj(d)) {
      extra(d.register, FIELDS.ref, `$.devices[${i}].register`)
      extra(d.revoke, FIELDS.ref, `$.devices[${i}].revoke`)
    }
  })
  b.chains.forEach((c, i) => {
    extra(c, FIELDS.chain, `$.chains[${i}]`)
    extra(c.before, FIELDS.ref, `$.chains[${i}].before`)
    refs(c.readings, `$.chains[${i}].readings`)
    refs(c.gaps, `$.chains[${i}].gaps`)
  })
  refs(b.forks, '$.forks')
  refs(b.postClose, '$.postClose')
  refs(b.acknowledgements, '$.acknowledgements')
  return out.slice(0, 20)
}

export async function verifyBundle(
  input: string | Uint8Array | EvidenceBundle | unknown,
  opts: VerifyOptions = {},
): Promise<VerifyReport> {
  const requested: EngineName = opts.engine ?? 'webcrypto'
  const engine = await pickEngine(requested, opts.spreadSignatures)
  const checks = new Checks()
  // Size and depth first: a hostile file is refused before it is hashed or parsed.
  const refused = typeof input === 'string' || input instanceof Uint8Array ? refuseInput(input, opts.maxBytes) : null
  const {
    bundle: raw,
    sha256: fileSha256,
    error,
  } = refused ? { bundle: null, sha256: null, error: undefined } : readInput(input)
  const report: VerifyReport = {
    format: 'coldproof-verify-report',
    version: 1,
    verified: false,
    result: 'NOT VERIFIED',
    shipmentId: null,
    bundleSha256: fileSha256,
    engine: { requested, used: engine.used, ...(engine.note ? { note: engine.note } : {}) },
    ledgerKey: { pinned: false, verifierKey: null, source: 'none' },
    checkpoint: null,
    counts: { entries: 0, readings: 0, devices: 0 },
    claimed: null,
    provisional: false,
    profile: null,
    checks: [],
  }
  const finish = () => {
    report.checks = checks.list()
    report.verified = report.checks.every((c) => c.ok)
    report.result = report.verified ? 'VERIFIED' : 'NOT VERIFIED'
    return report
  }
  const skipAll = (why: string) => {
    for (const id of CHECK_ORDER)
      if (id !== 'format') {
        const c = checks.map.get(id)!
        c.ok = false
        c.summary = `not checked: ${why}`
        c.failureCount = 0
      }
  }

  // ---- format ------------------------------------------------------------------------------
  if (refused) {
    checks.fail('format', refused)
    skipAll('the file was refused unread')
    return finish()
  }
  if (error !== undefined || !isObj(raw)) {
    checks.fail('format', {
      code: 'BUNDLE_MALFORMED',
      message: error !== undefined ? `not JSON: ${error}` : 'the bundle is not a JSON object',
    })
    skipAll('the file is not a bundle')
    return finish()
  }
  const b = raw as unknown as EvidenceBundle
  if (b.format === BUNDLE_FORMAT && (b.version as number) === PARTITIONED_BUNDLE_VERSION) {
    // A cluster shipment's bundle: partition logs under a root log (verify-partitioned.ts).
    await verifyPartitionedBundle(raw as unknown as PartitionedEvidenceBundle, opts, report, checks, engine)
    return finish()
  }
  if (b.format !== BUNDLE_FORMAT || b.version !== BUNDLE_VERSION) {
    checks.fail('format', {
      code: 'BUNDLE_VERSION',
      message: `format ${short(b.format)} version ${short(b.version)}; this verifier reads ${BUNDLE_FORMAT} versions ${BUNDLE_VERSION} and ${PARTITIONED_BUNDLE_VERSION}`,
    })
    skipAll('unknown bundle format or version')
    return finish()
  }
  report.shipmentId = typeof b.shipmentId === 'string' ? b.shipmentId : null
  const need = (ok: boolean, what: string) => {
    if (!ok) checks.fail('format', { code: 'BUNDLE_MALFORMED', message: `${what} is missing or malformed` })
  }
  need(typeof b.shipmentId === 'string', '"shipmentId"')
  need(typeof b.checkpoint === 'string', '"checkpoint"')
  need(isObj(b.shipment) && isObj(b.shipment.create), '"shipment.create"')
  need(
    !isObj(b.shipment) || b.shipment.assignments === undefined || Array.isArray(b.shipment.assignments),
    '"shipment.assignments"',
  )
  need(!isObj(b.shipment) || b.shipment.receive === undefined || isObj(b.shipment.receive), '"shipment.receive"')
  need(Array.isArray(b.devices), '"devices"')
  need(
    Array.isArray(b.chains) && b.chains.every((c) => isObj(c) && Array.isArray(c.readings) && Array.isArray(c.gaps)),
    '"chains" (each with "readings" and "gaps")',
  )
  need(Array.isArray(b.forks), '"forks"')
  need(Array.isArray(b.postClose), '"postClose"')
  need(Array.isArray(b.acknowledgements), '"acknowledgements"')
  need(isObj(b.claimed), '"claimed"')
  if (!checks.ok('format')) {
    skipAll('the bundle lacks required parts')
    return finish()
  }
  // The format is closed: a field it does not define could only carry text for some tool to show.
  for (const f of unknownFields(b))
    checks.fail('format', {
      code: 'BUNDLE_MALFORMED',
      message: `${f} is not a field of ${BUNDLE_FORMAT} version ${BUNDLE_VERSION}`,
    })

  const entries = parseEntries(b, checks)
  const { all, devices, chains } = entries
  report.counts = {
    entries: all.length,
    readings: chains.reduce((n, c) => n + c.readings.length, 0),
    devices: devices.length,
  }
  if (checks.ok('format'))
    checks.summary(
      'format',
      `${BUNDLE_FORMAT} v${BUNDLE_VERSION}: ${all.length} log entries, ${report.counts.readings} readings of ${chains.length} device chain(s)`,
    )

  // ---- ledger key and checkpoint ---------------------------------------------------------------
  const cp = await checkCheckpoint(b, opts, report, checks, engine)

  // ---- shipment record ----------------------------------------------------------------------
  const ship = checkShipment(b, entries, checks)
  // One partition's slice of a cluster shipment is not the shipment: its other loggers are in other logs.
  const others = ship.cb?.cluster?.devices.filter((d) => !ship.shipDevices.has(d)) ?? []
  if (others.length)
    checks.fail('shipment', {
      code: 'PARTITION_MISSING',
      message: `shipment ${ship.cb!.shipmentId} spans partition logs and this bundle holds one slice of it: logger(s) ${others.join(', ')} are in other partitions; verify its partitioned bundle (version 3) instead`,
      deviceId: others[0],
    })

  // ---- devices -----------------------------------------------------------------------------
  const kv = checkDevices(devices, ship, checks)

  // ---- readings: decode --------------------------------------------------------------------
  const { decoded, chainR, postR } = decodeChains(chains, entries.postClose, checks)
  const forks = checkForks(entries.forks, ship, checks)

  // ---- signatures and inclusion proofs -------------------------------------------------------
  // The signatures go out first (to worker threads, or as the platform's WebCrypto jobs) and the
  // proofs are checked on this thread meanwhile. Nothing between the two awaits, so progress still
  // comes one phase at a time; each check keeps its own findings, so the report is unchanged.
  const signatures = checkSignatures([...decoded.values(), ...forks.payloads], kv.keys, engine, opts, checks)
  checkInclusion(cp, all, opts, checks)
  await signatures

  // ---- chains and membership -----------------------------------------------------------------
  const gaps = checkChains(chainR, ship, kv, checks)
  checkPostClose(postR, ship, kv, checks)

  // ---- profile ------------------------------------------------------------------------------
  checkProfile(b, entries.create, checks, report)

  // ---- result --------------------------------------------------------------------------------
  checkResult(
    b,
    ship,
    chainR,
    { gaps, forks: forks.forks, ...(ship.changes.length ? { assignments: ship.changes } : {}) },
    report,
    checks,
  )
  report.provisional = ship.closeIndex === null
  report.closeSignature = ship.closeB?.signature ?? null
  if (ship.receipt) report.receipt = ship.receipt
  if (ship.changes.length)
    report.loggers = ship.windows.map((w) => ({ deviceId: w.deviceId, from: w.from, until: w.until }))
  if (ship.cb) report.createdBy = ship.cb.by
  return finish()
}
