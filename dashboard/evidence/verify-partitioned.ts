/**
 * The verifier of a partitioned bundle, version 3 (docs/BUNDLE.md,
 * "Partitioned bundles"): a cluster shipment's evidence across partition
 * logs under one signed root checkpoint. Every link is checked:
 *
 *   reading (or any entry) ─inclusion─▶ partition checkpoint ─signature─▶ partition key
 *   partition checkpoint ══ root entry {"p":k,"note":…} ─inclusion─▶ root checkpoint ─signature─▶ pinned root key
 *
 * Each partition's section is checked like a version 2 bundle of its slice
 * (the same check functions: chains, anchors, key validity, signatures,
 * gaps, forks, profile), with its findings marked with the partition; then
 * the slices must agree (one shipment, one window, one close), every logger of
 * the shipment's `cluster` list must sit in a section of its partition, and
 * the compliance engine must recompute the claimed result over all of them.
 * Pure (no Node API): the CLI and the browser run it.
 */
import { canonicalJson } from '../../ledger/tlog/index.ts'
import { parseCheckpoint, verifyCheckpoint, type Checkpoint } from '../../ledger/tlog/index.ts'
import { leafHash, verifyInclusion, MerkleError } from '../../ledger/tlog/index.ts'
import { parseNote, parseVerifierKey } from '../../ledger/tlog/index.ts'
import { equalBytes, toBase64 } from '../../ledger/protocol/index.ts'
import { partitionOf } from '../../ledger/protocol/index.ts'
import { rootLeafBytes } from '../../ledger/tlog/index.ts'
import type { GapBody, ReadingForkBody, ShipmentCloseBody, ShipmentCreateBody } from '../../ledger/tlog/index.ts'
import { mergedShipment } from './build.ts'
import {
  BUNDLE_FORMAT,
  PARTITIONED_BUNDLE_VERSION,
  type EvidenceBundle,
  type PartitionedEvidenceBundle,
  type PartitionEvidence,
} from './format.ts'
import type { Engine } from './verify-engines.ts'
import { isObj, parseEntries, strictBase64 } from './verify-entries.ts'
import { checkCheckpoint, checkInclusion } from './verify-proofs.ts'
import { checkDevices, checkShipment, type ShipmentFacts } from './verify-shipment.ts'
import { checkSignatures, decodeChains, type ChainReadings } from './verify-readings.ts'
import { checkChains } from './verify-chains.ts'
import { checkForks, checkPostClose } from './verify-evidence.ts'
import { checkProfile, checkResult } from './verify-result.ts'
import {
  Checks,
  CHECK_ORDER,
  short,
  type CheckId,
  type Finding,
  type VerifyOptions,
  type VerifyReport,
} from './verify-report.ts'

const SECTION_FIELDS = [
  'partition',
  'ledger',
  'checkpoint',
  'rootEntry',
  'shipment',
  'devices',
  'chains',
  'forks',
  'postClose',
  'acknowledgements',
]
const TOP_FIELDS = ['format', 'version', 'shipmentId', 'ledger', 'checkpoint', 'partitions', 'claimed']

/** One partition's checks: findings and notes go to the bundle's checks, marked with the partition. */
class PartitionChecks extends Checks {
  /** The partition checkpoint's line, kept apart from the bundle's 'checkpoint' check (which holds the root's). */
  readonly summaries = new Map<CheckId, string>()
  constructor(
    readonly parent: Checks,
    readonly partition: number,
  ) {
    super()
  }
  override fail(id: CheckId, f: Finding): void {
    super.fail(id, f)
    this.parent.fail(id, { ...f, message: `partition ${this.partition}: ${f.message}`, partition: this.partition })
  }
  override note(id: CheckId, n: string): void {
    this.parent.note(id, `partition ${this.partition}: ${n}`)
  }
  /** What a check left marked failed without a finding (e.g. "not checked: no readable checkpoint"). */
  flush(): void {
    for (const id of CHECK_ORDER) {
      const c = this.map.get(id)!
      if (!c.ok && c.failureCount === 0) {
        const p = this.parent.map.get(id)!
        p.ok = false
        p.summary = `partition ${this.partition}: ${c.summary}`
      }
    }
  }
}

