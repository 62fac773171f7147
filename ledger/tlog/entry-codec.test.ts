/**
 * Entry codec: every entry type round-trips through canonical bytes; every
 * malformed entry is refused with the ERR_ENTRY_* code and the field it names.
 */
import t from 'tap'
import type { Test } from 'tap'
import { createHash } from 'node:crypto'
import { canonicalJsonBytes } from './canonical-json.ts'
import {
  decodeEntry,
  encodeEntry,
  entryHash,
  EntryError,
  GENESIS_PREV,
  readingOfEntry,
  validateEntry,
} from './entry-codec.ts'
import type { Entry } from './entry-types.ts'
import { toBase64, toHex, utf8 } from '../protocol/bytes.ts'
import { readingBody, registerBody, signedReading, testDevice, testLedger } from './test/entries.ts'

const dev = testDevice('fridge-01', 1)
const profile = { class: 'refrigerated', min: 200, max: 800 }
const profileHash = createHash('sha256').update(canonicalJsonBytes(profile)).digest('hex')
const base = { v: 1 as const, index: 3, time: 1_760_000_000_000, prev: 'ab'.repeat(32) }
const payload = signedReading(dev, 512, 1_760_000_000_000, { humidityCentiPct: 4000 })

const samples: Entry[] = [
  {
    ...base,
    type: 'device.register',
    body: { ...registerBody(dev), model: 'CP-1', calibration: { certificate: 'CAL-1', calibratedAt: 1, dueAt: 2 } },
  },
  { ...base, type: 'device.revoke', body: { deviceId: dev.id, reason: 'lost', by: 'qa' } },
  {
    ...base,
    type: 'shipment.create',
    body: {
      shipmentId: 'SHP-2026.001',
      product: 'Vaccine X',
      gs1: { sscc: '106141411234567897', gtin: '09506000134352', lot: 'LOT42', expiry: '2027-02-28' },
      route: { from: 'Basel', to: 'Lyon' },
      devices: [dev.id],
      profile,
      profileHash,
      startAt: 5,
      by: 'ops',
    },
  },
  { ...base, type: 'shipment.close', body: { shipmentId: 'SHP-2026.001', closedAt: 9, by: 'ops' } },
  { ...base, type: 'reading', body: readingBody(payload, dev, 1) },
  {
    ...base,
    type: 'alarm.ack',
    body: { shipmentId: 'SHP-2026.001', alarmId: 'a1', reason: 'door opened at dock', comment: '', by: 'ops' },
  },
]

t.test('round trip of every entry type', async (t) => {
  const l = testLedger()
  l.append('device.register', registerBody(dev))
  l.checkpoint()
  const cp = decodeEntry(l.entries[1])
  t.equal(cp.type, 'checkpoint')
  for (const e of [...samples, cp]) {
    const bytes = encodeEntry(e)
    t.same(decodeEntry(bytes), e, `${e.type} decodes to what was encoded`)
    t.same(bytes, canonicalJsonBytes(e), `${e.type} bytes are canonical JSON`)
  }
  const r = readingOfEntry(samples[4] as Entry<'reading'>)
  t.equal(r.fields.tempCentiC, 512)
  t.equal(r.fields.humidityCentiPct, 4000)
  const bytes = encodeEntry(samples[0])
  t.equal(
    entryHash(bytes),
    createHash('sha256').update(bytes).digest('hex'),
    'entryHash is hex SHA-256 (Node cross-check)',
  )
  t.equal(GENESIS_PREV, '0'.repeat(64))
})

/** Expects `fn` to throw EntryError with `code` naming `field`. */
function refuses(t: Test, fn: () => unknown, code: string, field: string, why: string) {
  try {
    fn()
    t.fail(`${why}: accepted`)
  } catch (e) {
    if (!(e instanceof EntryError)) {
      t.fail(`${why}: ${String(e)}`)
      return
    }
    t.same([e.code, e.field], [code, field], why)
  }
}

