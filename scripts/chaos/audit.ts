/**
 * After the faults: the ledger (opened directly, the system stopped) against
 * the devices' own signed logs and the record of every hostile message sent.
 * Four proofs: every signed reading stored exactly once or inside a declared
 * gap with its cause; verdicts equal to those computed from the devices'
 * records; every rejected message quarantined (or counted at a quarantine
 * cap) or refused by the broker, none of them in the log.
 */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { openLedger } from '../../ledger/store/index.ts'
import type { GapBody, ReadingForkBody, ShipmentCreateBody } from '../../ledger/tlog/index.ts'
import { canonicalJson } from '../../ledger/tlog/index.ts'
import { decodeReading } from '../../ledger/protocol/index.ts'
import { recomputeResult } from '../../dashboard/evidence/recompute.ts'
import { loadShipment } from '../../dashboard/server/shipment-data.ts'
import { readSignedLog, SIGNED_LOG } from './fleet-child.ts'
import type { SentMessage } from './mqtt-attacks.ts'

export interface AuditResult {
  produced: number
  stored: number
  inGaps: number
  gaps: { deviceId: string; fromSeq: number; toSeq: number; cause: string; detail?: string }[]
  lost: { deviceId: string; seq: number }[]
  duplicates: { deviceId: string; seq: number; count: number }[]
  mismatched: { deviceId: string; seq: number }[]
  /** Readings in the log that no fleet device signed and no rogue sent as genuine. */
  unknownStored: number
  verdicts: { shipmentId: string; ledger: string; reference: string; equal: boolean }[]
  rejected: {
    quarantinedByReason: Record<string, number>
    refusedByKind: Record<string, number>
    countedAtCap: number
    duplicatesAnswered: number
    /** Accepted by the broker, yet neither quarantined nor counted: must be 0. */
    unaccounted: { kind: string; expect: string }[]
    /** A rejected payload found in the log: must be 0. */
    inLog: number
    sent: number
  }
  quarantineStats: { total: number; dropped: number }
  entries: number
}

