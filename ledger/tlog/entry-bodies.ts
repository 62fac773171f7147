/**
 * What each entry type's body must hold, field by field (BODY), with the parts several bodies
 * share: a close's signature, a cluster shipment's slice, chain anchors, a reading's payload
 * checked against its body.
 */
import { sha256 } from '@noble/hashes/sha2.js'
import { CanonicalJsonError, canonicalJsonBytes } from './canonical-json.ts'
import { CLOSE_MEANINGS, RECEIVE_MEANINGS, type EntryType } from './entry-types.ts'
import { fromBase64, fromHex, toBase64, toHex } from '../protocol/index.ts'
import { decodeReading, type DecodedReading } from '../protocol/index.ts'
import { checkDevicePublicKey } from '../protocol/index.ts'
import { partitionOf } from '../protocol/index.ts'
import { isProtocolError } from '../protocol/index.ts'
import { parseNote } from './note.ts'
import { parseCheckpoint } from './checkpoint.ts'
import { gs1CheckDigitOk } from './gs1-check-digit.ts'
import {
  base64,
  deviceId,
  fail,
  GAP_CAUSES,
  GENESIS_PREV,
  hex64,
  int,
  shape,
  shipmentId,
  str,
  validDate,
  type Obj,
} from './entry-fields.ts'

/** A close's electronic signature: signed by the closing user, with a meaning of the fixed list. */
function closeSignature(v: unknown, f: string, closedBy: string): void {
  const g = shape(v, f, ['by', 'meaning', 'reason', 'at'], ['override'])
  if (str(g, 'by', f) !== closedBy)
    fail(
      'ERR_ENTRY_BAD_FIELD',
      `${f}.by`,
      `is ${JSON.stringify(g.by)}, but the close is by ${JSON.stringify(closedBy)}`,
    )
  if (!(CLOSE_MEANINGS as readonly unknown[]).includes(g.meaning))
    fail(
      'ERR_ENTRY_BAD_FIELD',
      `${f}.meaning`,
      `expected one of ${CLOSE_MEANINGS.map((m) => JSON.stringify(m)).join(', ')}, got ${JSON.stringify(g.meaning)}`,
    )
  str(g, 'reason', f)
  int(g, 'at', f)
  if (g.override !== undefined) {
    const ov = shape(g.override, `${f}.override`, ['reason', 'alarms'])
    str(ov, 'reason', `${f}.override`)
    if (!Array.isArray(ov.alarms) || ov.alarms.length === 0)
      fail('ERR_ENTRY_BAD_FIELD', `${f}.override.alarms`, 'expected a non-empty array of alarm ids')
    ;(ov.alarms as unknown[]).forEach((_, i) => str(ov.alarms as unknown as Obj, String(i), `${f}.override.alarms`))
  }
}

/** Checks an object has exactly the required keys plus some optional ones. */

