/**
 * Shipments in the cluster mode (docs/SCALING.md, "Shipments in the cluster
 * mode"). A logger's chain lives in one partition's ledger, and a shipment's
 * anchors must be read in the same atomic write as its create and close
 * entries, so a shipment whose loggers span partitions is written as one
 * **slice** per partition holding any of its loggers: a `shipment.create`
 * (and later a `shipment.close`) in that partition's ledger, listing that
 * partition's loggers (anchored there) and, in `cluster`, every logger of the
 * shipment and the partition count. Slices share the shipment id, product,
 * route, profile, window and close, so an evidence bundle can prove each
 * partition's part up to one root checkpoint and show that none is missing.
 */
import type { CloseShipmentInput, CreateShipmentInput, Ledger } from '../store/index.ts'
import type { StoredEntry } from '../tlog/index.ts'
import { LedgerError } from '../store/index.ts'
import { checkPartitionCount, ingestPartitionOf } from './subjects.ts'

/** The loggers of `devices` per ingest partition, in the order given (partitions without loggers absent). */
export function slicesOf(devices: readonly string[], count: number): Map<number, string[]> {
  const out = new Map<number, string[]>()
  for (const id of devices) {
    const k = ingestPartitionOf(id, count)
    const list = out.get(k)
    if (list) list.push(id)
    else out.set(k, [id])
  }
  return new Map([...out.entries()].sort((a, b) => a[0] - b[0]))
}

/**
 * Creates a shipment across the partition ledgers (`ledgers[k]` is partition k): one slice per
 * partition holding a logger. Every logger's registration and the shipment id are checked in
 * every partition first, so a refusal writes nothing.
 */
export async function createClusterShipment(
  ledgers: readonly Ledger[],
  body: CreateShipmentInput,
): Promise<StoredEntry<'shipment.create'>[]> {
  const count = checkPartitionCount(ledgers.length)
  if (!Array.isArray(body?.devices) || body.devices.length === 0)
    throw new LedgerError('ERR_LEDGER_BAD_INPUT', '"devices" must list at least one device id', { field: 'devices' })
  const slices = slicesOf(body.devices.map(String), count)
  for (const [k, ids] of slices) {
    for (const id of ids) {
      if (!ledgers[k].device(id))
        throw new LedgerError(
          'ERR_LEDGER_DEVICE_UNKNOWN',
          `shipment ${body.shipmentId} lists device ${id}, which is not registered in its partition ${k}`,
          { shipmentId: body.shipmentId, deviceId: id, partition: k },
        )
    }
  }
  for (const [k, l] of ledgers.entries()) {
    if (l.shipment(String(body.shipmentId)))
      throw new LedgerError(
        'ERR_LEDGER_SHIPMENT_EXISTS',
        `shipment ${body.shipmentId} already exists (in partition ${k})`,
        { shipmentId: body.shipmentId, partition: k },
      )
  }
  const out: StoredEntry<'shipment.create'>[] = []
  for (const [k, ids] of slices) {
    out.push(
      await ledgers[k].createShipment({
        ...body,
        devices: ids,
        cluster: { partitions: count, devices: [...body.devices] },
      }),
    )
  }
  return out
}

/**
 * Closes every slice of a cluster shipment with the same close. Each partition checks its own
 * loggers' coverage (ERR_LEDGER_EVIDENCE_ENDS_EARLY); a slice already closed at the same time is
 * left as it is, so after a refusal the close can be repeated (with `endsEarly`) and completes the
 * slices still open.
 */
export async function closeClusterShipment(
  ledgers: readonly Ledger[],
  body: CloseShipmentInput,
): Promise<StoredEntry<'shipment.close'>[]> {
  const slices = ledgers.map((l, k) => ({ k, l, s: l.shipment(String(body?.shipmentId)) })).filter((x) => x.s)
  if (slices.length === 0)
    throw new LedgerError('ERR_LEDGER_SHIPMENT_UNKNOWN', `no shipment "${body?.shipmentId}" in any partition`, {
      shipmentId: body?.shipmentId,
    })
  for (const { k, s } of slices) {
    if (s!.closedAt !== undefined && s!.closedAt !== body.closedAt)
      throw new LedgerError(
        'ERR_LEDGER_SHIPMENT_CLOSED',
        `shipment ${body.shipmentId} is already closed at ${new Date(s!.closedAt).toISOString()} in partition ${k}`,
        { shipmentId: body.shipmentId, partition: k },
      )
  }
  const out: StoredEntry<'shipment.close'>[] = []
  for (const { l, s } of slices) if (s!.closedAt === undefined) out.push(await l.closeShipment(body))
  return out
}
