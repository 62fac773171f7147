/**
 * Backup and restore end to end (issue 13, item 4): real embedded broker,
 * ingest, LevelDB and simulated devices (device-sim, persisted buffers). A
 * backup is taken from the running ledger while it ingests; more readings
 * are ingested and receipted; the ledger directory is destroyed and the
 * backup restored; the ingest restarts on it. The devices' own records
 * prove that nothing receipted is lost: every reading each device signed
 * (its onReading record) is in the restored ledger exactly once, byte for
 * byte, in an unbroken chain, including those receipted after the backup,
 * which the devices re-send when the restored ledger's receipt goes back.
 */
import t from 'tap'
import { join } from 'node:path'
import { createReadStream } from 'node:fs'
import { rm } from 'node:fs/promises'
import { openLedger, type Ledger } from '../../../ledger/store/index.ts'
import type { Ingest } from '../../../ledger/ingest/index.ts'
import { backupLines, restoreBackup, writeBackupFile } from '../../../ledger/store/index.ts'
import {
  BUFFERED_READINGS,
  bufferedFleet,
  checkDeviceInLedger,
  describeFailure,
  embeddedBroker,
  fsck,
  registerFleet,
  startIngest,
  tempDir,
  waitFor,
} from './support.ts'

t.test(
  'backup while ingesting, destroy, restore: the devices re-send what the backup lacks, nothing receipted is lost',
  async (t) => {
    const dir = await tempDir(t, 'backup')
    const ledgerDir = join(dir, 'ledger')
    const backupFile = join(dir, 'ledger.backup.ndjson')
    let ledger: Ledger = await openLedger({ dir: ledgerDir })
    // The broker asks whichever ledger is current (the restored one after the restore).
    const registry = { lookupDevice: (id: string) => ledger.lookupDevice(id) } as Ledger
    const broker = await embeddedBroker(registry)
    const { url } = await broker.listen()
    let ingest: Ingest | undefined = await startIngest(ledger, url)
    const ids = ['backup-a', 'backup-b']
    const N = BUFFERED_READINGS
    const { fleet, produced } = bufferedFleet(dir, 'backup', ids, url)
    t.teardown(async () => {
      await fleet.stop()
      await ingest?.close()
      await broker.close()
      await ledger.close()
    })
    await registerFleet(ledger, fleet)
    await fleet.start()

    // The backup, from one snapshot of the live store while readings keep arriving.
    await waitFor(
      () => ids.every((id) => (ledger.device(id)?.contiguous ?? 0) >= 20),
      'some readings of each device in the ledger',
    )
    await writeBackupFile(backupLines(ledger.storeSnapshot(), ledger.dir), backupFile)

    await fleet.finished
    await waitFor(
      () => fleet.status().every((s) => s.buffered === 0 && s.receiptedSeq === N),
      'every reading receipted and deleted from the buffers',
    )
    const sizeBefore = ledger.size()

    // Disaster: the ledger directory is gone.
    await ingest.close()
    ingest = undefined
    await ledger.close()
    await rm(ledgerDir, { recursive: true })
    const restored = await restoreBackup(createReadStream(backupFile), ledgerDir)
    t.ok(restored.size < sizeBefore, `the backup holds ${restored.size} of the ${sizeBefore} entries`)
    const alone = await fsck(ledgerDir)
    t.ok(alone.ok, `the restored backup verifies on its own${describeFailure(alone)}`)
    t.ok(
      alone.anchor && alone.anchor.size <= restored.size,
      `its checkpoint history stops at the snapshot (latest anchor ${alone.anchor?.size})`,
    )

    ledger = await openLedger({ dir: ledgerDir })
    for (const id of ids)
      t.ok(
        ledger.device(id)!.contiguous < N,
        `${id}: the restored ledger starts at seq ${ledger.device(id)!.contiguous}: ${ledger.device(id)!.contiguous + 1}..${N} were receipted after the backup`,
      )
    ingest = await startIngest(ledger, url)
    await waitFor(
      () => ids.every((id) => ledger.device(id)?.contiguous === N),
      'the devices to re-send what the backup lacks',
      40_000,
    )
    await waitFor(
      () => fleet.status().every((s) => s.buffered === 0 && s.receiptedSeq === N),
      'receipts from the restored ledger',
    )

    for (const id of ids) {
      const c = await checkDeviceInLedger(ledger, id, produced.of(id))
      t.equal(c.entries, N, `${id}: all ${N} readings the device signed are in the restored ledger, none twice`)
      t.ok(c.exact, `${id}: the exact signed bytes`)
      t.ok(c.linked, `${id}: an unbroken chain`)
    }
    await fleet.stop()
    await ingest.close()
    ingest = undefined
    await ledger.close()
    const report = await fsck(ledgerDir)
    t.ok(report.ok, `the restored, re-grown ledger verifies${describeFailure(report)}`)
    t.equal(report.readings, ids.length * N)
    ledger = await openLedger({ dir: ledgerDir })
  },
)