export const BODY: { [T in EntryType]: (b: unknown, f: string) => void } = {
  'device.register'(b, f) {
    const o = shape(b, f, ['deviceId', 'publicKey', 'by'], ['model', 'calibration'])
    deviceId(o.deviceId, `${f}.deviceId`)
    const pk = hex64(o, 'publicKey', f)
    try {
      checkDevicePublicKey(fromHex(pk))
    } catch (e) {
      fail('ERR_ENTRY_BAD_DEVICE_KEY', `${f}.publicKey`, (e as Error).message, {
        protocolCode: isProtocolError(e) ? e.code : undefined,
      })
    }
    str(o, 'by', f)
    if (o.model !== undefined) str(o, 'model', f)
    if (o.calibration !== undefined) {
      const c = shape(o.calibration, `${f}.calibration`, ['certificate', 'calibratedAt', 'dueAt'])
      str(c, 'certificate', `${f}.calibration`)
      const at = int(c, 'calibratedAt', `${f}.calibration`)
      if (int(c, 'dueAt', `${f}.calibration`) < at)
        fail('ERR_ENTRY_BAD_FIELD', `${f}.calibration.dueAt`, 'is before calibratedAt')
    }
  },
  'device.revoke'(b, f) {
    const o = shape(b, f, ['deviceId', 'reason', 'by'])
    deviceId(o.deviceId, `${f}.deviceId`)
    str(o, 'reason', f)
    str(o, 'by', f)
  },
  'shipment.create'(b, f) {
    const o = shape(
      b,
      f,
      ['shipmentId', 'product', 'route', 'devices', 'profile', 'profileHash', 'startAt', 'by'],
      ['gs1', 'anchors', 'cluster'],
    )
    shipmentId(o, f)
    str(o, 'product', f)
    const r = shape(o.route, `${f}.route`, ['from', 'to'])
    str(r, 'from', `${f}.route`)
    str(r, 'to', `${f}.route`)
    if (!Array.isArray(o.devices) || o.devices.length === 0)
      fail('ERR_ENTRY_BAD_FIELD', `${f}.devices`, 'expected a non-empty array of device ids')
    const devices = o.devices as unknown[]
    devices.forEach((d, i) => deviceId(d, `${f}.devices[${i}]`))
    if (new Set(devices).size !== devices.length) fail('ERR_ENTRY_BAD_FIELD', `${f}.devices`, 'lists a device twice')
    if (typeof o.profile !== 'object' || o.profile === null || Array.isArray(o.profile))
      fail('ERR_ENTRY_BAD_FIELD', `${f}.profile`, 'expected a JSON object')
    let want = ''
    try {
      want = toHex(sha256(canonicalJsonBytes(o.profile)))
    } catch (e) {
      if (!(e instanceof CanonicalJsonError)) throw e
      fail('ERR_ENTRY_BAD_FIELD', `${f}.profile${e.path.slice(1)}`, e.message)
    }
    if (hex64(o, 'profileHash', f) !== want)
      fail(
        'ERR_ENTRY_PROFILE_HASH',
        `${f}.profileHash`,
        `is ${String(o.profileHash)}, but the profile's canonical JSON hashes to ${want}`,
        { expected: want, actual: o.profileHash },
      )
    int(o, 'startAt', f)
    str(o, 'by', f)
    if (o.anchors !== undefined) anchors(o, f, devices as string[])
    if (o.cluster !== undefined) clusterShipment(o.cluster, `${f}.cluster`, devices as string[])
    if (o.gs1 !== undefined) {
      const g = shape(o.gs1, `${f}.gs1`, ['sscc', 'gtin', 'lot', 'expiry'])
      const sscc = str(g, 'sscc', `${f}.gs1`),
        gtin = str(g, 'gtin', `${f}.gs1`)
      if (!/^\d{18}$/.test(sscc) || !gs1CheckDigitOk(sscc))
        fail(
          'ERR_ENTRY_BAD_FIELD',
          `${f}.gs1.sscc`,
          `expected 18 digits with a valid GS1 check digit, got ${JSON.stringify(sscc)}`,
        )
      if (!/^\d{14}$/.test(gtin) || !gs1CheckDigitOk(gtin))
        fail(
          'ERR_ENTRY_BAD_FIELD',
          `${f}.gs1.gtin`,
          `expected 14 digits with a valid GS1 check digit, got ${JSON.stringify(gtin)}`,
        )
      // GS1 AI (10): batch/lot, up to 20 characters.
      if (str(g, 'lot', `${f}.gs1`).length > 20)
        fail('ERR_ENTRY_BAD_FIELD', `${f}.gs1.lot`, 'is longer than 20 characters (GS1 AI 10)')
      if (!validDate(str(g, 'expiry', `${f}.gs1`)))
        fail('ERR_ENTRY_BAD_FIELD', `${f}.gs1.expiry`, `expected a YYYY-MM-DD date, got ${JSON.stringify(g.expiry)}`)
    }
  },
  'shipment.close'(b, f) {
    const o = shape(b, f, ['shipmentId', 'closedAt', 'by'], ['anchors', 'endsEarly', 'signature'])
    shipmentId(o, f)
    int(o, 'closedAt', f)
    str(o, 'by', f)
    // The close's device list is the create's; the codec alone can only check the anchors' own form.
    if (o.anchors !== undefined) anchors(o, f)
    if (o.endsEarly !== undefined) str(shape(o.endsEarly, `${f}.endsEarly`, ['reason']), 'reason', `${f}.endsEarly`)
    if (o.signature !== undefined) closeSignature(o.signature, `${f}.signature`, o.by as string)
  },
  'shipment.receive'(b, f) {
    const o = shape(b, f, ['shipmentId', 'receivedAt', 'by', 'signature'])
    shipmentId(o, f)
    int(o, 'receivedAt', f)
    str(o, 'by', f)
    const g = shape(o.signature, `${f}.signature`, ['by', 'meaning', 'reason', 'at'])
    if (str(g, 'by', `${f}.signature`) !== o.by)
      fail(
        'ERR_ENTRY_BAD_FIELD',
        `${f}.signature.by`,
        `is ${JSON.stringify(g.by)}, but the receipt is by ${JSON.stringify(o.by)}`,
      )
    if (!(RECEIVE_MEANINGS as readonly unknown[]).includes(g.meaning))
      fail(
        'ERR_ENTRY_BAD_FIELD',
        `${f}.signature.meaning`,
        `expected one of ${RECEIVE_MEANINGS.map((m) => JSON.stringify(m)).join(', ')}, got ${JSON.stringify(g.meaning)}`,
      )
    str(g, 'reason', `${f}.signature`)
    int(g, 'at', `${f}.signature`)
  },
  'shipment.devices'(b, f) {
    const o = shape(b, f, ['shipmentId', 'add', 'remove', 'at', 'by'], ['anchors'])
    shipmentId(o, f)
    int(o, 'at', f)
    str(o, 'by', f)
    const named: string[] = []
    for (const k of ['add', 'remove'] as const) {
      if (!Array.isArray(o[k])) fail('ERR_ENTRY_BAD_FIELD', `${f}.${k}`, 'expected an array of device ids')
      ;(o[k] as unknown[]).forEach((d, i) => named.push(deviceId(d, `${f}.${k}[${i}]`)))
    }
    if (named.length === 0) fail('ERR_ENTRY_BAD_FIELD', `${f}.add`, 'add and remove are both empty')
    if (new Set(named).size !== named.length)
      fail('ERR_ENTRY_BAD_FIELD', `${f}.add`, 'names a device twice (in add and remove together)')
    if (o.anchors !== undefined) anchors(o, f, named)
  },
  gap(b, f) {
    const o = shape(b, f, ['deviceId', 'fromSeq', 'toSeq', 'cause', 'by'], ['detail'])
    deviceId(o.deviceId, `${f}.deviceId`)
    const from = int(o, 'fromSeq', f, 1)
    if (int(o, 'toSeq', f, 1) < from) fail('ERR_ENTRY_BAD_FIELD', `${f}.toSeq`, `is below fromSeq ${from}`)
    if ((o.toSeq as number) > MAX_SEQ) fail('ERR_ENTRY_BAD_FIELD', `${f}.toSeq`, `is above the largest seq ${MAX_SEQ}`)
    if (!(GAP_CAUSES as readonly unknown[]).includes(o.cause))
      fail(
        'ERR_ENTRY_BAD_FIELD',
        `${f}.cause`,
        `expected one of ${GAP_CAUSES.join(', ')}, got ${JSON.stringify(o.cause)}`,
      )
    str(o, 'by', f)
    if (o.detail !== undefined) str(o, 'detail', f)
  },
  'reading.fork'(b, f) {
    const o = shape(b, f, ['deviceId', 'seq', 'payloads'])
    const id = deviceId(o.deviceId, `${f}.deviceId`)
    const seq = int(o, 'seq', f, 1)
    if (!Array.isArray(o.payloads) || o.payloads.length !== 2)
      fail('ERR_ENTRY_BAD_FIELD', `${f}.payloads`, 'expected an array of two base64 payloads')
    const ps = o.payloads as unknown[]
    const hashes = ps.map((_, i) => {
      const body = { payload: ps[i], deviceId: id, seq }
      readingOfBody(body, `${f}.payloads[${i}]`)
      return toHex(sha256(fromBase64(ps[i] as string)))
    })
    if (hashes[0] === hashes[1])
      fail('ERR_ENTRY_BAD_FIELD', `${f}.payloads`, 'are the same payload twice: a fork needs two different readings')
    if (hashes[0] > hashes[1])
      fail('ERR_ENTRY_BAD_FIELD', `${f}.payloads`, 'must be ordered by the SHA-256 hex of their bytes')
  },
  reading(b, f) {
    const o = shape(b, f, ['payload', 'deviceId', 'seq'])
    readingOfBody(o, f)
  },
  'alarm.ack'(b, f) {
    const o = shape(b, f, ['shipmentId', 'alarmId', 'reason', 'comment', 'by'])
    shipmentId(o, f)
    str(o, 'alarmId', f)
    str(o, 'reason', f)
    str(o, 'comment', f, { empty: true })
    str(o, 'by', f)
  },
  checkpoint(b, f) {
    const o = shape(b, f, ['size', 'rootHash', 'note'])
    const size = int(o, 'size', f)
    const root = base64(o, 'rootHash', f)
    if (root.length !== 32) fail('ERR_ENTRY_BAD_FIELD', `${f}.rootHash`, `expected 32 bytes, got ${root.length}`)
    const note = str(o, 'note', f)
    // The signature needs the ledger key (fsck checks it); the body must at least say what its note says.
    let c
    try {
      c = parseCheckpoint(parseNote(note).text)
    } catch (e) {
      return fail('ERR_ENTRY_BAD_FIELD', `${f}.note`, `is not a signed checkpoint: ${(e as Error).message}`)
    }
    if (c.size !== size || toBase64(c.rootHash) !== o.rootHash) {
      fail(
        'ERR_ENTRY_CHECKPOINT_MISMATCH',
        `${f}.note`,
        `commits to size ${c.size} root ${toBase64(c.rootHash)}, the body to size ${size} root ${String(o.rootHash)}`,
        { noteSize: c.size, size },
      )
    }
  },
}