interface SectionResult {
  k: number
  ship: ShipmentFacts
  chainR: ChainReadings[]
  gaps: GapBody[]
  forks: ReadingForkBody[]
  entries: number
  readings: number
  devices: number
  cp: Checkpoint | null
  summaries: Map<CheckId, string>
}

/** Root origin "<o>/root" ⇒ partition k's origin is "<o>/p<k>" (ledger/cluster/cluster-ingest.ts). */
const partitionOrigin = (rootOrigin: string, k: number) => `${rootOrigin.replace(/\/root$/, '')}/p${k}`

/** The partition checkpoint's signature (under its key), origin, and its root entry's inclusion in the root checkpoint. */
async function checkPartitionLinks(
  s: PartitionEvidence,
  k: number,
  root: Checkpoint | null,
  rootOrigin: string | null,
  opts: VerifyOptions,
  pc: PartitionChecks,
  engine: Engine,
): Promise<Checkpoint | null> {
  let cp: Checkpoint | null = null
  try {
    cp = parseCheckpoint(parseNote(s.checkpoint).text)
  } catch (e) {
    pc.fail('checkpoint', {
      code: 'CHECKPOINT_MALFORMED',
      message: `the partition checkpoint is not a signed tlog-checkpoint: ${(e as Error).message}`,
    })
  }
  const pinned = opts.partitionKeys?.[k]
  const key = pinned ?? (isObj(s.ledger) && typeof s.ledger.verifierKey === 'string' ? s.ledger.verifierKey : null)
  if (cp) {
    try {
      if (!key) throw new Error('no partition verifier key')
      const name = parseVerifierKey(key).name
      await verifyCheckpoint(s.checkpoint, key, { origin: name, verify: engine.noteVerify })
      pc.summaries.set(
        'checkpoint',
        `partition ${k} signed by ${name} (${pinned ? 'pinned' : 'key from the bundle, vouched for by the root checkpoint'}): tree size ${cp.size}`,
      )
    } catch (e) {
      const code = (e as { code?: string }).code
      pc.fail('checkpoint', {
        code: 'CHECKPOINT_SIGNATURE',
        message: `the partition checkpoint is not signed by ${pinned ? 'the pinned partition key' : 'the partition key'}: ${code ? `${code}: ` : ''}${(e as Error).message}`,
      })
    }
    if (rootOrigin !== null && cp.origin !== partitionOrigin(rootOrigin, k))
      pc.fail('checkpoint', {
        code: 'PARTITION_MISMATCH',
        message: `the checkpoint of partition ${k} has origin ${short(cp.origin)}, expected ${partitionOrigin(rootOrigin, k)} under root ${rootOrigin}`,
      })
  }
  // The root entry: exactly the leaf the root log wrote for this partition's checkpoint, in the root tree.
  const re = s.rootEntry
  if (!isObj(re) || !Number.isSafeInteger(re.index) || re.index < 0 || !Array.isArray(re.proof)) {
    pc.fail('format', { code: 'BUNDLE_MALFORMED', message: '"rootEntry" is not { index, entry, proof[] }' })
    return cp
  }
  const bytes = strictBase64(re.entry)
  if (!bytes || !equalBytes(bytes, rootLeafBytes({ p: k, note: String(s.checkpoint) }))) {
    pc.fail('inclusion', {
      code: 'ROOT_ENTRY_MISMATCH',
      message: `root entry ${re.index} is not the root log's record of this partition's checkpoint ({"p":${k},"note":<the section's checkpoint>})`,
      entryIndex: re.index,
    })
  } else if (root) {
    const proof = re.proof.map(strictBase64)
    try {
      if (proof.some((h) => h === null)) throw new Error('a proof hash is not canonical base64')
      verifyInclusion(leafHash(bytes), re.index, root.size, proof as Uint8Array[], root.rootHash)
    } catch (e) {
      const why = e instanceof MerkleError ? `${e.code}: ${e.message}` : (e as Error).message
      pc.fail('inclusion', {
        code: 'ROOT_INCLUSION_FAILED',
        message: `root entry ${re.index} (this partition's checkpoint) is not in the root checkpoint's tree as given (${why})`,
        entryIndex: re.index,
      })
    }
  }
  return cp
}

