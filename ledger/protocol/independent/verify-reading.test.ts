/**
 * Cross-check with the independent Python implementation (verify_reading.py,
 * written from docs/PROTOCOL.md alone, Ed25519 from the RFC 8032 math): the
 * vectors, the RFC 8032 and edge-case signatures, freshly signed chains, and a
 * differential fuzz where both decoders must give the same verdict.
 * Skipped, with a message, when python3 is not installed.
 */
import t from 'tap'
import fc from 'fast-check'
import { readdirSync, readFileSync } from 'node:fs'
import { pythonAvailable, verifyWithPython } from './run-python.ts'
import { assemblePayload, decodeReading, encodeRecord, type ReadingFields } from '../reading.ts'
import { GENESIS_PREV_HASH, readingHash, readingSigningMessage } from '../signing.ts'
import { concatBytes, toHex } from '../bytes.ts'
import { checkDevicePublicKey } from '../keys.ts'
import { isProtocolError } from '../errors.ts'
import { nobleSign, noblePublicKey, nobleVerify } from '../test/support.ts'
import { testSeed, toJsonFields, type EdgeCase, type ProtocolVector } from '../test/vectors.ts'

const readDir = <T>(rel: string): Array<[string, T]> => {
  const dir = new URL(rel, import.meta.url)
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => [f, JSON.parse(readFileSync(new URL(f, dir), 'utf8')) as T])
}
const jsonFields = (f: ReadingFields) => {
  const { deviceTimeIso: _, ...rest } = toJsonFields(f)
  return rest
}

