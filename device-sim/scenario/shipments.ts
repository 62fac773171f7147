/** A shipment: product, storage class, route, sampling, its loggers and legs. */
import { ScenarioError } from '../errors.ts'
import { device } from './devices.ts'
import { faults } from './faults.ts'
import { arr, between, int, obj, show, str } from './fields.ts'
import { leg } from './legs.ts'
import { STORAGE_CLASSES, type Shipment, type StorageClass } from './types.ts'

const SHIPMENT_FIELDS = [
  'shipmentId',
  'product',
  'storageClass',
  'route',
  'samplingIntervalMin',
  'initialC',
  'productTauMin',
  'bufferCapacity',
  'devices',
  'legs',
  'faults',
] as const

export function shipment(
  v: unknown,
  path: string,
  dflt: { samplingIntervalMin: number; bufferCapacity: number },
): Shipment {
  const o = obj(v, path, SHIPMENT_FIELDS)
  const storageClass = o.storageClass
  if (typeof storageClass !== 'string' || !(STORAGE_CLASSES as readonly string[]).includes(storageClass)) {
    throw new ScenarioError(
      `${path}.storageClass`,
      `must be one of ${STORAGE_CLASSES.map((s) => `"${s}"`).join(', ')}, got ${show(storageClass)}`,
    )
  }
  const legs = arr(o.legs, `${path}.legs`, 1).map((l, i) => leg(l, `${path}.legs[${i}]`, i))
  const route =
    o.route === undefined
      ? { from: 'origin', to: 'destination' }
      : (() => {
          const r = obj(o.route, `${path}.route`, ['from', 'to'])
          return { from: str(r.from, `${path}.route.from`), to: str(r.to, `${path}.route.to`) }
        })()
  const bufferCapacity = int(o.bufferCapacity, `${path}.bufferCapacity`, 1, 1_000_000, dflt.bufferCapacity)
  const shipmentFaults = faults(o.faults, `${path}.faults`)
  const first = legs[0].thermal
  const defaultInitial =
    first.model === 'reefer' ? first.setpointC : first.model === 'dry-ice' ? -75 : legs[0].ambient.meanC
  return {
    shipmentId: str(o.shipmentId, `${path}.shipmentId`),
    product: str(o.product, `${path}.product`),
    storageClass: storageClass as StorageClass,
    route,
    samplingIntervalMin: between(
      o.samplingIntervalMin,
      `${path}.samplingIntervalMin`,
      1 / 60,
      1440,
      dflt.samplingIntervalMin,
    ),
    initialC: between(o.initialC, `${path}.initialC`, -100, 70, defaultInitial),
    productTauMin: between(o.productTauMin, `${path}.productTauMin`, 1, 100000, 60),
    devices: arr(o.devices, `${path}.devices`, 1).map((d, i) =>
      device(d, `${path}.devices[${i}]`, shipmentFaults, bufferCapacity),
    ),
    legs,
  }
}