/** One partition's section, checked as a version 2 bundle of its slice (no result: that is the whole shipment's). */
async function checkSection(
  b: PartitionedEvidenceBundle,
  s: PartitionEvidence,
  k: number,
  root: Checkpoint | null,
  rootOrigin: string | null,
  opts: VerifyOptions,
  report: VerifyReport,
  checks: Checks,
  engine: Engine,
): Promise<SectionResult> {
  const pc = new PartitionChecks(checks, k)
  const sub = {
    ...s,
    format: BUNDLE_FORMAT,
    version: 2,
    shipmentId: b.shipmentId,
    claimed: b.claimed,
  } as unknown as EvidenceBundle
  const entries = parseEntries(sub, pc)
  const cp = await checkPartitionLinks(s, k, root, rootOrigin, opts, pc, engine)
  checkInclusion(cp, entries.all, opts, pc)
  const ship = checkShipment(sub, entries, pc)
  const kv = checkDevices(entries.devices, ship, pc)
  const { decoded, chainR, postR } = decodeChains(entries.chains, entries.postClose, pc)
  const forks = checkForks(entries.forks, ship, pc)
  await checkSignatures([...decoded.values(), ...forks.payloads], kv.keys, engine, opts, pc)
  const gaps = checkChains(chainR, ship, kv, pc)
  checkPostClose(postR, ship, kv, pc)
  const profile = report.profile
  checkProfile(sub, entries.create, pc, report)
  report.profile = profile ?? report.profile
  pc.flush()
  const summaries = new Map<CheckId, string>()
  for (const id of CHECK_ORDER) {
    const c = pc.map.get(id)!
    if (c.summary) summaries.set(id, c.summary)
  }
  if (pc.summaries.has('checkpoint')) summaries.set('checkpoint', pc.summaries.get('checkpoint')!)
  return {
    k,
    ship,
    chainR,
    gaps,
    forks: forks.forks,
    entries: entries.all.length,
    readings: entries.chains.reduce((n, c) => n + c.readings.length, 0),
    devices: entries.devices.length,
    cp,
    summaries,
  }
}

/** The body of a create entry without what differs between slices (devices and their anchors). */
const sliceIdentity = (c: ShipmentCreateBody) => {
  const { devices: _d, anchors: _a, ...rest } = c
  return canonicalJson(rest)
}
const closeIdentity = (c: ShipmentCloseBody) => canonicalJson({ shipmentId: c.shipmentId, closedAt: c.closedAt })

