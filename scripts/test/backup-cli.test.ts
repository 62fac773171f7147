/**
 * `coldproof backup` and `coldproof restore` as an operator runs them
 * (child processes on a real ledger directory): a stopped ledger is backed up
 * and restored into a new data directory, which verifies; a non-empty target
 * is refused without --force; a cut-short backup is refused; a running
 * (locked) ledger is pointed at the dashboard route.
 */
import t from 'tap'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'
import { mkdtemp, readFile, rm, stat, truncate } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { openLedger } from '../../ledger/store/index.ts'
import { toBase64, toHex } from '../../ledger/protocol/index.ts'
import { signedReading, testDevice } from '../../ledger/tlog/test/entries.ts'

const run = promisify(execFile)
const bin = fileURLToPath(new URL('../../bin/coldproof.js', import.meta.url))

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, ...args], { timeout: 60_000 })
    return { code: 0, stdout, stderr }
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string }
    return { code: err.code, stdout: err.stdout, stderr: err.stderr }
  }
}

t.test('backup a stopped ledger, restore it elsewhere, refuse what would lose data', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'coldproof-backup-cli-'))
  t.teardown(() => rm(root, { recursive: true, force: true }))
  const data = join(root, 'data')
  const ledger = await openLedger({ dir: join(data, 'ledger'), checkpointIntervalMs: 0 })
  const d = testDevice('cli-probe', 51)
  await ledger.registerDevice({ deviceId: d.id, publicKey: toHex(d.publicKey), by: 'qa' })
  for (let i = 0; i < 20; i++) {
    const p = signedReading(d, 400, Date.UTC(2026, 10, 1) + i * 60_000)
    await ledger.appendReading({ payload: toBase64(p), deviceId: d.id, seq: d.seq }, Date.UTC(2026, 10, 1) + i * 60_000)
  }
  const size = ledger.size()

  const out = join(root, 'b.ndjson')
  const locked = await cli('backup', data, out)
  t.equal(locked.code, 2, 'a running ledger: exit 2')
  t.match(locked.stderr, /in use by a running ledger.*--url <dashboard url> --token <admin API token>/s)
  await ledger.close()

  const b = await cli('backup', data, out)
  t.equal(b.code, 0, b.stderr)
  t.equal((await stat(out)).mode & 0o777, 0o600, 'the backup holds the signing key: mode 0600')
  const restoredData = join(root, 'restored')
  const r = await cli('restore', out, restoredData)
  t.equal(r.code, 0, r.stderr)
  t.match(r.stderr, new RegExp(`\\(${size + 1} entries\\)`), 'the close-time checkpoint entry is in the backup too')
  const v = await cli(
    'verify-ledger',
    join(restoredData, 'ledger'),
    '--key',
    (await readFile(join(data, 'ledger', 'ledger.vkey'), 'utf8')).trim(),
  )
  t.equal(v.code, 0, `the restored ledger verifies under the original key: ${v.stdout}${v.stderr}`)
  const reopened = await openLedger({ dir: join(restoredData, 'ledger'), checkpointIntervalMs: 0 })
  t.equal(reopened.device(d.id)?.contiguous, 20, 'and opens with every reading')
  await reopened.close()

  const again = await cli('restore', out, restoredData)
  t.equal(again.code, 1, 'a non-empty target is refused')
  t.match(again.stderr, /ERR_RESTORE_TARGET: .* is not empty/)
  const forced = await cli('restore', out, restoredData, '--force')
  t.equal(forced.code, 0, forced.stderr)
  t.match(forced.stderr, /moved the existing .* to .*\.before-restore-/)

  await truncate(out, (await stat(out)).size - 40)
  const cut = await cli('restore', out, join(root, 'cut'))
  t.equal(cut.code, 1, 'a cut-short backup is refused')
  t.match(cut.stderr, /ERR_BACKUP_TRUNCATED/)
  await t.rejects(stat(join(root, 'cut', 'ledger')), 'and leaves nothing behind')
})