t.test('refusals name the field', async (t) => {
  const [reg, revoke, create, , reading, ack] = samples
  const w = <T extends Entry>(e: T, patch: Record<string, unknown>) => ({ ...e, ...patch })
  const b = <T extends Entry>(e: T, patch: Record<string, unknown>) => ({ ...e, body: { ...e.body, ...patch } })
  refuses(t, () => encodeEntry(w(reg, { v: 2 }) as Entry), 'ERR_ENTRY_VERSION', '$.v', 'version 2')
  refuses(
    t,
    () => encodeEntry(w(reg, { type: 'device.rename' }) as Entry),
    'ERR_ENTRY_UNKNOWN_TYPE',
    '$.type',
    'unknown type',
  )
  refuses(t, () => encodeEntry(w(reg, { index: -1 }) as Entry), 'ERR_ENTRY_BAD_FIELD', '$.index', 'negative index')
  refuses(
    t,
    () => encodeEntry(w(reg, { prev: 'AB'.repeat(32) }) as Entry),
    'ERR_ENTRY_BAD_FIELD',
    '$.prev',
    'uppercase prev',
  )
  refuses(
    t,
    () => encodeEntry(w(reg, { extra: 1 }) as Entry),
    'ERR_ENTRY_UNKNOWN_FIELD',
    '$.extra',
    'extra top-level field',
  )
  refuses(
    t,
    () => encodeEntry(w(reg, { time: undefined }) as Entry),
    'ERR_ENTRY_MISSING_FIELD',
    '$.time',
    'missing time',
  )
  refuses(
    t,
    () => encodeEntry(b(reg, { deviceId: 'Fridge' }) as Entry),
    'ERR_ENTRY_BAD_FIELD',
    '$.body.deviceId',
    'device id with a capital',
  )
  refuses(
    t,
    () => encodeEntry(b(reg, { publicKey: '00'.repeat(32) }) as Entry),
    'ERR_ENTRY_BAD_DEVICE_KEY',
    '$.body.publicKey',
    'small-order public key',
  )
  refuses(
    t,
    () => encodeEntry(b(reg, { colour: 'red' }) as Entry),
    'ERR_ENTRY_UNKNOWN_FIELD',
    '$.body.colour',
    'unknown body field',
  )
  refuses(
    t,
    () => encodeEntry(b(reg, { calibration: { certificate: 'C', calibratedAt: 5, dueAt: 4 } }) as Entry),
    'ERR_ENTRY_BAD_FIELD',
    '$.body.calibration.dueAt',
    'calibration due before done',
  )
  refuses(
    t,
    () => encodeEntry(b(revoke, { reason: '' }) as Entry),
    'ERR_ENTRY_BAD_FIELD',
    '$.body.reason',
    'empty reason',
  )
  refuses(
    t,
    () => encodeEntry(b(create, { profileHash: '00'.repeat(32) }) as Entry),
    'ERR_ENTRY_PROFILE_HASH',
    '$.body.profileHash',
    'profile hash of another profile',
  )
  refuses(
    t,
    () => encodeEntry(b(create, { profile: { max: 8.5 } }) as Entry),
    'ERR_ENTRY_BAD_FIELD',
    '$.body.profile.max',
    'float in the profile',
  )
  refuses(
    t,
    () => encodeEntry(b(create, { shipmentId: 'a!b' }) as Entry),
    'ERR_ENTRY_BAD_FIELD',
    '$.body.shipmentId',
    'shipment id with "!"',
  )
  refuses(
    t,
    () => encodeEntry(b(create, { devices: [dev.id, dev.id] }) as Entry),
    'ERR_ENTRY_BAD_FIELD',
    '$.body.devices',
    'device listed twice',
  )
  refuses(
    t,
    () =>
      encodeEntry(b(create, { gs1: { ...(create.body as { gs1: object }).gs1, sscc: '106141411234567890' } }) as Entry),
    'ERR_ENTRY_BAD_FIELD',
    '$.body.gs1.sscc',
    'SSCC check digit',
  )
  refuses(
    t,
    () => encodeEntry(b(create, { gs1: { ...(create.body as { gs1: object }).gs1, expiry: '2027-02-30' } }) as Entry),
    'ERR_ENTRY_BAD_FIELD',
    '$.body.gs1.expiry',
    'no 30 February',
  )
  refuses(
    t,
    () => encodeEntry(b(create, { route: { from: 'Basel' } }) as Entry),
    'ERR_ENTRY_MISSING_FIELD',
    '$.body.route.to',
    'route without destination',
  )
  refuses(
    t,
    () => encodeEntry(b(reading, { seq: 2 }) as Entry),
    'ERR_ENTRY_READING_MISMATCH',
    '$.body.seq',
    'body seq differs from payload',
  )
  refuses(
    t,
    () => encodeEntry(b(reading, { deviceId: 'fridge-02' }) as Entry),
    'ERR_ENTRY_READING_MISMATCH',
    '$.body.deviceId',
    'body device differs from payload',
  )
  refuses(
    t,
    () => encodeEntry(b(reading, { payload: toBase64(payload.subarray(0, 40)) }) as Entry),
    'ERR_ENTRY_BAD_READING',
    '$.body.payload',
    'truncated payload',
  )
  refuses(
    t,
    () => encodeEntry(b(reading, { payload: toBase64(payload).replace(/=+$/, '') }) as Entry),
    'ERR_ENTRY_BAD_FIELD',
    '$.body.payload',
    'unpadded base64',
  )
  refuses(
    t,
    () => encodeEntry(b(ack, { comment: undefined }) as Entry),
    'ERR_ENTRY_MISSING_FIELD',
    '$.body.comment',
    'ack without comment',
  )
  const l = testLedger()
  l.append('device.register', registerBody(dev))
  l.checkpoint()
  const cp = decodeEntry(l.entries[1]) as Entry<'checkpoint'>
  refuses(
    t,
    () => encodeEntry({ ...cp, body: { ...cp.body, size: 5 } }),
    'ERR_ENTRY_CHECKPOINT_MISMATCH',
    '$.body.note',
    'checkpoint body size differs from its note',
  )
  refuses(
    t,
    () => encodeEntry({ ...cp, body: { ...cp.body, note: 'not a note' } }),
    'ERR_ENTRY_BAD_FIELD',
    '$.body.note',
    'checkpoint note unreadable',
  )
})

