/**
 * Which loggers belong to a shipment, and for which device times (docs/BUNDLE.md,
 * "Assigned loggers"): the create's loggers from startAt; a logger added by a
 * `shipment.devices` entry from that entry's `at`; a removed logger up to the
 * removal's `at`, and none of its readings logged after the removal. The ledger,
 * the dashboard and the offline verifier replay the same entries with these
 * functions, so they agree. Pure; runs in browsers.
 */
import type { ChainAnchor, ShipmentCreateBody, ShipmentDevicesBody } from './entry-types.ts'

export interface LoggerWindow {
  deviceId: string
  /** Device time (ms UTC) from which its readings count: startAt, or the assignment's `at`. */
  from: number
  /** Device time after which its readings no longer count: the removal's `at`; null while assigned. */
  until: number | null
  /** Index of the shipment.devices entry that added it; null for a logger listed at creation. */
  addIndex: number | null
  /** Index of the shipment.devices entry that removed it; null while assigned. */
  removeIndex: number | null
  /** Chain head when it joined (the create anchor, or the assignment's); absent in old ledgers. */
  startAnchor?: ChainAnchor
  /** Chain head when it was removed. */
  endAnchor?: ChainAnchor
}

/** A shipment's loggers from its derived state: `loggers` once changed, else the create's, each from startAt. */
export function windowsOf(s: {
  loggers?: LoggerWindow[]
  devices: string[]
  startAt: number
  createAnchors?: ChainAnchor[]
}): LoggerWindow[] {
  return s.loggers ?? initialWindows({ devices: s.devices, startAt: s.startAt, anchors: s.createAnchors })
}

/**
 * The device time from which a logger's readings count for a shipment (its window's `from`), or
 * undefined when the device is not an assigned logger of it: what windowsOf(s) says of one
 * device, without building every logger's window (the ledger asks for every reading it indexes).
 */
export function assignedFrom(
  s: { loggers?: LoggerWindow[]; devices: string[]; startAt: number },
  deviceId: string,
): number | undefined {
  if (!s.loggers) return s.devices.includes(deviceId) ? s.startAt : undefined
  for (const w of s.loggers) if (w.deviceId === deviceId) return w.removeIndex === null ? w.from : undefined
  return undefined
}

/** A shipment.devices entry as replayed: its log index and body. */
export interface DevicesChange {
  index: number
  body: ShipmentDevicesBody
}

/** The loggers named at creation, each from startAt. */
export function initialWindows(create: Pick<ShipmentCreateBody, 'devices' | 'startAt' | 'anchors'>): LoggerWindow[] {
  return create.devices.map((deviceId) => {
    const a = create.anchors?.find((x) => x.deviceId === deviceId)
    return {
      deviceId,
      from: create.startAt,
      until: null,
      addIndex: null,
      removeIndex: null,
      ...(a ? { startAnchor: a } : {}),
    }
  })
}

/**
 * Why a change cannot apply to these windows (a message naming the logger), or null. A logger is
 * added once and removed once: a removed logger is not re-assigned (its evidence ended at the removal).
 */
export function changeProblem(
  windows: readonly LoggerWindow[],
  body: Pick<ShipmentDevicesBody, 'add' | 'remove' | 'at'>,
  startAt: number,
): { message: string; field: string } | null {
  if (body.add.length === 0 && body.remove.length === 0)
    return { message: 'add or remove at least one logger', field: 'add' }
  if (body.at < startAt)
    return {
      message: `at ${new Date(body.at).toISOString()} is before the shipment start ${new Date(startAt).toISOString()}`,
      field: 'at',
    }
  const seen = new Set<string>()
  for (const [list, name] of [
    [body.add, 'add'],
    [body.remove, 'remove'],
  ] as const) {
    for (let i = 0; i < list.length; i++) {
      const id = list[i]
      if (seen.has(id)) return { message: `logger ${id} is named twice`, field: `${name}[${i}]` }
      seen.add(id)
      const w = windows.find((x) => x.deviceId === id)
      if (name === 'add' && w)
        return {
          message:
            w.until === null
              ? `logger ${id} is already assigned to the shipment`
              : `logger ${id} was removed from the shipment (entry ${w.removeIndex}); a removed logger is not assigned again`,
          field: `${name}[${i}]`,
        }
      if (name === 'remove') {
        if (!w || w.until !== null)
          return { message: `logger ${id} is not assigned to the shipment`, field: `${name}[${i}]` }
        if (body.at < w.from)
          return {
            message: `logger ${id} counts from ${new Date(w.from).toISOString()}; it cannot be removed at an earlier time`,
            field: 'at',
          }
      }
    }
  }
  const left = windows.filter((w) => w.until === null && !body.remove.includes(w.deviceId)).length + body.add.length
  if (left === 0) return { message: 'a shipment keeps at least one logger', field: 'remove' }
  return null
}

/** The windows after a change (assumed valid: see changeProblem). Anchors are in [...add, ...remove] order. */
export function applyChange(windows: readonly LoggerWindow[], { index, body }: DevicesChange): LoggerWindow[] {
  const anchor = (id: string) => body.anchors?.find((a) => a.deviceId === id)
  const out = windows.map((w) => {
    if (!body.remove.includes(w.deviceId)) return w
    const a = anchor(w.deviceId)
    return { ...w, until: body.at, removeIndex: index, ...(a ? { endAnchor: a } : {}) }
  })
  for (const id of body.add) {
    const a = anchor(id)
    out.push({
      deviceId: id,
      from: body.at,
      until: null,
      addIndex: index,
      removeIndex: null,
      ...(a ? { startAnchor: a } : {}),
    })
  }
  return out
}

/** Replays a shipment's changes, in log order, from its creation. */
export function loggerWindows(
  create: Pick<ShipmentCreateBody, 'devices' | 'startAt' | 'anchors'>,
  changes: readonly DevicesChange[],
): LoggerWindow[] {
  let w = initialWindows(create)
  for (const c of [...changes].sort((a, b) => a.index - b.index)) w = applyChange(w, c)
  return w
}

/** The loggers assigned now (not removed). */
export const assignedNow = (windows: readonly LoggerWindow[]): string[] =>
  windows.filter((w) => w.until === null).map((w) => w.deviceId)

/**
 * Whether a reading of `deviceId` at device time `t` is the shipment's evidence by its window
 * (the close bounds every window at closedAt as well).
 */
export function inLoggerWindow(
  windows: readonly LoggerWindow[],
  deviceId: string,
  t: number,
  closedAt: number | null,
): boolean {
  const w = windows.find((x) => x.deviceId === deviceId)
  return w !== undefined && t >= w.from && (w.until === null || t <= w.until) && (closedAt === null || t <= closedAt)
}