/** Highest sequence number of a v1 reading (u32). */
const MAX_SEQ = 0xffff_ffff

/** One anchor per logger, in the shipment's device order when that is known. */
/** A cluster shipment's slice: `devices` are one ingest partition's share of every logger listed in `cluster.devices`. */
function clusterShipment(v: unknown, f: string, local: string[]): void {
  const c = shape(v, f, ['partitions', 'devices'])
  const count = int(c, 'partitions', f)
  if (![1, 2, 4, 8, 16].includes(count))
    fail('ERR_ENTRY_BAD_FIELD', `${f}.partitions`, `expected 1, 2, 4, 8 or 16, got ${count}`)
  if (!Array.isArray(c.devices) || c.devices.length === 0)
    fail('ERR_ENTRY_BAD_FIELD', `${f}.devices`, 'expected a non-empty array of device ids')
  const all = c.devices as unknown[]
  all.forEach((d, i) => deviceId(d, `${f}.devices[${i}]`))
  if (new Set(all).size !== all.length) fail('ERR_ENTRY_BAD_FIELD', `${f}.devices`, 'lists a device twice')
  for (const d of local)
    if (!all.includes(d)) fail('ERR_ENTRY_BAD_FIELD', `${f}.devices`, `does not list ${d}, a logger of this partition`)
  const home = partitionOf(local[0]) % count
  for (const d of local)
    if (partitionOf(d) % count !== home)
      fail(
        'ERR_ENTRY_BAD_FIELD',
        `${f}`,
        `${d} belongs to ingest partition ${partitionOf(d) % count}, ${local[0]} to ${home}: a slice holds one partition's loggers`,
      )
}

