import t from 'tap'
import { readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { checkDevicePublicKey, fromHex } from '../../ledger/protocol/index.ts'
import { createKeyFile, loadOrCreateIdentity, readKeyFile, KEY_FILE } from '../identity.ts'
import type { SimError } from '../errors.ts'
import { createFleet } from '../fleet.ts'
import { smallScenario, START } from './helpers.ts'

t.test('a key file is created once with mode 0600 and never overwritten', async (t) => {
  const dir = t.testdir()
  const a = loadOrCreateIdentity(dir, 'dev-1')
  const path = join(dir, KEY_FILE)
  t.equal(statSync(path).mode & 0o777, 0o600, 'mode 0600')
  const bytes = readFileSync(path)
  const b = loadOrCreateIdentity(dir, 'dev-1')
  t.same(b.publicKey, a.publicKey, 'second load returns the same key')
  t.same(b.secretKey, a.secretKey)
  const err = t.throws(() => createKeyFile(dir, 'dev-1')) as SimError
  t.equal(err.code, 'ERR_KEY_FILE_EXISTS')
  t.same(readFileSync(path), bytes, 'file untouched after a refused overwrite')
  t.doesNotThrow(() => checkDevicePublicKey(a.publicKey), 'a key the ledger will register')
})

t.test('a key file that is corrupt or belongs to another device is refused, not replaced', async (t) => {
  const dir = t.testdir()
  loadOrCreateIdentity(dir, 'dev-1')
  t.throws(() => readKeyFile(dir, 'dev-2'), { code: 'ERR_KEY_FILE_INVALID' })
  const json = JSON.parse(readFileSync(join(dir, KEY_FILE), 'utf8'))
  json.publicKey = '00'.repeat(32)
  writeFileSync(join(dir, KEY_FILE), JSON.stringify(json))
  t.throws(() => loadOrCreateIdentity(dir, 'dev-1'), { code: 'ERR_KEY_FILE_INVALID', message: /does not match/ })
  t.same(
    JSON.parse(readFileSync(join(dir, KEY_FILE), 'utf8')).publicKey,
    '00'.repeat(32),
    'the bad file is left for investigation',
  )
  writeFileSync(join(dir, KEY_FILE), 'not json')
  t.throws(() => loadOrCreateIdentity(dir, 'dev-1'), { code: 'ERR_KEY_FILE_INVALID' })
})

t.test('provisioning records name the key on disk and a yearly calibration', async (t) => {
  const dir = t.testdir()
  const fleet = createFleet({ scenario: smallScenario({ devices: 2 }), dataDir: dir, startMs: START, log: () => {} })
  const recs = fleet.provisioningRecords()
  t.equal(recs.length, 2)
  for (const r of recs) {
    const onDisk = readKeyFile(join(dir, r.deviceId), r.deviceId)
    t.same(fromHex(r.publicKey), onDisk.publicKey)
    t.equal(r.model, 'coldproof-sim-t1')
    t.ok(r.calibration.calibratedAt < START && r.calibration.dueAt > START, 'calibration valid at the start')
    t.equal(r.calibration.dueAt - r.calibration.calibratedAt, 365 * 86_400_000, 'GDP 9.3: due a year after calibration')
    t.type(r.calibration.certificate, 'string')
  }
  const again = createFleet({ scenario: smallScenario({ devices: 2 }), dataDir: dir, startMs: START, log: () => {} })
  t.same(again.provisioningRecords(), recs, 'a restart keeps the same identities')
})
