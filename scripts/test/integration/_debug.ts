import { join } from 'node:path'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { startSystem } from '../../system.ts'
import { createFleet } from '../../../device-sim/index.ts'
import { smallScenario, START, sleep } from './support.ts'
const dir = await mkdtemp(join(tmpdir(), 'dbg-'))
const T0 = Date.now()
const L = (...a: unknown[]) => console.log(Date.now() - T0, ...a)
const sys = await startSystem({ dataDir: join(dir, 'system'), httpPort: 0, mqttPort: 0, demo: false, quiet: true })
L('started')
const id = 'revoke-me'
const fleet = createFleet({ scenario: smallScenario('revocation', [id], 1200), dataDir: join(dir, 'devices'), startMs: START, acceleration: 6000,
  mqtt: { url: sys.mqttUrl, mqttOptions: { reconnectPeriod: 100 } }, log: (l, m) => L('dev', l, m) })
for (const rec of fleet.provisioningRecords()) await sys.ledger.registerDevice({ ...rec, by: 't' })
await fleet.start()
await sleep(1000)
L('stored', sys.ledger.device(id)?.contiguous)
await sys.ledger.revokeDevice({ deviceId: id, reason: 'x', by: 't' })
L('revoked')
for (let i = 0; i < 10; i++) { await sleep(300); L(fleet.devices[0].status().connected, JSON.stringify(sys.broker!.metrics().refusals)) }
L('stopping fleet')
const hang = setInterval(() => L('still stopping'), 2000)
const dev = fleet.devices[0] as any
L('device status', JSON.stringify(dev.status()))
await fleet.stop(); L('fleet stopped'); clearInterval(hang)
await sys.close(); L('sys closed')
