/**
 * `coldproof report <shipmentId> --bundle`: writes a shipment's evidence
 * bundle (docs/BUNDLE.md), from a data directory on this machine (--data,
 * default $COLDPROOF_DATA or ./.data): read directly when no `coldproof start`
 * holds it, or through the running system's dashboard found in its
 * local-access.json; or from any dashboard (--url and --token:
 * GET /api/shipments/<id>/bundle.json).
 *
 *   coldproof report SHIP-1 --bundle --out SHIP-1-bundle.json
 *   coldproof report SHIP-1 --bundle --data .data --out SHIP-1-bundle.json
 *   coldproof report SHIP-1 --bundle --url http://127.0.0.1:8080 --token $COLDPROOF_TOKEN
 *
 * A cluster data directory (<data>/cluster/layout.json, docs/SCALING.md) gives the
 * partitioned bundle (version 3), read from the partition ledgers and the root log
 * while the cluster ingest is stopped (the cluster mode serves no dashboard).
 *
 * Exit code: 0 written; 2 could not (unknown shipment, locked or missing ledger, HTTP error).
 */
import type { Command } from 'commander'
import { existsSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { openLedger } from '../../ledger/store/index.ts'
import { buildBundle } from '../../dashboard/evidence/build.ts'
import { collectBundleInputs, type BundleOptions } from '../../dashboard/evidence/collect.ts'
import { bundleHash } from '../../dashboard/evidence/format.ts'
import { readLocalAccess } from '../local-access.ts'
import { buildPartitionedBundle } from '../../dashboard/evidence/build.ts'
import { collectPartitionedBundleInputs } from '../../dashboard/evidence/collect-partitioned.ts'
import { readRootLog } from '../../ledger/cluster/index.ts'
import { readFile } from 'node:fs/promises'

interface ReportOptions {
  bundle?: boolean
  out?: string
  data?: string
  url?: string
  token?: string
  postClose?: boolean
  cosigned?: boolean
}

class ReportError extends Error {}
class LedgerLocked extends Error {}

/** The ledger directory: <data>/ledger (as `coldproof start` lays it out) or <data> itself. */
function ledgerDir(data: string): string {
  if (existsSync(join(data, 'ledger', 'db'))) return join(data, 'ledger')
  if (existsSync(join(data, 'db'))) return data
  throw new ReportError(
    `no ledger in ${data}: expected ${join(data, 'ledger', 'db')} (a coldproof data directory) or ${join(data, 'db')}`,
  )
}

/** Opens a ledger of a stopped system; a held one is LedgerLocked. */
async function openStopped(dir: string) {
  try {
    return await openLedger({ dir, checkpointIntervalMs: 0 })
  } catch (e) {
    const err = e as Error & { code?: string; cause?: { code?: string; message?: string } }
    if (
      err.code === 'LEVEL_LOCKED' ||
      err.cause?.code === 'LEVEL_LOCKED' ||
      /lock/i.test(`${err.message} ${err.cause?.message ?? ''}`)
    ) {
      throw new LedgerLocked(dir)
    }
    throw new ReportError(`cannot open the ledger in ${dir}: ${err.message}`)
  }
}

/** The cluster directory of a cluster data directory (<data>/cluster, or <data> itself), if it is one. */
function clusterDir(data: string): string | undefined {
  for (const d of [join(data, 'cluster'), data])
    if (existsSync(join(d, 'layout.json')) && existsSync(join(d, 'root'))) return d
  return undefined
}

/** The partitioned bundle (version 3) of a stopped cluster ingest: every partition ledger and the root log, read offline. */
async function fromCluster(dir: string, shipmentId: string, bo: BundleOptions): Promise<string> {
  if (bo.cosigned)
    throw new ReportError('--cosigned is not available for a partitioned bundle yet (the root log has no witnesses)')
  const { partitions } = JSON.parse(await readFile(join(dir, 'layout.json'), 'utf8')) as { partitions: number }
  const ledgers = []
  try {
    for (let k = 0; k < partitions; k++) {
      try {
        ledgers.push(await openStopped(join(dir, 'partitions', `p${k}`)))
      } catch (e) {
        if (e instanceof LedgerLocked)
          throw new ReportError(
            `the partition ledger ${e.message} is held by a running \`coldproof start --cluster\`; stop it first (the cluster mode serves no dashboard to ask instead)`,
          )
        throw e
      }
    }
    const root = await readRootLog(join(dir, 'root'))
    if (!ledgers.some((l) => l.shipment(shipmentId)))
      throw new ReportError(`no shipment "${shipmentId}" in any of the ${partitions} partition ledgers in ${dir}`)
    return buildPartitionedBundle(
      await collectPartitionedBundleInputs(ledgers, root, shipmentId, { postClose: !!bo.postClose }),
    ).json
  } finally {
    for (const l of ledgers) await l.close()
  }
}

async function fromLedger(data: string, shipmentId: string, bo: BundleOptions): Promise<string> {
  const cluster = clusterDir(data)
  if (cluster) return fromCluster(cluster, shipmentId, bo)
  const dir = ledgerDir(data)
  const ledger = await openStopped(dir)
  try {
    if (!ledger.shipment(shipmentId)) throw new ReportError(`no shipment "${shipmentId}" in the ledger in ${dir}`)
    return buildBundle(await collectBundleInputs(ledger, shipmentId, bo)).json
  } finally {
    await ledger.close()
  }
}

async function fromDashboard(
  url: string,
  token: string | undefined,
  shipmentId: string,
  bo: BundleOptions,
): Promise<string> {
  const q = new URLSearchParams({
    ...(bo.postClose ? { postClose: 'true' } : {}),
    ...(bo.cosigned ? { cosigned: 'true' } : {}),
  }).toString()
  const target = new URL(`/api/shipments/${encodeURIComponent(shipmentId)}/bundle.json${q ? `?${q}` : ''}`, url)
  let res: Response
  try {
    res = await fetch(target, {
      headers: { accept: 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    })
  } catch (e) {
    throw new ReportError(`cannot reach ${target.origin}: ${(e as Error).message}`)
  }
  const text = await res.text()
  if (!res.ok) {
    let msg = text
    try {
      const j = JSON.parse(text) as { code?: string; message?: string }
      msg = `${j.code}: ${j.message}`
    } catch {
      /* plain text */
    }
    throw new ReportError(
      `${target.href} answered HTTP ${res.status}: ${msg}${res.status === 401 ? ' (pass --token with an API token)' : ''}`,
    )
  }
  const claimed = res.headers.get('x-content-sha256')
  if (claimed && claimed !== bundleHash(text))
    throw new ReportError(
      `the bundle received does not hash to the server's x-content-sha256 (${claimed}): transfer damaged`,
    )
  return text
}

/** The data directory's ledger if no system holds it, else that running system's dashboard (local-access.json). */
async function fromDataDir(data: string, shipmentId: string, bo: BundleOptions): Promise<string> {
  try {
    return await fromLedger(data, shipmentId, bo)
  } catch (e) {
    if (!(e instanceof LedgerLocked)) throw e
    const access = readLocalAccess(data)
    if ('problem' in access) {
      throw new ReportError(
        `the ledger in ${e.message} is held by a running \`coldproof start\` and ${access.problem}; add --url <its dashboard> --token <API token> instead of --data`,
      )
    }
    return fromDashboard(access.url, access.token, shipmentId, bo)
  }
}

export async function reportCommand(shipmentId: string, o: ReportOptions): Promise<number> {
  try {
    if (!o.bundle)
      throw new ReportError(
        'only --bundle is available here; the PDF report is downloaded from the dashboard (GET /api/shipments/<id>/report.pdf)',
      )
    if (o.data && o.url)
      throw new ReportError(
        "give --data <dataDir> (this machine's system, running or not) or --url <dashboard> --token <API token>, not both",
      )
    if (o.token && !o.url)
      throw new ReportError(
        '--token goes with --url <dashboard>; for the system on this machine give only --data (default ./.data)',
      )
    const bo: BundleOptions = { postClose: !!o.postClose, cosigned: !!o.cosigned }
    const json = o.url
      ? await fromDashboard(o.url, o.token, shipmentId, bo)
      : await fromDataDir(o.data ?? process.env.COLDPROOF_DATA ?? './.data', shipmentId, bo)
    const sha = bundleHash(json)
    if (o.out) {
      await writeFile(o.out, json)
      process.stderr.write(
        `wrote ${o.out} (${json.length} bytes), SHA-256 ${sha}\nverify it with: coldproof verify ${o.out} --key <the ledger's published verifier key${json.includes('"version": 3') ? " (a partitioned bundle: the root log's, <data>/cluster/root/ledger.vkey)" : ''}>\n`,
      )
    } else {
      process.stdout.write(json)
    }
    return 0
  } catch (e) {
    if (!(e instanceof ReportError) && !(e instanceof Error)) throw e
    process.stderr.write(`report: ${(e as Error).message}\n`)
    return 2
  }
}

export function register(program: Command): void {
  program
    .command('report')
    .description("write a shipment's evidence bundle, from a ledger directory or a running dashboard")
    .argument('<shipmentId>', 'the shipment')
    .option('--bundle', 'write the evidence bundle (docs/BUNDLE.md)')
    .option(
      '--post-close',
      'a closed shipment\'s post-close supplement instead of its frozen bundle (docs/BUNDLE.md, "Frozen at the close")',
    )
    .option(
      '--cosigned',
      'add the witness cosignatures stored for the bundle\'s checkpoint (docs/BUNDLE.md, "Witness cosignatures")',
    )
    .option('--out <file>', 'output file (default: standard output)')
    .option(
      '--data <dataDir>',
      'coldproof data directory (or ledger directory) on this machine, running or stopped (default: $COLDPROOF_DATA or ./.data)',
    )
    .option('--url <dashboard>', 'a running dashboard, e.g. http://127.0.0.1:8080')
    .option('--token <token>', 'API token for --url (Authorization: Bearer)')
    .action(async (shipmentId: string, o: ReportOptions) => {
      process.exitCode = await reportCommand(shipmentId, o)
    })
}
