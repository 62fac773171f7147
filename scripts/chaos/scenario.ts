/**
 * The chaos fleet's scenario: ordinary 2–8 °C reefers plus one logger per
 * device-side fault — a 12-hour flight offline that comes back with its whole
 * buffer, one whose small buffer overflows during the same outage (a certain
 * loss, to be declared as a gap with its cause), a drifting clock and a
 * jumping clock. Shipments start so that they end about when the run ends.
 */
export interface ChaosFleetShape {
  shipments: number
  devicesPerShipment: number
  durationMin: number
}

export const FLIGHT_DEVICE = 'chaos-flight'
export const OVERFLOW_DEVICE = 'chaos-overflow'
export const DRIFT_DEVICE = 'chaos-drift'
export const JUMP_DEVICE = 'chaos-jump'

export function chaosScenario(shape: ChaosFleetShape): unknown {
  const { durationMin } = shape
  // The outage starts a little after the shipment starts and lasts 12 simulated hours.
  const outage = {
    fromMin: Math.min(120, Math.floor(durationMin / 10)),
    toMin: Math.min(120, Math.floor(durationMin / 10)) + 720,
  }
  const leg = (n: number) => [
    {
      durationMin,
      model: 'reefer',
      setpointC: 5,
      ambient: { meanC: 18 + (n % 5), amplitudeC: 6 },
      doorOpeningsPerDay: 4,
      name: 'road',
    },
  ]
  const shipments: unknown[] = []
  for (let s = 0; s < shape.shipments; s++) {
    const devices: unknown[] = []
    // Product probes stay in range; an air probe (shipment 2) sees every door opening: PASS and FAIL both occur.
    for (let d = 0; d < shape.devicesPerShipment; d++)
      devices.push({ deviceId: `chaos-${s}-${d}`, probe: s === 2 && d % 2 ? 'air' : 'product' })
    shipments.push({
      shipmentId: `chaos-shp-${s}`,
      product: `Chaos vaccine ${s}`,
      storageClass: '2-8',
      route: { from: 'Basel', to: 'Lyon' },
      devices,
      legs: leg(s),
      // One reefer fails half way, so the verdicts are not all "pass".
      ...(s === 1 ? { legs: [{ ...leg(s)[0], failAtMin: Math.floor(durationMin / 2) }] } : {}),
    })
  }
  shipments.push({
    shipmentId: 'chaos-shp-faults',
    product: 'Chaos insulin',
    storageClass: '2-8',
    route: { from: 'Zurich', to: 'Toronto' },
    legs: leg(9),
    devices: [
      { deviceId: FLIGHT_DEVICE, bufferCapacity: 2000, faults: { connectivityLoss: [outage] } },
      { deviceId: OVERFLOW_DEVICE, bufferCapacity: 48, faults: { connectivityLoss: [outage] } },
      { deviceId: DRIFT_DEVICE, faults: { clockDriftPpm: 1000 } },
      // Clock jumps early in the run, so a forward jump never reaches the wall clock.
      {
        deviceId: JUMP_DEVICE,
        faults: {
          clockJump: [
            { atMin: 60, offsetMin: -90 },
            { atMin: 200, offsetMin: 45 },
          ],
        },
      },
    ],
  })
  return {
    name: 'chaos',
    description: 'chaos suite fleet',
    seed: 17,
    samplingIntervalMin: 5,
    bufferCapacity: 5000,
    shipments,
  }
}
