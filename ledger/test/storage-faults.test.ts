/**
 * Storage faults in a real ledger directory (issue 13, items 1 and 2). A
 * ledger is written in two sessions, so its database holds a table file (the
 * first session, compacted on reopen), a write-ahead log of several 32 KiB
 * blocks (the second), a MANIFEST and CURRENT. Each test damages one file
 * kind the way a disk or an operator might, then asserts that
 *   - openLedger refuses to start, with a typed code and a message naming
 *     the file and pointing at the recovery docs (never an empty ledger),
 *   - the offline check (what `coldproof verify-ledger` runs) fails with its
 *     own code (never ✔), and leaves every file of the directory unchanged.
 */
import t from 'tap'
import { createHash } from 'node:crypto'
import { cp, readdir, readFile, rm, stat, truncate, unlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { openLedger } from '../store/ledger.ts'
import { openLedgerDirReader } from '../store/fsck-reader.ts'
import { checkLedger } from '../store/fsck.ts'
import { readVerifierKey } from '../store/ledger-key.ts'
import { ANCHOR_FILE, readAnchors } from '../store/anchor-log.ts'
import { toBase64, toHex } from '../protocol/bytes.ts'
import { signedReading, testDevice } from '../tlog/test/entries.ts'
import { tempDir } from './support.ts'

const dev = testDevice('fault-probe', 23)
const T = Date.UTC(2026, 10, 1)

/** Writes `n` readings, one batch each (a fsync'd LevelDB write per reading). */
async function session(dir: string, n: number): Promise<void> {
  const ledger = await openLedger({ dir, checkpointEvery: 50, checkpointIntervalMs: 0 })
  if (!ledger.device(dev.id))
    await ledger.registerDevice({ deviceId: dev.id, publicKey: toHex(dev.publicKey), by: 'qa' })
  for (let i = 0; i < n; i++) {
    const payload = signedReading(dev, 500, T + dev.seq * 60_000)
    const e = await ledger.appendReading(
      { payload: toBase64(payload), deviceId: dev.id, seq: dev.seq },
      T + dev.seq * 60_000,
    )
    await ledger.whenAnchored(e.entry.index)
  }
  await ledger.close()
}

/** A pristine two-session ledger, built once (the device's chain continues across sessions) and copied for each case. */
let built: Promise<string> | undefined
function pristine(): Promise<string> {
  built ??= (async () => {
    const { dir } = await tempDir('coldproof-faults-base-')
    await session(dir, 40)
    await session(dir, 60)
    return dir
  })()
  return built
}
t.teardown(async () => {
  if (built) await rm(await built, { recursive: true, force: true })
})

async function fingerprint(dir: string): Promise<string> {
  const out: string[] = []
  for (const sub of ['', 'db']) {
    for (const name of (await readdir(join(dir, sub)).catch(() => [] as string[])).sort()) {
      const p = join(dir, sub, name)
      if ((await stat(p)).isDirectory() || name === 'LOCK') continue
      out.push(
        `${sub}/${name}:${createHash('sha256')
          .update(await readFile(p))
          .digest('hex')}`,
      )
    }
  }
  return out.join('\n')
}

const dbFile = async (dir: string, re: RegExp): Promise<string> => {
  const name = (await readdir(join(dir, 'db'))).find((n) => re.test(n))
  if (!name) throw new Error(`no ${re} in ${dir}/db`)
  return name
}

async function flip(path: string, offsetFrom: (size: number) => number): Promise<void> {
  const b = await readFile(path)
  const o = offsetFrom(b.length)
  b[o] ^= 0x5a
  await writeFile(path, b)
}

interface Case {
  name: string
  damage: (dir: string) => Promise<string | void>
  start: string
  fsck: string
  /** Text the start error must contain (besides the recovery pointer). */
  names?: RegExp | ((file: string) => RegExp)
  /** The damage removes checkpoints.log itself. */
  anchorGone?: boolean
}

const CASES: Case[] = [
  {
    name: 'one flipped byte in the last block of the write-ahead log',
    damage: async (dir) => {
      const f = await dbFile(dir, /\.log$/)
      await flip(join(dir, 'db', f), (n) => n - 200)
      return f
    },
    start: 'ERR_LEDGER_DB_DAMAGED',
    fsck: 'ERR_FSCK_DB_DAMAGED',
    names: (f) => new RegExp(`${f}: record at offset \\d+ .*CRC`),
  },
  {
    name: 'one flipped byte in an earlier block of the write-ahead log',
    damage: async (dir) => {
      const f = await dbFile(dir, /\.log$/)
      await flip(join(dir, 'db', f), () => 32 * 1024 + 100)
      return f
    },
    start: 'ERR_LEDGER_DB_DAMAGED',
    fsck: 'ERR_FSCK_DB_DAMAGED',
    names: (f) => new RegExp(`${f}: record at offset \\d+ \\(\\d+ bytes, block 1\\)`),
  },
  {
    name: 'one flipped byte in a table file',
    damage: async (dir) => {
      const f = await dbFile(dir, /\.ldb$/)
      await flip(join(dir, 'db', f), (n) => Math.floor(n / 3))
      return f
    },
    start: 'ERR_LEDGER_DB_DAMAGED',
    fsck: 'ERR_FSCK_DB_DAMAGED',
    names: (f) => new RegExp(`${f}: data block at offset \\d+`),
  },
  {
    name: 'one flipped byte in the MANIFEST',
    damage: async (dir) => {
      const f = await dbFile(dir, /^MANIFEST-/)
      await flip(join(dir, 'db', f), (n) => n - 10)
      return f
    },
    start: 'ERR_LEDGER_DB_DAMAGED',
    fsck: 'ERR_FSCK_DB_DAMAGED',
    names: (f) => new RegExp(f),
  },
  {
    name: 'CURRENT deleted',
    damage: async (dir) => {
      await unlink(join(dir, 'db', 'CURRENT'))
    },
    start: 'ERR_LEDGER_DB_MISSING',
    fsck: 'ERR_FSCK_DB_MISSING',
    names: /CURRENT is missing/,
  },
  {
    name: 'the table file deleted',
    damage: async (dir) => {
      const f = await dbFile(dir, /\.ldb$/)
      await unlink(join(dir, 'db', f))
      return f
    },
    start: 'ERR_LEDGER_DB_DAMAGED',
    fsck: 'ERR_FSCK_DB_DAMAGED',
    names: (f) => new RegExp(`missing files.*${f.replace('.', '\\.')}`),
  },
  {
    name: 'the table file truncated',
    damage: async (dir) => {
      const f = await dbFile(dir, /\.ldb$/)
      const p = join(dir, 'db', f)
      await truncate(p, Math.floor((await stat(p)).size / 2))
      return f
    },
    start: 'ERR_LEDGER_DB_DAMAGED',
    fsck: 'ERR_FSCK_DB_DAMAGED',
    names: (f) => new RegExp(`${f}: table footer`),
  },
  {
    // A cut at a record boundary looks like a crash's torn tail to LevelDB, and the entries after it are gone.
    name: 'the write-ahead log truncated (its last batches cut off)',
    damage: async (dir) => {
      const f = await dbFile(dir, /\.log$/)
      const p = join(dir, 'db', f)
      await truncate(p, (await stat(p)).size - 6000)
    },
    start: 'ERR_LEDGER_BEHIND_ANCHOR',
    fsck: 'ERR_FSCK_BEHIND_ANCHOR',
    names: /holds \d+ entries, but the latest checkpoint in checkpoints\.log signs \d+/,
  },
  {
    name: 'the MANIFEST truncated',
    damage: async (dir) => {
      const f = await dbFile(dir, /^MANIFEST-/)
      const p = join(dir, 'db', f)
      await truncate(p, Math.floor((await stat(p)).size / 2))
      return f
    },
    start: 'ERR_LEDGER_DB_DAMAGED',
    fsck: 'ERR_FSCK_DB_DAMAGED',
    names: (f) => new RegExp(`${f}: ends in an incomplete record`),
  },
  {
    name: 'CURRENT truncated to nothing',
    damage: async (dir) => {
      await truncate(join(dir, 'db', 'CURRENT'), 0)
    },
    start: 'ERR_LEDGER_DB_DAMAGED',
    fsck: 'ERR_FSCK_DB_DAMAGED',
    names: /CURRENT does not name a MANIFEST file/,
  },
  {
    name: 'the whole database directory deleted',
    damage: async (dir) => {
      await rm(join(dir, 'db'), { recursive: true })
    },
    start: 'ERR_LEDGER_DB_MISSING',
    fsck: 'ERR_FSCK_DB_MISSING',
    names: /holds a ledger.* but no database/,
  },
  {
    name: 'the database replaced by an empty one',
    damage: async (dir) => {
      await rm(join(dir, 'db'), { recursive: true })
      const { dir: fresh, remove } = await tempDir('coldproof-faults-fresh-')
      await (await openLedger({ dir: fresh })).close()
      await cp(join(fresh, 'db'), join(dir, 'db'), { recursive: true })
      await remove()
    },
    start: 'ERR_LEDGER_BEHIND_ANCHOR',
    fsck: 'ERR_FSCK_BEHIND_ANCHOR',
    names: /holds 0 entries/,
  },
  {
    // The anchor outside the database must not be lost quietly: the database's checkpoint entries prove it existed.
    name: 'checkpoints.log deleted',
    damage: async (dir) => {
      await unlink(join(dir, ANCHOR_FILE))
    },
    start: 'ERR_LEDGER_ANCHOR_MISSING',
    fsck: 'ERR_FSCK_ANCHOR_MISSING',
    names: /checkpoints\.log is missing or empty, but the (database|log) (logged|holds) a checkpoint/,
    anchorGone: true,
  },
  {
    name: 'checkpoints.log cut in half (its later records lost)',
    damage: async (dir) => {
      const p = join(dir, ANCHOR_FILE)
      await truncate(p, Math.floor((await stat(p)).size / 2))
    },
    start: 'ERR_LEDGER_ANCHOR_MISSING',
    fsck: 'ERR_FSCK_ANCHOR_MISSING',
    names:
      /checkpoints\.log ends at a checkpoint of size \d+, but the (database logged|log holds) a checkpoint (entry )?of size \d+/,
  },
]

t.test('storage faults are detected at start and by the offline check, and named', async (t) => {
  const base = await pristine()
  const vkey = await readVerifierKey(base)
  const anchors = await readAnchors(base, vkey)
  t.ok(
    anchors.latest && anchors.latest.size >= 100,
    `checkpoints.log anchors the ledger (size ${anchors.latest?.size})`,
  )
  t.ok(
    (await readdir(join(base, 'db'))).some((n) => n.endsWith('.ldb')),
    'the pristine database has a table file',
  )
  t.ok(
    (await stat(join(base, 'db', await dbFile(base, /\.log$/)))).size > 2 * 32 * 1024,
    'and a write-ahead log of more than two blocks',
  )
  {
    const reader = await openLedgerDirReader(base)
    const r = await checkLedger(reader, { ledgerPublicKey: vkey })
    await reader.close()
    t.ok(r.ok, `the pristine copy verifies: ${r.failure?.message ?? ''}`)
    t.equal(r.anchor?.size, anchors.latest!.size)
  }

  for (const c of CASES) {
    await t.test(c.name, async (t) => {
      const { dir, remove } = await tempDir('coldproof-faults-')
      t.teardown(remove)
      await cp(base, dir, { recursive: true })
      const file = (await c.damage(dir)) ?? ''
      const names = typeof c.names === 'function' ? c.names(file) : c.names
      const damaged = await fingerprint(dir)

      // The offline check first: it must not change a byte.
      const reader = await openLedgerDirReader(dir)
      const r = await checkLedger(reader, { ledgerPublicKey: vkey })
      await reader.close()
      t.notOk(r.ok, 'the offline check does not verify')
      t.equal(r.failure?.code, c.fsck, r.failure?.message ?? '')
      if (names) t.match(r.failure?.message, names)
      t.equal(await fingerprint(dir), damaged, 'the offline check changed nothing in the directory')

      const err = await openLedger({ dir, checkpointIntervalMs: 0 }).then(
        () => undefined,
        (e: unknown) => e as { code: string; message: string },
      )
      t.ok(err, 'start refuses the directory')
      t.equal(err?.code, c.start, err?.message ?? '')
      if (names) t.match(err?.message, names)
      t.match(err?.message, /restore .*docs\/OPERATIONS\.md/, 'and says how to restore')
      if (!c.anchorGone) t.ok((await stat(join(dir, ANCHOR_FILE))).size > 0, 'checkpoints.log is kept')
    })
  }
})

t.test(
  'an orphan table file cut short (a compaction killed mid-write) is not damage: start and the offline check accept the ledger',
  async (t) => {
    const { dir: base, remove } = await tempDir('coldproof-faults-orphan-')
    t.teardown(remove)
    await cp(await pristine(), base, { recursive: true })
    const vkey = await readVerifierKey(base)
    const live = await dbFile(base, /\.ldb$/)
    const bytes = await readFile(join(base, 'db', live))
    // A higher file number than any LevelDB used, as a compaction's output would have; the MANIFEST never names it.
    const orphan = '999999.ldb'
    await writeFile(join(base, 'db', orphan), bytes.subarray(0, Math.floor(bytes.length / 2)))
    const reader = await openLedgerDirReader(base)
    const r = await checkLedger(reader, { ledgerPublicKey: vkey })
    await reader.close()
    t.ok(r.ok, `the offline check passes: ${r.failure?.message ?? ''}`)
    const ledger = await openLedger({ dir: base, checkpointIntervalMs: 0 })
    t.ok(ledger.size() >= 100, `start opens the ledger with its ${ledger.size()} entries`)
    await ledger.close()
    // The same cut in the live table file is damage.
    await writeFile(join(base, 'db', live), bytes.subarray(0, Math.floor(bytes.length / 2)))
    const err = await openLedger({ dir: base, checkpointIntervalMs: 0 }).then(
      () => undefined,
      (e: unknown) => e as { code: string },
    )
    t.equal(err?.code, 'ERR_LEDGER_DB_DAMAGED', 'a cut live table file is still refused')
  },
)
