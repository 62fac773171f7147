/**
 * Wycheproof-style Ed25519 edge cases (testdata/ed25519-edge/*.json), each
 * checked against noble (strict), Node's crypto (OpenSSL) and the
 * registration check checkDevicePublicKey. The files record where the two
 * engines disagree: OpenSSL accepts forgeries under small-order and
 * non-canonical keys, which is why registration refuses such keys.
 */
import t from 'tap'
import { readdirSync, readFileSync } from 'node:fs'
import { Point } from '@noble/ed25519'
import { fromHex, toHex } from './bytes.ts'
import { checkDevicePublicKey } from './keys.ts'
import { isProtocolError } from './errors.ts'
import { nobleVerify, nodeVerify } from './test/support.ts'
import { buildEdgeCases, smallOrderPoints, type EdgeCase } from './test/vectors.ts'

const dir = new URL('./testdata/ed25519-edge/', import.meta.url)
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .sort()
const cases = new Map(files.map((f) => [f, JSON.parse(readFileSync(new URL(f, dir), 'utf8')) as EdgeCase]))

function keyVerdict(hex: string): string {
  try {
    checkDevicePublicKey(fromHex(hex))
    return 'ok'
  } catch (e) {
    return isProtocolError(e) ? e.code : `non-protocol error: ${String(e)}`
  }
}

for (const [file, c] of cases) {
  t.test(`${file}: ${c.desc}`, async (t) => {
    const sig = fromHex(c.signature),
      msg = fromHex(c.message),
      pk = fromHex(c.publicKey)
    t.equal(nobleVerify(sig, msg, pk), c.expected.noble, `noble (zip215: false) says ${c.expected.noble}`)
    t.equal(nodeVerify(sig, msg, pk), c.expected.node, `Node crypto says ${c.expected.node}`)
    t.equal(keyVerdict(c.publicKey), c.expected.deviceKey, `checkDevicePublicKey says ${c.expected.deviceKey}`)
    // The invariant the protocol relies on: whatever Node accepts, it accepts only under keys registration lets in,
    // or noble agrees. A case where Node says yes and registration says ok would be a forgery path.
    if (c.expected.node && !c.expected.noble)
      t.not(c.expected.deviceKey, 'ok', 'every signature only Node accepts is under a key registration refuses')
  })
}

t.test('the eight small-order points are all covered, canonically encoded, and all refused', async (t) => {
  const points = smallOrderPoints()
  t.equal(new Set(points.map(toHex)).size, 8, 'eight distinct points')
  for (const p of points) {
    const P = Point.fromBytes(p, false)
    t.ok(P.multiply(8n, false).is0(), `${toHex(p)} has order dividing 8`)
    t.equal(toHex(P.toBytes()), toHex(p), 'canonical encoding')
    const file = [...cases.values()].find((c) => c.publicKey === toHex(p) && c.desc.startsWith('small-order'))
    t.ok(file, `a small-order-*.json case uses ${toHex(p)}`)
    t.equal(keyVerdict(toHex(p)), 'ERR_KEY_SMALL_ORDER')
  }
})

t.test('the identity key forgery: Node accepts any message, checkDevicePublicKey refuses the key', async (t) => {
  const identity = fromHex('01' + '00'.repeat(31))
  const sig = fromHex('01' + '00'.repeat(63))
  for (const m of ['', 'a', 'coldproof reading v1', 'anything at all']) {
    const msg = new TextEncoder().encode(m)
    t.ok(nodeVerify(sig, msg, identity), `Node (OpenSSL ${process.versions.openssl}) accepts ${JSON.stringify(m)}`)
    t.notOk(nobleVerify(sig, msg, identity), 'noble refuses it')
  }
  t.throws(() => checkDevicePublicKey(identity), { code: 'ERR_KEY_SMALL_ORDER' })
})

t.test('checkDevicePublicKey: lengths and types', async (t) => {
  for (const bad of [
    new Uint8Array(31),
    new Uint8Array(33),
    new Uint8Array(0),
    'ab'.repeat(32),
    null,
    undefined,
    42,
    [1, 2, 3],
  ]) {
    t.throws(
      () => checkDevicePublicKey(bad),
      { code: 'ERR_KEY_BAD_LENGTH' },
      `refuses ${bad === null ? 'null' : typeof bad}${bad instanceof Uint8Array ? ` of ${bad.length}` : ''}`,
    )
  }
  const good = fromHex(cases.get('valid-honest-key.json')!.publicKey)
  t.equal(checkDevicePublicKey(good), good, 'returns its input when valid')
})

t.test('checkDevicePublicKey errors carry the key as evidence', async (t) => {
  const hex = 'ee' + 'ff'.repeat(30) + '7f'
  try {
    checkDevicePublicKey(fromHex(hex))
    t.fail('should throw')
  } catch (e) {
    t.ok(isProtocolError(e))
    if (isProtocolError(e)) {
      t.equal(e.details.key, hex)
      t.match(e.message, hex)
    }
  }
})

t.test('the committed edge-case files are exactly what the generator writes', async (t) => {
  const built = buildEdgeCases()
  t.same(
    Object.keys(built)
      .map((n) => `${n}.json`)
      .sort(),
    files,
    'same file set',
  )
  for (const [name, c] of Object.entries(built)) {
    t.equal(
      readFileSync(new URL(`${name}.json`, dir), 'utf8'),
      JSON.stringify(c, null, 2) + '\n',
      `${name}.json is current`,
    )
  }
})