/** The slices make one shipment: same identity, the loggers of each in their partition's section, no partition left out. */
function checkSlices(sections: SectionResult[], checks: Checks): void {
  const withCreate = sections.filter((x) => x.ship.cb)
  if (withCreate.length === 0) return
  const first = withCreate[0].ship.cb!
  const cluster = first.cluster
  if (!cluster) {
    checks.fail('shipment', {
      code: 'PARTITION_MISMATCH',
      message: `the shipment.create entry of partition ${withCreate[0].k} has no "cluster" list of loggers: it is not a cluster shipment, so the bundle cannot show that no partition is left out`,
    })
    return
  }
  for (const x of withCreate) {
    if (sliceIdentity(x.ship.cb!) !== sliceIdentity(first))
      checks.fail('shipment', {
        code: 'PARTITION_MISMATCH',
        message: `partition ${x.k}'s shipment.create differs from partition ${withCreate[0].k}'s (product, route, profile, window, creator or logger list)`,
        entryIndex: x.ship.createIndex ?? undefined,
        partition: x.k,
      })
    const want = cluster.devices.filter((d) => partitionOf(d) % cluster.partitions === x.k)
    if (canonicalJson(x.ship.cb!.devices) !== canonicalJson(want))
      checks.fail('shipment', {
        code: 'PARTITION_MISMATCH',
        message: `partition ${x.k}'s slice lists loggers ${x.ship.cb!.devices.join(', ')}; the shipment's loggers in partition ${x.k} of ${cluster.partitions} are ${want.join(', ') || 'none'}`,
        partition: x.k,
      })
  }
  const closes = sections.map((x) => x.ship.closeB).filter((c): c is ShipmentCloseBody => c !== null)
  for (const c of closes)
    if (closeIdentity(c) !== closeIdentity(closes[0]))
      checks.fail('shipment', {
        code: 'PARTITION_MISMATCH',
        message: `the slices are closed at different times (${new Date(closes[0].closedAt).toISOString()} and ${new Date(c.closedAt).toISOString()})`,
      })
  const given = new Set(sections.map((x) => x.k))
  const needed = new Map<number, string[]>()
  for (const d of cluster.devices) {
    const k = partitionOf(d) % cluster.partitions
    needed.set(k, [...(needed.get(k) ?? []), d])
  }
  for (const [k, ids] of needed) {
    if (!given.has(k))
      checks.fail('shipment', {
        code: 'PARTITION_MISSING',
        message: `the bundle has no section for partition ${k} of ${cluster.partitions}, which holds logger(s) ${ids.join(', ')} of the shipment`,
        deviceId: ids[0],
        partition: k,
      })
  }
  for (const k of given)
    if (!needed.has(k))
      checks.fail('shipment', {
        code: 'PARTITION_MISMATCH',
        message: `the bundle has a section for partition ${k}, which holds none of the shipment's loggers`,
        partition: k,
      })
}