t.test('decode refuses non-canonical and non-JSON bytes', async (t) => {
  const bytes = encodeEntry(samples[1])
  const text = new TextDecoder().decode(bytes)
  refuses(t, () => decodeEntry(utf8(text.replace('{', '{ '))), 'ERR_ENTRY_NOT_CANONICAL', '$', 'whitespace')
  refuses(
    t,
    () => decodeEntry(utf8(JSON.stringify(JSON.parse(text), null, 0).replace('"v":1', '"v":1.0'))),
    'ERR_ENTRY_NOT_CANONICAL',
    '$',
    '1.0 for 1',
  )
  const reordered = JSON.parse(text) as Record<string, unknown>
  refuses(
    t,
    () => decodeEntry(utf8(JSON.stringify({ v: reordered.v, ...reordered }))),
    'ERR_ENTRY_NOT_CANONICAL',
    '$',
    'keys out of order',
  )
  refuses(
    t,
    () => decodeEntry(utf8(text.replace('"lost"', '"\\u006cost"'))),
    'ERR_ENTRY_NOT_CANONICAL',
    '$',
    'escaped letter',
  )
  refuses(t, () => decodeEntry(utf8(text.slice(0, -1))), 'ERR_ENTRY_NOT_JSON', '$', 'truncated JSON')
  refuses(t, () => decodeEntry(Uint8Array.of(0xff, 0xfe)), 'ERR_ENTRY_NOT_JSON', '$', 'invalid UTF-8')
  refuses(t, () => decodeEntry(utf8('[]')), 'ERR_ENTRY_BAD_FIELD', '$', 'an array')
  t.throws(() => validateEntry(null), EntryError)
  t.equal(toHex(bytes).length, bytes.length * 2)
})