function anchors(o: Obj, f: string, devices?: string[]): void {
  if (!Array.isArray(o.anchors)) fail('ERR_ENTRY_BAD_FIELD', `${f}.anchors`, 'expected an array of chain anchors')
  const list = o.anchors as unknown[]
  if (devices && list.length !== devices.length)
    fail(
      'ERR_ENTRY_BAD_FIELD',
      `${f}.anchors`,
      `expected one anchor per device (${devices.length}), got ${list.length}`,
    )
  const seen = new Set<string>()
  list.forEach((a, i) => {
    const af = `${f}.anchors[${i}]`
    const x = shape(a, af, ['deviceId', 'seq', 'hash'], ['fork'])
    if (x.fork !== undefined) int(x, 'fork', af)
    const id = deviceId(x.deviceId, `${af}.deviceId`)
    if (devices && id !== devices[i])
      fail('ERR_ENTRY_BAD_FIELD', `${af}.deviceId`, `expected ${devices[i]} (the shipment's device order), got ${id}`)
    if (seen.has(id)) fail('ERR_ENTRY_BAD_FIELD', `${af}.deviceId`, `anchors ${id} twice`)
    seen.add(id)
    const seq = int(x, 'seq', af)
    if (seq > MAX_SEQ) fail('ERR_ENTRY_BAD_FIELD', `${af}.seq`, `is above the largest seq ${MAX_SEQ}`)
    const h = hex64(x, 'hash', af)
    if ((seq === 0) !== (h === GENESIS_PREV))
      fail('ERR_ENTRY_BAD_FIELD', `${af}.hash`, 'must be 64 zeros exactly when seq is 0')
  })
}

export function readingOfBody(o: Obj, f: string): DecodedReading {
  const payload = base64(o, 'payload', f)
  const id = deviceId(o.deviceId, `${f}.deviceId`)
  const seq = int(o, 'seq', f, 1)
  let r: DecodedReading
  try {
    r = decodeReading(payload)
  } catch (e) {
    return fail('ERR_ENTRY_BAD_READING', `${f}.payload`, (e as Error).message, {
      protocolCode: isProtocolError(e) ? e.code : undefined,
    })
  }
  if (r.fields.deviceId !== id)
    fail('ERR_ENTRY_READING_MISMATCH', `${f}.deviceId`, `is ${id}, the payload is from ${r.fields.deviceId}`, {
      body: id,
      payload: r.fields.deviceId,
    })
  if (r.fields.seq !== seq)
    fail('ERR_ENTRY_READING_MISMATCH', `${f}.seq`, `is ${seq}, the payload has seq ${r.fields.seq}`, {
      body: seq,
      payload: r.fields.seq,
    })
  return r
}