export async function verifyPartitionedBundle(
  b: PartitionedEvidenceBundle,
  opts: VerifyOptions,
  report: VerifyReport,
  checks: Checks,
  engine: Engine,
): Promise<void> {
  const need = (ok: boolean, what: string) => {
    if (!ok) checks.fail('format', { code: 'BUNDLE_MALFORMED', message: `${what} is missing or malformed` })
  }
  need(typeof b.shipmentId === 'string', '"shipmentId"')
  need(typeof b.checkpoint === 'string', '"checkpoint" (the root checkpoint)')
  need(isObj(b.claimed), '"claimed"')
  need(
    Array.isArray(b.partitions) &&
      b.partitions.length > 0 &&
      b.partitions.every(
        (s) =>
          isObj(s) &&
          Number.isSafeInteger(s.partition) &&
          s.partition >= 0 &&
          typeof s.checkpoint === 'string' &&
          isObj(s.shipment) &&
          isObj(s.shipment.create) &&
          Array.isArray(s.devices) &&
          Array.isArray(s.chains) &&
          s.chains.every((c) => isObj(c) && Array.isArray(c.readings) && Array.isArray(c.gaps)) &&
          Array.isArray(s.forks) &&
          Array.isArray(s.postClose) &&
          Array.isArray(s.acknowledgements),
      ),
    '"partitions" (each with partition, checkpoint, rootEntry, shipment, devices, chains, forks, postClose, acknowledgements)',
  )
  if (checks.ok('format')) {
    for (const k of Object.keys(b))
      if (!TOP_FIELDS.includes(k))
        checks.fail('format', {
          code: 'BUNDLE_MALFORMED',
          message: `$.${JSON.stringify(k)} is not a field of ${BUNDLE_FORMAT} version ${PARTITIONED_BUNDLE_VERSION}`,
        })
    b.partitions.forEach((s, i) => {
      for (const k of Object.keys(s))
        if (!SECTION_FIELDS.includes(k))
          checks.fail('format', {
            code: 'BUNDLE_MALFORMED',
            message: `$.partitions[${i}].${JSON.stringify(k)} is not a field of a partition section`,
          })
    })
    const ks = b.partitions.map((s) => s.partition)
    if (new Set(ks).size !== ks.length)
      checks.fail('format', { code: 'PARTITION_MISMATCH', message: `a partition has two sections (${ks.join(', ')})` })
  }
  if (!checks.ok('format')) {
    for (const id of CHECK_ORDER)
      if (id !== 'format') {
        const c = checks.map.get(id)!
        c.ok = false
        c.summary = 'not checked: the bundle lacks required parts'
        c.failureCount = 0
      }
    return
  }
  report.shipmentId = b.shipmentId

  // The root: pinned key, root checkpoint signature (and witness cosignatures on it).
  const root = await checkCheckpoint(b as unknown as EvidenceBundle, opts, report, checks, engine)
  const rootSummary = checks.map.get('checkpoint')!.summary
  const sections: SectionResult[] = []
  for (const s of b.partitions)
    sections.push(await checkSection(b, s, s.partition, root, root?.origin ?? null, opts, report, checks, engine))
  checkSlices(sections, checks)

  // The whole shipment: its result over every partition's readings.
  const creates = sections.map((x) => x.ship.cb)
  if (creates.every((c) => c !== null)) {
    const { create, close } = mergedShipment(
      creates as ShipmentCreateBody[],
      sections.map((x) => x.ship.closeB),
    )
    const facts = { ...sections[0].ship, cb: create, closeB: close as ShipmentCloseBody | null }
    checkResult(
      b as unknown as EvidenceBundle,
      facts,
      sections.flatMap((x) => x.chainR),
      { gaps: sections.flatMap((x) => x.gaps), forks: sections.flatMap((x) => x.forks) },
      report,
      checks,
    )
  } else {
    checks.fail('result', {
      code: 'RESULT_UNCOMPUTABLE',
      message: 'a partition has no valid shipment.create entry to evaluate against',
    })
  }

  report.counts = {
    entries: sections.reduce((n, x) => n + x.entries, 0),
    readings: sections.reduce((n, x) => n + x.readings, 0),
    devices: sections.reduce((n, x) => n + x.devices, 0),
  }
  report.partitions = sections.map((x) => ({
    partition: x.k,
    origin: x.cp?.origin ?? null,
    size: x.cp?.size ?? null,
    rootHash: x.cp ? toBase64(x.cp.rootHash) : null,
  }))
  report.provisional = sections.some((x) => x.ship.closeIndex === null)
  report.closeSignature = sections.find((x) => x.ship.closeB?.signature)?.ship.closeB?.signature ?? null
  // Summaries: the root's line, then each partition's.
  const joined = (id: CheckId) =>
    sections
      .filter((x) => x.summaries.has(id))
      .map((x) => (id === 'checkpoint' ? x.summaries.get(id) : `partition ${x.k}: ${x.summaries.get(id)}`))
      .join('; ')
  if (checks.ok('format'))
    checks.summary(
      'format',
      `${BUNDLE_FORMAT} v${PARTITIONED_BUNDLE_VERSION}: ${sections.length} partition(s), ${report.counts.entries} log entries, ${report.counts.readings} readings`,
    )
  if (checks.ok('checkpoint')) checks.summary('checkpoint', `root ${rootSummary}; ${joined('checkpoint')}`)
  if (checks.ok('inclusion'))
    checks.summary(
      'inclusion',
      `${report.counts.entries} entries in their partition checkpoints; ${sections.length} partition checkpoint(s) in the root tree of size ${root?.size}`,
    )
  for (const id of ['shipment', 'devices', 'signatures', 'chains', 'membership', 'profile'] as const)
    if (checks.ok(id) && !checks.map.get(id)!.summary) checks.summary(id, joined(id))
}