t.test('anchors, declared gaps and forks', async (t) => {
  const p2 = signedReading(dev, 600, 1_760_000_060_000)
  const twin = testDevice('fridge-01', 1)
  const h = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')
  const forkPayloads = [payload, signedReading(twin, 999, 1_760_000_000_500)]
    .map((b) => ({ b64: toBase64(b), h: h(b) }))
    .sort((a, b) => (a.h < b.h ? -1 : 1))
  const ok: Entry[] = [
    {
      ...base,
      type: 'shipment.create',
      body: {
        ...(samples[2].body as Entry<'shipment.create'>['body']),
        anchors: [{ deviceId: dev.id, seq: 0, hash: GENESIS_PREV }],
      },
    },
    {
      ...base,
      type: 'shipment.close',
      body: {
        shipmentId: 'S1',
        closedAt: 9,
        by: 'ops',
        anchors: [{ deviceId: dev.id, seq: 2, hash: h(p2) }],
        endsEarly: { reason: 'logger lost at hub' },
      },
    },
    { ...base, type: 'gap', body: { deviceId: dev.id, fromSeq: 3, toSeq: 7, cause: 'buffer-overflow', by: 'ingest' } },
    {
      ...base,
      type: 'gap',
      body: { deviceId: dev.id, fromSeq: 3, toSeq: 3, cause: 'operator', by: 'admin', detail: 'logger reset' },
    },
    {
      ...base,
      type: 'reading.fork',
      body: { deviceId: dev.id, seq: 1, payloads: [forkPayloads[0].b64, forkPayloads[1].b64] },
    },
  ]
  for (const e of ok) t.same(decodeEntry(encodeEntry(e)), e, `${e.type} round-trips`)
  const create = ok[0] as Entry<'shipment.create'>
  refuses(
    t,
    () => encodeEntry({ ...create, body: { ...create.body, anchors: [] } }),
    'ERR_ENTRY_BAD_FIELD',
    '$.body.anchors',
    'one anchor per device',
  )
  refuses(
    t,
    () =>
      encodeEntry({
        ...create,
        body: { ...create.body, anchors: [{ deviceId: 'other-1', seq: 0, hash: GENESIS_PREV }] },
      }),
    'ERR_ENTRY_BAD_FIELD',
    '$.body.anchors[0].deviceId',
    'anchor of another device',
  )
  refuses(
    t,
    () =>
      encodeEntry({ ...create, body: { ...create.body, anchors: [{ deviceId: dev.id, seq: 4, hash: GENESIS_PREV }] } }),
    'ERR_ENTRY_BAD_FIELD',
    '$.body.anchors[0].hash',
    'zero hash above seq 0',
  )
  const gap = ok[2] as Entry<'gap'>
  refuses(
    t,
    () => encodeEntry({ ...gap, body: { ...gap.body, toSeq: 2 } }),
    'ERR_ENTRY_BAD_FIELD',
    '$.body.toSeq',
    'toSeq below fromSeq',
  )
  refuses(
    t,
    () => encodeEntry({ ...gap, body: { ...gap.body, fromSeq: 0 } }),
    'ERR_ENTRY_BAD_FIELD',
    '$.body.fromSeq',
    'seq 0',
  )
  refuses(
    t,
    () => encodeEntry({ ...gap, body: { ...gap.body, cause: 'lost' as 'operator' } }),
    'ERR_ENTRY_BAD_FIELD',
    '$.body.cause',
    'unknown cause',
  )
  const fork = ok[4] as Entry<'reading.fork'>
  refuses(
    t,
    () => encodeEntry({ ...fork, body: { ...fork.body, payloads: [fork.body.payloads[1], fork.body.payloads[0]] } }),
    'ERR_ENTRY_BAD_FIELD',
    '$.body.payloads',
    'unordered fork payloads',
  )
  refuses(
    t,
    () => encodeEntry({ ...fork, body: { ...fork.body, payloads: [fork.body.payloads[0], fork.body.payloads[0]] } }),
    'ERR_ENTRY_BAD_FIELD',
    '$.body.payloads',
    'the same payload twice',
  )
  refuses(
    t,
    () => encodeEntry({ ...fork, body: { ...fork.body, seq: 2 } }),
    'ERR_ENTRY_READING_MISMATCH',
    '$.body.payloads[0].seq',
    'payload of another seq',
  )
})

t.test('a close carries an electronic signature of a fixed meaning, signed by the closer', async (t) => {
  const sig = {
    by: 'ops',
    meaning: 'received and reviewed',
    reason: 'pallet checked at the dock',
    at: 9,
    override: { reason: 'probe fault, product inspected', alarms: ['a1'] },
  }
  const close: Entry<'shipment.close'> = {
    ...base,
    type: 'shipment.close',
    body: { shipmentId: 'S1', closedAt: 9, by: 'ops', signature: sig as Entry<'shipment.close'>['body']['signature'] },
  }
  t.same(decodeEntry(encodeEntry(close)), close, 'a signed close round-trips')
  const s = (patch: Record<string, unknown>) =>
    ({ ...close, body: { ...close.body, signature: { ...sig, ...patch } } }) as Entry
  refuses(
    t,
    () => encodeEntry(s({ by: 'mallory' })),
    'ERR_ENTRY_BAD_FIELD',
    '$.body.signature.by',
    'signed by someone else than the closer',
  )
  refuses(
    t,
    () => encodeEntry(s({ meaning: 'looks fine' })),
    'ERR_ENTRY_BAD_FIELD',
    '$.body.signature.meaning',
    'a meaning off the list',
  )
  refuses(t, () => encodeEntry(s({ reason: '' })), 'ERR_ENTRY_BAD_FIELD', '$.body.signature.reason', 'no reason')
  refuses(
    t,
    () => encodeEntry(s({ override: { reason: '', alarms: ['a1'] } })),
    'ERR_ENTRY_BAD_FIELD',
    '$.body.signature.override.reason',
    'an override without a reason',
  )
  refuses(
    t,
    () => encodeEntry(s({ override: { reason: 'x', alarms: [] } })),
    'ERR_ENTRY_BAD_FIELD',
    '$.body.signature.override.alarms',
    'an override of no alarm',
  )
  refuses(
    t,
    () => encodeEntry(s({ password: 'x' })),
    'ERR_ENTRY_UNKNOWN_FIELD',
    '$.body.signature.password',
    'a field the signature does not define',
  )
})