export async function audit(opts: {
  ledgerDir: string
  fleetDir: string
  fleetDevices: string[]
  shipments: string[]
  sent: SentMessage[]
}): Promise<AuditResult> {
  const ledger = await openLedger({ dir: opts.ledgerDir })
  try {
    const size = ledger.size()
    const gaps: GapBody[] = []
    const forks: ReadingForkBody[] = []
    const inLog = new Map<string, number>() // payload base64 -> count
    for (let i = 0; i < size; i++) {
      const e = await ledger.getEntry(i)
      if (e.entry.type === 'gap') gaps.push(e.entry.body as GapBody)
      else if (e.entry.type === 'reading.fork') forks.push(e.entry.body as ReadingForkBody)
      else if (e.entry.type === 'reading') {
        const p = (e.entry.body as { payload: string }).payload
        inLog.set(p, (inLog.get(p) ?? 0) + 1)
      }
    }
    const r: AuditResult = {
      produced: 0,
      stored: 0,
      inGaps: 0,
      gaps: gaps.map((g) => ({
        deviceId: g.deviceId,
        fromSeq: g.fromSeq,
        toSeq: g.toSeq,
        cause: g.cause,
        ...(g.detail ? { detail: g.detail } : {}),
      })),
      lost: [],
      duplicates: [],
      mismatched: [],
      unknownStored: 0,
      verdicts: [],
      rejected: {
        quarantinedByReason: {},
        refusedByKind: {},
        countedAtCap: 0,
        duplicatesAnswered: 0,
        unaccounted: [],
        inLog: 0,
        sent: 0,
      },
      quarantineStats: { total: 0, dropped: 0 },
      entries: size,
    }
    const known = new Set<string>()
    const inGap = (deviceId: string, seq: number) =>
      gaps.find((g) => g.deviceId === deviceId && seq >= g.fromSeq && seq <= g.toSeq)
    const reference = new Map<string, Uint8Array[]>()

    // 1. Every reading each device signed: stored exactly once, byte for byte, or inside a declared gap.
    for (const id of opts.fleetDevices) {
      const file = join(opts.fleetDir, id, SIGNED_LOG)
      const signed = existsSync(file) ? readSignedLog(readFileSync(file)) : []
      reference.set(id, signed)
      const stored = await ledger.readingsByDevice(id)
      const bySeq = new Map<number, string[]>()
      for (const e of stored)
        bySeq.set(e.entry.body.seq, [...(bySeq.get(e.entry.body.seq) ?? []), e.entry.body.payload])
      for (const p of signed) {
        r.produced++
        const b64 = Buffer.from(p).toString('base64')
        known.add(b64)
        const seq = decodeReading(p).fields.seq
        const got = bySeq.get(seq) ?? []
        if (got.length === 0) {
          if (inGap(id, seq)) r.inGaps++
          else r.lost.push({ deviceId: id, seq })
        } else {
          if (got.length > 1 || (inLog.get(b64) ?? 0) > 1)
            r.duplicates.push({ deviceId: id, seq, count: Math.max(got.length, inLog.get(b64) ?? 0) })
          if (!got.includes(b64)) r.mismatched.push({ deviceId: id, seq })
          else r.stored++
        }
      }
    }

    // 2. Verdicts: the ledger's (as the dashboard computes them) against the engine run over the devices' own readings.
    for (const sid of opts.shipments) {
      const d = await loadShipment(ledger, sid, () => false)
      const devs = new Set(d.state.devices)
      const refReadings = [...reference.entries()]
        .filter(([id]) => devs.has(id))
        .flatMap(([id, ps]) => ps.map((p) => decodeReading(p).fields).filter((f) => !inGap(id, f.seq)))
      const refGaps = gaps.filter((g) => devs.has(g.deviceId))
      const close = d.state.closedAt === undefined ? null : { closedAt: d.state.closedAt }
      const ref = recomputeResult(d.body as ShipmentCreateBody, close, refReadings, {
        gaps: refGaps,
        forks: forks.filter((f) => devs.has(f.deviceId)),
      })
      const a = d.result ? canonicalJson(d.result) : 'null'
      const b = canonicalJson(ref)
      r.verdicts.push({ shipmentId: sid, ledger: d.result?.verdict ?? 'none', reference: ref.verdict, equal: a === b })
    }

    // 3. Rejected messages: quarantined (matched by their raw bytes) or counted at a cap, or refused by the broker; none in the log.
    const st = ledger.stats()
    r.quarantineStats = { total: st.quarantined, dropped: st.quarantineDropped ?? 0 }
    const q = new Map<string, string>()
    for (const rec of await ledger.quarantined({ limit: 1_000_000 })) q.set(rec.raw, rec.reason)
    const maxRaw = 4096
    let notFound = 0
    const pending: { kind: string; expect: string }[] = []
    for (const m of opts.sent) {
      r.rejected.sent++
      const b64 = m.payload.toString('base64')
      if (m.expect === 'stored' || m.expect === 'duplicate') {
        if (m.outcome === 'puback') {
          known.add(b64)
          if (m.expect === 'duplicate') r.rejected.duplicatesAnswered++
        }
        if (m.outcome === 'puback' && (inLog.get(b64) ?? 0) !== 1) r.lost.push({ deviceId: m.deviceId, seq: -1 })
        continue
      }
      // Another device's genuine reading is in the log once already (from its own device); the replay must not add it again.
      const allowed = m.kind === "other device's reading" ? 1 : 0
      if ((inLog.get(b64) ?? 0) > allowed && m.payload.length > 0) r.rejected.inLog++
      if (m.outcome === 'refused') {
        r.rejected.refusedByKind[m.kind] = (r.rejected.refusedByKind[m.kind] ?? 0) + 1
        continue
      }
      const reason = q.get(m.payload.subarray(0, maxRaw).toString('base64'))
      if (reason) {
        r.rejected.quarantinedByReason[reason] = (r.rejected.quarantinedByReason[reason] ?? 0) + 1
        continue
      }
      if (m.expect === 'fork-or-quarantine' && forks.some((f) => f.payloads.includes(b64))) {
        r.rejected.quarantinedByReason['reading.fork entry'] =
          (r.rejected.quarantinedByReason['reading.fork entry'] ?? 0) + 1
        continue
      }
      notFound++
      pending.push({ kind: m.kind, expect: m.expect })
    }
    // Messages over a quarantine cap are counted, not kept: they account for as many unmatched ones.
    r.rejected.countedAtCap = Math.min(notFound, r.quarantineStats.dropped)
    r.rejected.unaccounted = pending.slice(r.rejected.countedAtCap)
    for (const [b64] of inLog) if (!known.has(b64)) r.unknownStored++
    return r
  } finally {
    await ledger.close()
  }
}
