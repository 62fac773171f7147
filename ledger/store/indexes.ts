/**
 * What each entry type changes besides the log itself: the query indexes and
 * the derived state (devices, shipments). Run by the store while it builds a
 * batch, in log order, so the indexes land in the same atomic write as the
 * entries they index (ARCHITECTURE.md decision 5: no index without its entry, no
 * entry without its index).
 *
 * Each entry type is checked first (`prepare`, which throws a LedgerError and
 * changes nothing) and applied after its bytes were encoded (`apply`). The
 * preparers live by what they change: device-entries.ts, shipment-entries.ts,
 * reading-entries.ts; batch-context.ts is the view of the ledger they share.
 */
import type { EntryBodies, EntryType } from '../tlog/index.ts'
import {
  bad,
  jsonBytes,
  type Apply,
  type BatchContext,
  type ChainVia,
  type KnownReading,
  type Preparer,
} from './batch-context.ts'
import { prepareFork, prepareRegister, prepareRevoke } from './device-entries.ts'
import { K } from './keys-layout.ts'
import { prepareGap, prepareReading } from './reading-entries.ts'
import {
  prepareAlarmAck,
  prepareShipmentClose,
  prepareShipmentCreate,
  prepareShipmentDevices,
  prepareShipmentReceive,
} from './shipment-entries.ts'

const prepareCheckpoint: Preparer<'checkpoint'> = (ctx, body) => async () => {
  ctx.put(K.checkpoint, jsonBytes({ note: body.note, size: body.size, rootHash: body.rootHash }))
}

const PREPARERS: { [T in EntryType]: Preparer<T> } = {
  'device.register': prepareRegister,
  'device.revoke': prepareRevoke,
  'shipment.create': prepareShipmentCreate,
  'shipment.close': prepareShipmentClose,
  'shipment.receive': prepareShipmentReceive,
  'shipment.devices': prepareShipmentDevices,
  'alarm.ack': prepareAlarmAck,
  checkpoint: prepareCheckpoint,
  reading: prepareReading,
  gap: prepareGap,
  'reading.fork': prepareFork,
}

export async function prepareEntry<T extends EntryType>(
  ctx: BatchContext,
  type: T,
  body: EntryBodies[T],
  time: number,
  via?: ChainVia,
  known?: KnownReading,
): Promise<Apply> {
  const p = PREPARERS[type] as Preparer<T> | undefined
  if (!p) bad(`unknown entry type ${JSON.stringify(type)}`)
  return p!(ctx, body, time, via, known)
}
