/**
 * The check of everything the store derives from the entries (issue 13,
 * item 3): Merkle nodes (`n!`), the indexes (`t!`, `r!`, `rt!`, `rs!`), device
 * and shipment state (`d!`, `s!`), the tree state, counters and latest
 * checkpoint (`m!`). Inclusion proofs, bundles and queries read these, not the
 * entries, so damage here breaks them while the entries still verify.
 *
 * It reads the store in ONE pass of one iterator (one LevelDB snapshot, so a
 * live ledger can be checked while it ingests) in key order: `d!` comes
 * before the entries and is kept aside; every key after `e!` is compared as
 * it streams against what the entries imply. Keys of prefixes it does not
 * know are left alone. A read error of the iterator (LevelDB reporting
 * corruption) is a failure too, named by the last key read.
 */
import { entryHash } from '../tlog/index.ts'
import type { Entry, ShipmentCreateBody, ShipmentDevicesBody } from '../tlog/index.ts'
import { canonicalJson } from '../tlog/index.ts'
import { applyChange, assignedNow, initialWindows, type LoggerWindow } from '../tlog/index.ts'
import { appendLeaf, leafHash, nodeHash } from '../tlog/index.ts'
import { K, indexOfKey as keyIndex, parseKey } from './keys-layout.ts'
import { decodeReading, equalBytes, fromBase64, readingHash, toHex } from '../protocol/index.ts'

export interface DerivedFailure {
  code: 'ERR_FSCK_DERIVED_NODE' | 'ERR_FSCK_DERIVED_INDEX' | 'ERR_FSCK_DERIVED_STATE' | 'ERR_FSCK_STORE_READ'
  /** The entry index concerned, when one is. */
  index?: number
  key?: string
  message: string
}

export interface DerivedReport {
  /** Entries seen in the snapshot. */
  size: number
  /** Derived keys compared. */
  keys: number
  failure?: DerivedFailure
}

const dec = new TextDecoder()
const json = (v: Uint8Array): Record<string, unknown> => JSON.parse(dec.decode(v)) as Record<string, unknown>

class Fail extends Error {
  constructor(readonly f: DerivedFailure) {
    super(f.message)
  }
}
const fail = (code: DerivedFailure['code'], message: string, key?: string, index?: number): never => {
  throw new Fail({
    code,
    message: key ? `${key}: ${message}` : message,
    ...(key !== undefined ? { key } : {}),
    ...(index !== undefined ? { index } : {}),
  })
}

interface Reading {
  i: number
  h: string
  p: string
  t: number
  device: string
  seq: number
}
interface Ship {
  devices: string[]
  loggers: LoggerWindow[]
  changed: boolean
  startAt: number
  createIndex: number
  closedAt?: number
  closeIndex?: number
  receiveIndex?: number
  profileHash: string
}
interface Dev {
  publicKey: string
  registerIndex: number
  revoked: boolean
  revokeIndex?: number
  readings: number
}

/** Same fields, compared as JSON values. */
function sameFields(actual: Record<string, unknown>, expected: Record<string, unknown>): string | undefined {
  // Canonical: the same value whatever order its keys were written in (anchors come from entries and from the batch).
  const text = (v: unknown) => {
    try {
      return v === undefined ? 'undefined' : canonicalJson(v)
    } catch {
      return JSON.stringify(v)
    }
  }
  for (const [k, v] of Object.entries(expected)) {
    if (text(actual[k]) !== text(v))
      return `${k} is ${JSON.stringify(actual[k])}, the entries give ${JSON.stringify(v)}`
  }
  return undefined
}

