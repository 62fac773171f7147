/**
 * `coldproof verify-ledger` over a real ledger directory (LevelDB on disk,
 * written by openLedger): a clean ledger verifies (exit 0); one changed byte
 * in a stored entry fails at that index (exit 1); a locked or missing
 * directory cannot be checked (exit 2). Runs the real CLI as a child process.
 */
import t from 'tap'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { join } from 'node:path'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { fileURLToPath } from 'node:url'
import { ClassicLevel } from 'classic-level'
import { openLedger } from '../store/ledger.ts'
import { K } from '../store/keys-layout.ts'
import { toBase64, toHex } from '../protocol/bytes.ts'
import { signedReading, testDevice } from '../tlog/test/entries.ts'
import { checkLedger } from '../store/fsck.ts'
import { openLedgerDirReader } from '../store/fsck-reader.ts'
import { verifierKey } from '../tlog/note.ts'

const run = promisify(execFile)
const bin = fileURLToPath(new URL('../../bin/coldproof.js', import.meta.url))

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, 'verify-ledger', ...args], { timeout: 30_000 })
    return { code: 0, stdout, stderr }
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string }
    return { code: err.code, stdout: err.stdout, stderr: err.stderr }
  }
}

async function makeLedger(dir: string): Promise<string> {
  const ledger = await openLedger({
    dir,
    origin: 'coldproof.test/verify',
    checkpointEvery: 10,
    checkpointIntervalMs: 0,
  })
  const a = testDevice('probe-v1', 41),
    b = testDevice('probe-v2', 42)
  await ledger.registerDevice({ deviceId: a.id, publicKey: toHex(a.publicKey), by: 'qa' })
  await ledger.registerDevice({ deviceId: b.id, publicKey: toHex(b.publicKey), by: 'qa' })
  const now = Date.now()
  for (let s = 1; s <= 15; s++) {
    await Promise.all(
      [a, b].map((d) =>
        ledger.appendReading(
          { payload: toBase64(signedReading(d, 400 + s, now - 60_000 * (20 - s))), deviceId: d.id, seq: s },
          now,
        ),
      ),
    )
  }
  const vkey = ledger.verifierKey
  await ledger.close()
  return vkey
}

t.test('verify-ledger on a real ledger directory', async (t) => {
  // A private temp dir, not t.testdir(): the work tree is shared, and two concurrent runs of this
  // file would otherwise open the same LevelDB.
  const dir = await mkdtemp(join(tmpdir(), 'coldproof-verify-ledger-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const vkey = await makeLedger(dir)

  // Real CLI runs are few (each starts tsx): a clean one with --json, a locked one, a tampered one.
  const json = await cli(dir, '--key', vkey, '--json')
  t.equal(json.code, 0, `clean ledger verifies: ${json.stderr}`)
  const report = JSON.parse(json.stdout) as {
    ok: boolean
    readings: number
    devices: number
    checkpoint: { size: number }
  }
  t.ok(report.ok)
  t.equal(report.readings, 30)
  t.equal(report.devices, 2)
  t.ok(report.checkpoint.size >= 32, 'the close-time checkpoint covers the readings')

  // A running ledger holds the LevelDB lock: verify-ledger says so instead of failing obscurely.
  const db = new ClassicLevel<string, Uint8Array>(join(dir, 'db'), { keyEncoding: 'utf8', valueEncoding: 'view' })
  await db.open()
  const locked = await cli(dir, '--key', vkey)
  t.equal(locked.code, 2, `locked directory: exit 2 (${locked.stdout}${locked.stderr})`)
  t.match(locked.stderr, /in use by a running ledger/)

  // Tamper: one byte of a stored reading entry (a digit of its ledger time).
  const k = 17
  const original = new Uint8Array((await db.get(K.entry(k)))!) // a copy: Buffer#slice would be a view
  const bytes = new Uint8Array(original)
  const text = new TextDecoder().decode(bytes)
  const pos = text.indexOf('"time":') + 8
  bytes[pos] = bytes[pos] === 0x31 ? 0x32 : 0x31
  await db.put(K.entry(k), bytes)
  await db.close()
  const bad = await cli(dir, '--key', vkey)
  t.equal(bad.code, 1, 'tampered ledger: exit 1')
  t.match(bad.stdout, new RegExp(`first bad entry: ${k}\\b`), bad.stdout)
  t.match(bad.stdout, /ERR_FSCK_ENTRY_CHANGED/)

  // The same through the library, and once more with the tamper reverted.
  const reader = await openLedgerDirReader(dir)
  const r = await checkLedger(reader, { ledgerPublicKey: vkey })
  await reader.close()
  t.equal(r.failure?.index, k)
  const db2 = new ClassicLevel<string, Uint8Array>(join(dir, 'db'), { keyEncoding: 'utf8', valueEncoding: 'view' })
  await db2.open()
  await db2.put(K.entry(k), original)
  t.equal(toHex((await db2.get(K.entry(k)))!), toHex(original), 'restored bytes are stored')
  await db2.close()
  const restoredReader = await openLedgerDirReader(dir)
  const restored = await checkLedger(restoredReader, { ledgerPublicKey: vkey })
  await restoredReader.close()
  t.ok(restored.ok, `restored ledger verifies again: ${restored.failure?.message ?? ''}`)

  const wrongReader = await openLedgerDirReader(dir)
  const wrong = await checkLedger(wrongReader, {
    ledgerPublicKey: verifierKey('coldproof.test/verify', testDevice('x', 9).publicKey),
  })
  await wrongReader.close()
  t.equal(wrong.failure?.code, 'ERR_FSCK_CHECKPOINT_SIGNATURE', 'another ledger key (same name) does not verify')
  await t.rejects(openLedgerDirReader(join(dir, 'nope')), { code: 'ERR_LEDGER_DIR_MISSING' }, 'missing directory')
})
