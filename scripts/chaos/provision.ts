/**
 * Provisioning through the API, as an operator would: the admin registers the
 * fleet's loggers and the rogue ones the attacks use, the operator creates the
 * shipments with the built-in 2–8 °C profile.
 */
import { toHex } from '../../ledger/protocol/index.ts'
import type { FleetReply } from './fleet-child.ts'
import type { Rogue } from './mqtt-attacks.ts'
import type { ChaosRun } from './run-state.ts'

export interface ScenarioShipment {
  shipmentId: string
  product: string
  route: unknown
  devices: { deviceId: string }[]
}

export async function provision(
  run: ChaosRun,
  prov: Extract<FleetReply, { type: 'provisioning' }>,
  rogues: Rogue[],
  shipments: ScenarioShipment[],
): Promise<void> {
  const { http, sess } = run
  for (const rec of prov.records) {
    const res = await http.req('POST', '/api/devices', { cookie: sess.admin, body: rec })
    if (res.status !== 201 && res.status !== 200)
      throw new Error(`registering ${rec.deviceId}: ${res.status} ${res.text}`)
  }
  for (const r of rogues) {
    const res = await http.req('POST', '/api/devices', {
      cookie: sess.admin,
      body: { deviceId: r.id.deviceId, publicKey: toHex(r.id.publicKey), model: 'rogue' },
    })
    if (res.status !== 201 && res.status !== 200)
      throw new Error(`registering ${r.id.deviceId}: ${res.status} ${res.text}`)
  }
  for (const s of shipments) {
    const res = await http.req('POST', '/api/shipments', {
      cookie: sess.operator,
      body: {
        shipmentId: s.shipmentId,
        product: s.product,
        profileId: 'refrigerated-2-8',
        route: s.route,
        devices: s.devices.map((d) => d.deviceId),
        startAt: prov.startMs,
      },
    })
    if (res.status !== 201 && res.status !== 200) throw new Error(`creating ${s.shipmentId}: ${res.status} ${res.text}`)
  }
}