if (!(await pythonAvailable())) {
  t.plan(
    0,
    'python3 is not installed: the independent Python verifier cannot run (install Python 3 to enable this cross-check)',
  )
} else {
  const vectors = readDir<ProtocolVector>('../testdata/vectors/')

  t.test('the published vectors: fields, signatures, chain and error codes agree', async (t) => {
    const keys: Record<string, string> = {}
    for (const [, v] of vectors) if (v.kind === 'reading') keys[v.fields.deviceId] = v.publicKey
    const readings = vectors
      .flatMap(([, v]) => (v.kind === 'reading' ? [v] : []))
      .sort((a, b) => a.fields.deviceId.localeCompare(b.fields.deviceId) || a.fields.seq - b.fields.seq)
    const res = await verifyWithPython(
      keys,
      readings.map((v) => v.payload),
    )
    for (const id of Object.keys(keys))
      t.same(res.keys[id], { ok: true, error: null }, `${id}: key passes the Python registration checks`)
    readings.forEach((v, i) => {
      const r = res.results[i]
      const { deviceTimeIso: _, ...fields } = v.fields
      t.same(r.fields, fields, `${v.fields.deviceId} seq ${v.fields.seq}: same fields`)
      t.equal(r.signatureValid, true, 'signature verifies in Python')
      t.equal(r.chain?.status, 'ok', 'chain ok')
      t.equal(r.payloadHash, v.payloadHash)
      t.equal(r.ok, true)
    })
    const malformed = vectors.flatMap(([, v]) => (v.kind === 'malformed' ? [v] : []))
    const out = await verifyWithPython(
      {},
      malformed.map((v) => v.payload),
    )
    malformed.forEach((v, i) => t.equal(out.results[i].error, v.error, `${v.desc}: Python says ${v.error}`))
    for (const [, v] of vectors) {
      if (v.kind !== 'bad-signature') continue
      const r = (await verifyWithPython({ 'truck-7-probe-1': v.publicKey }, [v.payload])).results[0]
      t.ok(r.error === v.error && r.signatureValid === false && r.ok === false, `${v.desc}: Python says ${v.error}`)
    }
  })

  t.test('RFC 8032 section 7.1 and the Ed25519 edge cases: Python agrees with strict noble', async (t) => {
    const rfc = readDir<{ publicKey: string; message: string; signature: string; desc: string }>('../testdata/rfc8032/')
    const edge = readDir<EdgeCase>('../testdata/ed25519-edge/')
    const sigs = [...rfc.map(([, v]) => v), ...edge.map(([, c]) => c)]
    const flipped = rfc.map(([, v]) => ({
      ...v,
      signature: v.signature.slice(0, 2) + (v.signature[2] === '0' ? '1' : '0') + v.signature.slice(3),
    }))
    const res = await verifyWithPython(
      Object.fromEntries(edge.map(([f, c]) => [f.replace(/\.json$/, '').replace(/[^a-z0-9-]/g, ''), c.publicKey])),
      [],
      { signatures: [...sigs, ...flipped] },
    )
    rfc.forEach(([f], i) => t.equal(res.signatures[i], true, `${f} verifies in Python`))
    edge.forEach(([f, c], i) => {
      t.equal(
        res.signatures[rfc.length + i],
        c.expected.noble,
        `${f}: Python says ${c.expected.noble}, as strict noble`,
      )
      t.equal(
        res.keys[f.replace(/\.json$/, '')].error ?? 'ok',
        c.expected.deviceKey,
        `${f}: Python registration check says ${c.expected.deviceKey}`,
      )
    })
    flipped.forEach((_, i) =>
      t.equal(res.signatures[rfc.length + edge.length + i], false, `flipped RFC signature ${i} refused`),
    )
  })

  t.test('freshly signed chains of several devices, and what tampering does to them', async (t) => {
    const devices = ['fresh-a', 'fresh-b-0001', 'c']
    const keys: Record<string, Uint8Array> = {}
    const payloads: Uint8Array[] = []
    const fields: ReadingFields[] = []
    const state = new Map<string, { seq: number; prev: Uint8Array }>()
    let x = 12345
    const rnd = (n: number) => {
      x = (x * 1103515245 + 12345) % 2 ** 31
      return x % n
    }
    for (const id of devices) {
      keys[id] = noblePublicKey(testSeed(id))
      state.set(id, { seq: 0, prev: GENESIS_PREV_HASH })
    }
    for (let i = 0; i < 24; i++) {
      const id = devices[rnd(3)]
      const s = state.get(id)!
      const f: ReadingFields = {
        deviceId: id,
        seq: s.seq + 1,
        deviceTimeMs: 1764000000000 + i * 300000,
        tempCentiC: rnd(4000) - 2500,
        prevHash: s.prev,
      }
      if (rnd(2)) f.humidityCentiPct = rnd(10001)
      if (rnd(2)) f.events = rnd(4)
      if (rnd(2)) f.shockCentiG = rnd(65536)
      if (rnd(2)) f.batteryPct = rnd(101)
      if (rnd(2)) f.status = rnd(32)
      const rec = encodeRecord(f)
      const p = assemblePayload(rec, nobleSign(readingSigningMessage(rec), testSeed(id)))
      state.set(id, { seq: f.seq, prev: readingHash(p) })
      payloads.push(p)
      fields.push(f)
    }
    const res = await verifyWithPython(keys, payloads)
    res.results.forEach((r, i) => {
      t.same(r.fields, jsonFields(fields[i]), `payload ${i}: fields agree`)
      t.equal(r.payloadHash, toHex(readingHash(payloads[i])))
      t.ok(
        r.ok && r.signatureValid && r.chain?.status === 'ok',
        `payload ${i} (${fields[i].deviceId} seq ${fields[i].seq}) verifies and chains`,
      )
    })
    // Drop one reading of a device: the next one of that device no longer chains.
    const victim = payloads.findIndex(
      (_, i) => i > 0 && fields[i].seq >= 2 && fields.slice(i + 1).some((g) => g.deviceId === fields[i].deviceId),
    )
    const next = fields.findIndex((g, j) => j > victim && g.deviceId === fields[victim].deviceId)
    const dropped = await verifyWithPython(
      keys,
      payloads.filter((_, i) => i !== victim),
    )
    const shifted = dropped.results[next - 1]
    t.equal(
      shifted.chain?.status,
      'broken',
      `dropping ${fields[victim].deviceId} seq ${fields[victim].seq} breaks the chain at seq ${fields[next].seq}`,
    )
    t.equal(shifted.signatureValid, true, 'the later reading is still authentic')
    t.equal(dropped.results.filter((r) => r.chain?.status === 'broken').length, 1, 'exactly one break')
    // A reading under the wrong key.
    const wrong = await verifyWithPython(
      { 'fresh-a': keys.c },
      payloads.filter((_, i) => fields[i].deviceId === 'fresh-a'),
    )
    t.ok(
      wrong.results.every((r) => r.signatureValid === false && r.error === 'ERR_READING_BAD_SIGNATURE'),
      "another device's key: every signature refused",
    )
  })

  t.test('differential fuzz: Python and TypeScript give the same verdict on mutated payloads', async (t) => {
    const seed = testSeed('fuzz')
    const key = noblePublicKey(seed)
    t.equal(checkDevicePublicKey(key), key)
    const base = encodeRecord({
      deviceId: 'fuzz-device',
      seq: 7,
      deviceTimeMs: 1764000000000,
      tempCentiC: -42,
      prevHash: new Uint8Array(32).fill(0xab),
      humidityCentiPct: 5000,
      events: 1,
      shockCentiG: 9,
      batteryPct: 50,
      status: 4,
    })
    const good = assemblePayload(base, nobleSign(readingSigningMessage(base), seed))
    const samples = fc.sample(
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 2 })), {
        minLength: 1,
        maxLength: 3,
      }),
      { numRuns: 400, seed: 42 },
    )
    const inputs = samples.map((edits) => {
      let b = good
      for (const [pos, byte, op] of edits) {
        const i = pos % (b.length + 1)
        if (op === 0 && i < b.length) {
          b = b.slice()
          b[i] = byte
        } else if (op === 1) b = b.subarray(0, i)
        else b = concatBytes(b.subarray(0, i), Uint8Array.of(byte), b.subarray(i))
      }
      return b
    })
    inputs.push(good)
    const res = await verifyWithPython({ 'fuzz-device': key }, inputs)
    let disagreements = 0,
      decoded = 0
    inputs.forEach((b, i) => {
      let tsCode: string | null = null
      let tsFields: unknown = null
      try {
        const d = decodeReading(b)
        tsFields = jsonFields(d.fields)
        decoded++
        if (d.fields.deviceId === 'fuzz-device' && !nobleVerify(d.signature, readingSigningMessage(d.record), key))
          tsCode = 'ERR_READING_BAD_SIGNATURE'
      } catch (e) {
        tsCode = isProtocolError(e) ? e.code : `non-protocol: ${String(e)}`
      }
      const py = res.results[i]
      if (py.error !== tsCode || (tsFields !== null && JSON.stringify(py.fields) !== JSON.stringify(tsFields))) {
        disagreements++
        t.fail(`${toHex(b)}: TypeScript ${tsCode}, Python ${py.error}`)
      }
    })
    t.equal(disagreements, 0, `${inputs.length} payloads, ${decoded} decoded by both, no disagreement`)
    t.ok(
      res.results[inputs.length - 1].signatureValid === true && res.results[inputs.length - 1].error === null,
      'the unmutated payload verifies',
    )
  })

  t.test('verifyWithPython reports a missing interpreter clearly', async (t) => {
    await t.rejects(verifyWithPython({}, [], { python: 'python3-does-not-exist' }), { code: 'ERR_PYTHON_UNAVAILABLE' })
  })
}