export async function checkDerived(snapshot: AsyncIterable<[string, Uint8Array]>): Promise<DerivedReport> {
  const report: DerivedReport = { size: 0, keys: 0 }
  const deviceRows: [string, Uint8Array][] = []
  const types: string[] = []
  const byType: Record<string, number> = {}
  const leaves: Uint8Array[] = []
  let frontier: Uint8Array[] = []
  let lastHash = ''
  let lastTime = 0
  let lastCheckpoint: string | undefined
  const readings = new Map<string, Reading>()
  const devices = new Map<string, Dev>()
  const ships = new Map<string, Ship>()
  /** Expected keys of the time indexes, removed as they are found. */
  const rt = new Map<string, number>()
  const rs = new Map<string, number>()
  const rowsSeen = new Set<string>()
  const seen = { t: 0, n: 0, s: 0, tree: false }
  let levels: Uint8Array[][] | undefined
  let nodeSeen: Uint8Array[] | undefined
  let typeSeen = new Uint8Array(0)
  let lastKey = '(start)'

  const onEntry = (key: string, bytes: Uint8Array) => {
    const i = keyIndex(key)
    if (i !== report.size)
      fail('ERR_FSCK_DERIVED_INDEX', `entry ${report.size} is missing (the next entry key is ${key})`, key, report.size)
    const e = JSON.parse(dec.decode(bytes)) as Entry
    types.push(e.type)
    byType[e.type] = (byType[e.type] ?? 0) + 1
    const leaf = leafHash(bytes)
    leaves.push(leaf)
    frontier = appendLeaf(frontier, i, leaf).frontier
    lastHash = entryHash(bytes)
    lastTime = e.time
    report.size++
    const b = e.body as unknown as Record<string, unknown>
    switch (e.type) {
      case 'device.register':
        devices.set(b.deviceId as string, {
          publicKey: (b.publicKey as string).toLowerCase(),
          registerIndex: i,
          revoked: false,
          readings: 0,
        })
        break
      case 'device.revoke': {
        const d = devices.get(b.deviceId as string)
        if (d) {
          d.revoked = true
          d.revokeIndex = i
        }
        break
      }
      case 'shipment.create': {
        const c = e.body as ShipmentCreateBody
        ships.set(c.shipmentId, {
          devices: c.devices,
          loggers: initialWindows(c),
          changed: false,
          startAt: c.startAt,
          createIndex: i,
          profileHash: c.profileHash,
        })
        break
      }
      case 'shipment.devices': {
        const s = ships.get(b.shipmentId as string)
        if (s) {
          s.loggers = applyChange(s.loggers, { index: i, body: e.body as ShipmentDevicesBody })
          s.devices = assignedNow(s.loggers)
          s.changed = true
        }
        break
      }
      case 'shipment.close': {
        const s = ships.get(b.shipmentId as string)
        if (s) {
          s.closedAt = b.closedAt as number
          s.closeIndex = i
        }
        break
      }
      case 'shipment.receive': {
        const s = ships.get(b.shipmentId as string)
        if (s) s.receiveIndex = i
        break
      }
      case 'checkpoint':
        lastCheckpoint = b.note as string
        break
      case 'reading': {
        const payload = fromBase64(b.payload as string)
        const f = decodeReading(payload).fields
        const r: Reading = {
          i,
          h: toHex(readingHash(payload)),
          p: toHex(f.prevHash),
          t: f.deviceTimeMs,
          device: f.deviceId,
          seq: f.seq,
        }
        readings.set(`${f.deviceId}!${f.seq}`, r)
        const d = devices.get(f.deviceId)
        if (d) d.readings++
        rt.set(K.readingTime(f.deviceId, f.deviceTimeMs, f.seq), i)
        break
      }
    }
  }

  /** rs! expectations, once every entry is known: a reading belongs to each shipment of its device from startAt on, and up to closedAt for readings logged after the close. */
  const expectShipmentIndex = () => {
    const byDevice = new Map<string, [string, Ship][]>()
    for (const [id, s] of ships)
      for (const w of s.loggers) {
        const l = byDevice.get(w.deviceId) ?? []
        l.push([id, s])
        byDevice.set(w.deviceId, l)
      }
    for (const r of readings.values()) {
      for (const [id, s] of byDevice.get(r.device) ?? []) {
        const w = s.loggers.find((x) => x.deviceId === r.device)!
        // A removed logger: what was logged before its removal, up to the removal's device time.
        if (
          w.removeIndex !== null
            ? r.i < w.removeIndex && r.t >= w.from && r.t <= w.until!
            : r.t >= w.from && (s.closeIndex === undefined || r.i < s.closeIndex || r.t <= s.closedAt!)
        ) {
          rs.set(K.shipmentReading(id, r.t, r.device, r.seq), r.i)
        }
      }
    }
  }

  /** All perfect-subtree hashes, level by level (what n! must hold). */
  const nodeLevels = (): Uint8Array[][] => {
    const out = [leaves]
    while (out[out.length - 1].length > 1) {
      const below = out[out.length - 1]
      const level: Uint8Array[] = []
      for (let k = 0; k + 1 < below.length; k += 2) level.push(nodeHash(below[k], below[k + 1]))
      out.push(level)
    }
    return out
  }

  let entriesDone = false
  const afterEntries = () => {
    if (entriesDone) return
    entriesDone = true
    expectShipmentIndex()
    levels = nodeLevels()
    typeSeen = new Uint8Array(report.size)
    nodeSeen = levels.map((l) => new Uint8Array(l.length))
  }

  try {
    try {
      for await (const [key, value] of snapshot) {
        lastKey = key
        const prefix = key.slice(0, key.indexOf('!') + 1)
        if (prefix === 'd!') {
          deviceRows.push([key, value])
          continue
        }
        if (prefix === 'e!') {
          onEntry(key, value)
          continue
        }
        if (key > 'e!') afterEntries()
        report.keys++
        switch (prefix) {
          case 'n!': {
            const { level, index } = parseKey.node(key)
            const want = levels![level]?.[index]
            if (!want) fail('ERR_FSCK_DERIVED_NODE', `a Merkle node that ${report.size} entries do not complete`, key)
            if (!equalBytes(value, want!))
              fail(
                'ERR_FSCK_DERIVED_NODE',
                `Merkle node (${level}, ${index}) is ${toHex(value)}, the entries hash to ${toHex(want!)}`,
                key,
                index * 2 ** level,
              )
            nodeSeen![level][index] = 1
            seen.n++
            break
          }
          case 't!': {
            const { type, index } = parseKey.byType(key)
            if (types[index] !== type)
              fail(
                'ERR_FSCK_DERIVED_INDEX',
                `indexes entry ${index} as ${type}, but it is ${types[index] ?? 'not in the log'}`,
                key,
                index,
              )
            typeSeen[index] = 1
            seen.t++
            break
          }
          case 'r!': {
            const { device, seq } = parseKey.reading(key)
            const r = readings.get(`${device}!${seq}`)
            if (!r) fail('ERR_FSCK_DERIVED_INDEX', 'indexes a reading that is not in the log', key)
            const why = sameFields(json(value), { i: r!.i, h: r!.h, p: r!.p, t: r!.t })
            if (why) fail('ERR_FSCK_DERIVED_INDEX', why, key, r!.i)
            rowsSeen.add(`${device}!${seq}`)
            break
          }
          case 'rt!':
          case 'rs!': {
            const want = (prefix === 'rt!' ? rt : rs).get(key)
            const got = json(value) as unknown
            if (want === undefined)
              fail(
                'ERR_FSCK_DERIVED_INDEX',
                'indexes a reading that the entries do not put there',
                key,
                typeof got === 'number' ? got : undefined,
              )
            if (got !== want)
              fail(
                'ERR_FSCK_DERIVED_INDEX',
                `points at entry ${JSON.stringify(got)}, the reading is entry ${want}`,
                key,
                want,
              )
            ;(prefix === 'rt!' ? rt : rs).delete(key)
            break
          }
          case 's!': {
            const id = key.slice(2)
            const s = ships.get(id)
            if (!s) fail('ERR_FSCK_DERIVED_STATE', 'a shipment that no entry creates', key)
            const why = sameFields(json(value), {
              shipmentId: id,
              devices: s!.devices,
              startAt: s!.startAt,
              createIndex: s!.createIndex,
              profileHash: s!.profileHash,
              closedAt: s!.closedAt,
              closeIndex: s!.closeIndex,
              receiveIndex: s!.receiveIndex,
              loggers: s!.changed ? s!.loggers : undefined,
            })
            if (why) fail('ERR_FSCK_DERIVED_STATE', why, key, s!.closeIndex ?? s!.createIndex)
            seen.s++
            break
          }
          case 'm!': {
            const v = json(value)
            if (key === 'm!tree') {
              const why = sameFields(v, {
                size: report.size,
                lastHash: report.size ? lastHash : v.lastHash,
                frontier: frontier.map(toHex),
                lastTime: report.size ? lastTime : v.lastTime,
              })
              if (why) fail('ERR_FSCK_DERIVED_STATE', why, key, report.size ? report.size - 1 : undefined)
              seen.tree = true
            } else if (key === 'm!stats') {
              const why = sameFields(v, { entries: report.size, entriesByType: byType })
              if (why) fail('ERR_FSCK_DERIVED_STATE', why, key)
            } else if (key === 'm!checkpoint') {
              if (v.note !== lastCheckpoint)
                fail('ERR_FSCK_DERIVED_STATE', 'is not the note of the last checkpoint entry', key)
            }
            break
          }
          default:
            report.keys--
        }
      }
    } catch (e) {
      if (e instanceof Fail) throw e
      fail(
        'ERR_FSCK_STORE_READ',
        `LevelDB reported an error while reading the store after key ${lastKey}: ${(e as Error).message}`,
      )
    }
    afterEntries()
    // What the entries imply but the store lacks.
    const nodes = levels!.reduce((n, l) => n + l.length, 0)
    if (seen.n !== nodes) {
      const level = nodeSeen!.findIndex((l) => l.includes(0))
      const index = nodeSeen![level].indexOf(0)
      fail(
        'ERR_FSCK_DERIVED_NODE',
        `${nodes - seen.n} Merkle node(s) missing, the first at level ${level}, index ${index}`,
        K.node(level, index),
        index * 2 ** level,
      )
    }
    if (seen.t !== report.size) {
      const i = typeSeen.indexOf(0)
      fail(
        'ERR_FSCK_DERIVED_INDEX',
        `${report.size - seen.t} entr${report.size - seen.t === 1 ? 'y is' : 'ies are'} missing from the by-type index, the first entry ${i}`,
        K.byType(types[i], i),
        i,
      )
    }
    for (const [k, r] of readings)
      if (!rowsSeen.has(k))
        fail(
          'ERR_FSCK_DERIVED_INDEX',
          `reading ${r.device}#${r.seq} (entry ${r.i}) is missing from the by-device index`,
          K.reading(r.device, r.seq),
          r.i,
        )
    for (const [k, i] of [...rt, ...rs])
      fail('ERR_FSCK_DERIVED_INDEX', `missing from the time indexes (entry ${i})`, k, i)
    if (seen.s !== ships.size)
      fail('ERR_FSCK_DERIVED_STATE', `${ships.size - seen.s} shipment state record(s) missing (s!)`)
    if (report.size > 0 && !seen.tree) fail('ERR_FSCK_DERIVED_STATE', 'the tree state is missing', 'm!tree')
    checkDevices()
    return report
  } catch (e) {
    if (!(e instanceof Fail)) throw e
    report.failure = e.f
    return report
  }

  function checkDevices(): void {
    const found = new Set<string>()
    for (const [key, value] of deviceRows) {
      const id = key.slice(2)
      const d = devices.get(id)
      if (!d) fail('ERR_FSCK_DERIVED_STATE', 'a device that no entry registers', key)
      const v = json(value)
      const why = sameFields(v, {
        deviceId: id,
        publicKey: d!.publicKey,
        registerIndex: d!.registerIndex,
        revoked: d!.revoked,
        revokeIndex: d!.revokeIndex,
        readings: d!.readings,
      })
      if (why) fail('ERR_FSCK_DERIVED_STATE', why, key, d!.revokeIndex ?? d!.registerIndex)
      // The receipt hash: the stored reading at the chain head.
      const head = v.contiguous as number
      if (head > 0) {
        const r = readings.get(`${id}!${head}`)
        if (!r || r.h !== v.contiguousHash)
          fail(
            'ERR_FSCK_DERIVED_STATE',
            `its chain head ${head} has hash ${String(v.contiguousHash)}, the log ${r ? `has ${r.h}` : 'has no such reading'}`,
            key,
            r?.i,
          )
      }
      found.add(id)
    }
    for (const [id, d] of devices)
      if (!found.has(id)) fail('ERR_FSCK_DERIVED_STATE', `device state of ${id} is missing`, `d!${id}`, d.registerIndex)
  }
}
