/**
 * Live tiles: a running ledger keeps its tlog-tiles directory current after
 * each logged checkpoint (ledger/tiles/publish.ts) and the dashboard serves
 * it under /tiles/ without a session; the independent reader
 * (node:crypto/node:http only) verifies it over HTTP as the log grows.
 */
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openLedger } from '../../ledger/store/index.ts'
import { attachTilesExport } from '../../ledger/tiles/index.ts'
import { simDevice } from '../../ledger/test/support.ts'
import {
  httpGet,
  inclusionPath,
  leafHashOf,
  readTiledLog,
  verifyInclusionPath,
} from '../../ledger/tiles/test/tlog-reader.ts'
import { buildDashboard } from '../server/app.ts'
import { openUserStore } from '../server/users.ts'

t.test('the dashboard serves the live ledger as tiles that an independent reader verifies', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'coldproof-live-tiles-'))
  const ledger = await openLedger({ dir: join(dir, 'ledger'), checkpointIntervalMs: 0 })
  const published = attachTilesExport(ledger, join(dir, 'tiles'), (r) => {
    if (!r.ok) t.fail(`export failed: ${r.error.message}`)
  })
  const users = await openUserStore({ file: join(dir, 'users.json'), seed: [] })
  const app = await buildDashboard({
    ledger,
    users,
    cookieSecret: randomBytes(32).toString('hex'),
    logger: false,
    integrityCheckOnStart: false,
    tilesDir: join(dir, 'tiles'),
  })
  // In this order: nothing writes into the directory once it is removed.
  t.teardown(async () => {
    await app.close()
    published.detach()
    await published.idle()
    await ledger.close()
    await rm(dir, { recursive: true, force: true })
  })
  const base = (await app.listen({ host: '127.0.0.1', port: 0 })) + '/tiles/'

  const grow = async (from: number, n: number) => {
    await Promise.all(
      Array.from({ length: n }, (_, i) => {
        const d = simDevice(`live-tile-${from + i}`, 1 + ((from + i) % 250))
        return ledger.registerDevice({ deviceId: d.id, publicKey: d.publicKey, by: 'qa@example.eu' })
      }),
    )
    await ledger.checkpoint()
    await published.idle()
  }
  for (const [from, n] of [
    [0, 260],
    [260, 30],
  ]) {
    await grow(from, n)
    const log = await readTiledLog(base, ledger.verifierKey)
    t.equal(
      log.checkpoint.size,
      ledger.latestCheckpoint()!.size,
      `the served checkpoint is the latest logged one (${log.checkpoint.size})`,
    )
    t.ok(
      log.rootFromTiles.equals(log.checkpoint.root) && log.rootFromEntries.equals(log.checkpoint.root),
      'roots from tiles and from bundles match the signed root',
    )
    const i = log.checkpoint.size - 1
    t.ok(
      verifyInclusionPath(
        leafHashOf(log.entries[i]),
        i,
        log.checkpoint.size,
        inclusionPath(log, i),
        log.checkpoint.root,
      ),
      'the newest entry is included',
    )
  }
  await t.rejects(httpGet(base, 'tile/0/x000/000'), /HTTP 404/, 'a non-canonical path is refused')
  t.match((await httpGet(base, 'tile/0/000')).headers['cache-control'], /immutable/)
})
