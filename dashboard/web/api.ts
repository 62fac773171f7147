/**
 * The browser's client of the dashboard API (docs/API.md). Maps the server's
 * JSON (centi-degrees, "in_range", ...) onto the view shapes in types.ts in
 * this one file. A 401 anywhere sends the user to the login page.
 */
import type {
  AlarmView,
  DeviceView,
  ExcursionView,
  LedgerView,
  Me,
  ProfileView,
  ReadingView,
  Role,
  SensorState,
  ShipmentDetail,
  ShipmentStatus,
  ShipmentSummary,
  StreamEvent,
} from './types.ts'
import type {
  AlarmWire,
  AuditPageWire,
  AuditRecordWire,
  CalibrationWire,
  DeviceStateWire,
  DeviceWire,
  ExcursionWire,
  Gs1Wire,
  IntegrityCheckWire,
  LedgerSummaryWire,
  ProfileListWire,
  ReadingWire,
  ShipmentDetailWire,
  ShipmentSummaryWire,
  StreamReadingWire,
  TokenCreatedWire,
  TokenWire,
  UserWire,
} from '../common/api-schemas.ts'

export class ApiError extends Error {
  readonly status: number
  readonly code: string
  readonly field?: string
  /** The server's structured evidence of the refusal (e.g. which loggers end early), when it sends one. */
  readonly details?: Record<string, unknown>
  constructor(status: number, code: string, message: string, field?: string, details?: Record<string, unknown>) {
    super(message)
    this.name = 'ApiError'
    this.status = status
    this.code = code
    this.field = field
    this.details = details
  }
}

function toLogin(): void {
  const here = location.pathname + location.search + location.hash
  location.assign(`/login.html?next=${encodeURIComponent(here)}`)
}

/** JSON request; throws ApiError with the server's code and message. */
export async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' }
  if (body !== undefined) headers['content-type'] = 'application/json'
  let res: Response
  try {
    res = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    })
  } catch {
    throw new ApiError(0, 'ERR_NETWORK', 'The server cannot be reached.')
  }
  if (res.status === 401 && path !== '/api/login') {
    toLogin()
    throw new ApiError(401, 'ERR_AUTH_REQUIRED', 'Your session has ended. Sign in again.')
  }
  if (res.status === 204) return undefined as T
  const text = await res.text()
  let json: unknown = null
  try {
    json = text ? JSON.parse(text) : null
  } catch {
    /* not JSON: reported below */
  }
  if (!res.ok) {
    const e = (json ?? {}) as { code?: string; message?: string; field?: string; details?: Record<string, unknown> }
    throw new ApiError(
      res.status,
      e.code ?? `HTTP_${res.status}`,
      e.message ?? `Request failed (HTTP ${res.status}).`,
      e.field,
      e.details,
    )
  }
  return json as T
}

// ---------- mapping ----------
// The server's shapes (*Wire) are derived from the API's schemas in dashboard/common/api-schemas.ts: declared there once.

const c = (centi: number | null | undefined): number | null => (typeof centi === 'number' ? centi / 100 : null)

function mapStatus(s: string): ShipmentStatus {
  return s === 'alarm' ? 'alarm' : s === 'closed' ? 'closed' : 'ok'
}

export function mapShipment(j: ShipmentSummaryWire): ShipmentSummary {
  return {
    shipmentId: j.shipmentId,
    product: j.product,
    productClass: j.productClass,
    route: { from: j.route?.from ?? '', to: j.route?.to ?? '' },
    status: mapStatus(j.status),
    currentTempC: c(j.currentTempCentiC),
    lastReadingAt: j.lastReadingAt ?? null,
    openAlarms: j.openAlarms ?? 0,
    devices: j.devices ?? [],
    startAt: j.startAt,
    closedAt: j.closedAt ?? null,
    range: { minC: c(j.range?.minCentiC), maxC: c(j.range?.maxCentiC) },
  }
}

export function mapAlarm(j: AlarmWire): AlarmView {
  return {
    alarmId: j.alarmId,
    shipmentId: j.shipmentId,
    deviceId: j.deviceId ?? undefined,
    kind: j.kind,
    rule: j.rule ?? null,
    severity: j.severity ?? null,
    message: j.message,
    at: j.raisedAt,
    endedAt: j.endedAt ?? null,
    state: j.state,
    sensorLost: j.sensorLost === true,
    ack: j.ack ? { by: j.ack.by, reason: j.ack.reason, comment: j.ack.comment, at: j.ack.at } : undefined,
    notifications: j.notifications ?? [],
  }
}

export function mapReading(j: ReadingWire): ReadingView {
  const flags = j.flags ?? []
  return {
    deviceId: j.deviceId,
    seq: j.seq,
    t: j.deviceTimeMs,
    tempC: j.tempCentiC / 100,
    receivedAt: j.receivedAt,
    late: j.late,
    ...(typeof j.delayMs === 'number' ? { delayMs: j.delayMs } : {}),
    fault: flags.includes('SENSOR_FAULT'),
    batteryPct: j.batteryPct ?? undefined,
    flags,
  }
}

function mapProfile(
  p: Record<string, unknown> | null,
  fallback: { minC: number | null; maxC: number | null },
): ProfileView {
  if (!p) return { ...fallback }
  const range = (p.range ?? {}) as { lowCentiC?: number | null; highCentiC?: number | null }
  const num = (v: unknown) => (typeof v === 'number' ? v : undefined)
  return {
    name: typeof p.name === 'string' ? p.name : undefined,
    labelStatement: typeof p.labelStatement === 'string' ? p.labelStatement : undefined,
    minC: typeof range.lowCentiC === 'number' ? range.lowCentiC / 100 : fallback.minC,
    maxC: typeof range.highCentiC === 'number' ? range.highCentiC / 100 : fallback.maxC,
    maxGapMs: num(p.maxDataGapMs),
    expectedIntervalMs: num(p.expectedIntervalMs),
    raw: p,
  }
}

function mapExcursion(e: ExcursionWire): ExcursionView {
  return {
    kind: e.kind,
    ruleId: e.ruleId ?? undefined,
    deviceId: e.deviceId ?? undefined,
    from: e.startAt,
    to: e.endAt,
    durationMs: e.durationMs,
    peakC: c(e.peakCentiC),
  }
}

function mapSensor(s: DeviceStateWire): SensorState {
  return {
    deviceId: s.deviceId,
    lastSeenAt: s.lastReceivedAt ?? null,
    lastReadingT: s.lastReadingAt,
    silentForMs: s.silentForMs ?? null,
    currentTempC: c(s.currentTempCentiC),
    batteryPct: s.batteryPct ?? null,
    late: s.late === true,
    lost: s.lost === true,
  }
}

function reasonsOf(v: unknown): string[] {
  if (!Array.isArray(v)) return []
  return v.map((r) =>
    typeof r === 'string'
      ? r
      : typeof r === 'object' && r && 'message' in r
        ? String((r as { message: unknown }).message)
        : JSON.stringify(r),
  )
}

export function mapDetail(j: ShipmentDetailWire, readings: ReadingView[]): ShipmentDetail {
  const base = mapShipment(j)
  const id = encodeURIComponent(j.shipmentId)
  const r = j.result
  return {
    ...base,
    gs1: j.gs1 ?? undefined,
    profile: mapProfile(j.profile, base.range),
    profileHash: j.profileHash,
    readings,
    excursions: (r?.excursions ?? []).map(mapExcursion),
    alarms: (j.alarms ?? []).map(mapAlarm),
    sensors: (j.deviceStates ?? []).map(mapSensor),
    endsEarly: j.endsEarly ?? null,
    closeSignature: j.closeSignature ?? null,
    profileId: j.profileId ?? null,
    createdBy: j.createdBy ?? null,
    createdAt: j.createdAt ?? null,
    receipt:
      j.receiveSignature && typeof j.receivedAt === 'number'
        ? { receivedAt: j.receivedAt, ...j.receiveSignature }
        : null,
    loggers:
      j.loggers ??
      j.devices.map((deviceId) => ({
        deviceId,
        from: j.startAt ?? 0,
        until: null,
        addedEntry: null,
        removedEntry: null,
      })),
    postClose: (j.postClose ?? []).map(mapReading),
    compliance: r
      ? {
          verdict: r.verdict,
          mktC: c(r.mktCentiC),
          timeInRangeMs: r.timeInRangeMs ?? null,
          timeAboveMs: r.timeAboveMs ?? null,
          timeBelowMs: r.timeBelowMs ?? null,
          readingCount: r.readingCount ?? null,
          reasons: reasonsOf(r.reasons),
          deciding: typeof r.deciding === 'number' ? r.deciding : 0,
          loggers: (r.loggers ?? []).map((l) => ({
            deviceId: l.deviceId,
            minC: c(l.minCentiC),
            maxC: c(l.maxCentiC),
            meanC: c(l.meanCentiC),
            readings: l.readings,
          })),
        }
      : null,
    downloads: [
      { label: 'PDF report', href: `/api/shipments/${id}/report.pdf`, kind: 'pdf' },
      { label: 'Readings CSV', href: `/api/shipments/${id}/readings.csv`, kind: 'csv' },
      { label: 'EPCIS 2.0', href: `/api/shipments/${id}/epcis.json`, kind: 'epcis' },
      { label: 'Evidence bundle', href: `/api/shipments/${id}/bundle.json`, kind: 'bundle' },
      // Only a closed shipment has one: what was logged about it after the close, apart from the frozen bundle.
      ...(j.closedAt != null
        ? [
            {
              label: 'Post-close supplement',
              href: `/api/shipments/${id}/bundle.json?postClose=true`,
              kind: 'bundle-post-close' as const,
            },
          ]
        : []),
    ],
  }
}

export function mapDevice(j: DeviceWire): DeviceView {
  return {
    deviceId: j.deviceId,
    model: j.model ?? undefined,
    state: j.state === 'revoked' ? 'revoked' : 'registered',
    publicKey: j.publicKey,
    fingerprint: j.fingerprint,
    lastSeenAt: j.lastReceivedAt ?? j.lastReadingAt ?? null,
    batteryPct: j.batteryPct ?? null,
    buffered: j.buffered ?? null,
    calibrationDueAt: j.calibration?.dueAt ?? null,
    calibrationCertificate: j.calibration?.certificate,
    shipmentId: j.shipmentId ?? null,
    revokeReason: j.revokeReason ?? null,
  }
}

// ---------- endpoints ----------

export async function me(): Promise<Me> {
  const u = await request<UserWire>('GET', '/api/me')
  return { username: u.username, role: u.role }
}

export async function logout(): Promise<void> {
  await request<void>('POST', '/api/logout')
}

export async function listShipments(): Promise<ShipmentSummary[]> {
  const r = await request<{ shipments: ShipmentSummaryWire[] }>('GET', '/api/shipments')
  return r.shipments.map(mapShipment)
}

export async function getShipment(id: string): Promise<ShipmentDetail> {
  const p = encodeURIComponent(id)
  const [detail, readings] = await Promise.all([
    request<ShipmentDetailWire>('GET', `/api/shipments/${p}`),
    request<{ readings: ReadingWire[] }>('GET', `/api/shipments/${p}/readings?limit=100000`),
  ])
  return mapDetail(detail, readings.readings.map(mapReading))
}

export interface CloseSigning {
  password: string
  meaning: string
  reason: string
}
export const CLOSE_MEANINGS = ['received and reviewed', 'closed without receipt', 'rejected on receipt'] as const

/**
 * Closes with an electronic signature. Refused with ERR_EVIDENCE_ENDS_EARLY (details.devices) when a logger's
 * chain does not reach now, unless `endsEarlyReason` confirms it; with ERR_CLOSE_OPEN_ALARMS (details.alarms)
 * while critical alarms are open, unless `overrideReason` is given; with ERR_SIGNATURE_PASSWORD for a wrong password.
 */
export async function closeShipment(
  shipmentId: string,
  signature: CloseSigning,
  endsEarlyReason?: string,
  overrideReason?: string,
): Promise<void> {
  await request<unknown>('POST', `/api/shipments/${encodeURIComponent(shipmentId)}/close`, {
    signature,
    ...(endsEarlyReason === undefined ? {} : { endsEarly: { reason: endsEarlyReason } }),
    ...(overrideReason === undefined ? {} : { override: { reason: overrideReason } }),
  })
}

export const RECEIVE_MEANINGS = [
  'received at destination',
  'received with damage noted',
  'received and quarantined',
] as const

/** Signs the receipt at the destination (before the close). Refused with ERR_SIGNATURE_PASSWORD for a wrong password. */
export async function receiveShipment(shipmentId: string, signature: CloseSigning, receivedAt?: number): Promise<void> {
  await request<unknown>('POST', `/api/shipments/${encodeURIComponent(shipmentId)}/receive`, {
    signature,
    ...(receivedAt === undefined ? {} : { receivedAt }),
  })
}

/** Assigns loggers to, or removes them from, an open shipment from device time `at` (default now). */
export async function changeShipmentDevices(
  shipmentId: string,
  add: string[],
  remove: string[],
  at?: number,
): Promise<void> {
  await request<unknown>('POST', `/api/shipments/${encodeURIComponent(shipmentId)}/devices`, {
    add,
    remove,
    ...(at === undefined ? {} : { at }),
  })
}

/** A profile's range in °C (the profile is passed through whole: its own schema is the compliance engine's). */
function rangeC(range: unknown): { minC: number | null; maxC: number | null } {
  const r = (range ?? {}) as { lowCentiC?: number | null; highCentiC?: number | null }
  return { minC: c(r.lowCentiC), maxC: c(r.highCentiC) }
}

/** The built-in rule profiles a new shipment can use. */
export async function listProfiles(): Promise<
  { id: string; name: string; minC: number | null; maxC: number | null }[]
> {
  const r = await request<ProfileListWire>('GET', '/api/profiles')
  return r.profiles.map((p) => ({
    id: p.id,
    name: p.name,
    ...rangeC(p.profile.range),
  }))
}

export interface NewShipment {
  shipmentId: string
  product: string
  route: { from: string; to: string }
  devices: string[]
  profileId?: string
  profile?: unknown
  gs1?: Gs1Wire
  startAt?: number
}

/** What a previous shipment gives a new one to start from: product, profile, route, loggers, GS1 product data. */
export interface ShipmentTemplate {
  shipmentId: string
  product: string
  profileId: string | null
  profile: Record<string, unknown> | null
  route: { from: string; to: string }
  devices: string[]
  gs1: Omit<Gs1Wire, 'sscc'> | null
}

export async function shipmentTemplate(id: string): Promise<ShipmentTemplate> {
  const j = await request<ShipmentDetailWire>('GET', `/api/shipments/${encodeURIComponent(id)}`)
  return {
    shipmentId: j.shipmentId,
    product: j.product,
    profileId: j.profileId ?? null,
    profile: j.profile ?? null,
    route: { from: j.route.from, to: j.route.to },
    devices: j.devices,
    // The SSCC names one logistics unit: a new shipment needs its own.
    gs1: j.gs1 ? { gtin: j.gs1.gtin, lot: j.gs1.lot, expiry: j.gs1.expiry } : null,
  }
}

/** Creates a shipment (POST /api/shipments); a refusal names the field (ApiError.field, e.g. "body.gs1.sscc"). */
export async function createShipment(body: NewShipment): Promise<string> {
  const r = await request<{ shipmentId: string }>('POST', '/api/shipments', body)
  return r.shipmentId
}

export async function listAlarms(state: 'open' | 'acknowledged' | 'all' = 'all'): Promise<AlarmView[]> {
  const r = await request<{ alarms: AlarmWire[] }>('GET', `/api/alarms?state=${state}`)
  return r.alarms.map(mapAlarm)
}

export async function ackAlarm(
  shipmentId: string,
  alarmId: string,
  reason: string,
  comment: string,
): Promise<AlarmView> {
  const a = await request<AlarmWire>(
    'POST',
    `/api/shipments/${encodeURIComponent(shipmentId)}/alarms/${encodeURIComponent(alarmId)}/ack`,
    { reason, comment },
  )
  return mapAlarm(a)
}

export async function listDevices(): Promise<DeviceView[]> {
  const r = await request<{ devices: DeviceWire[] }>('GET', '/api/devices')
  return r.devices.map(mapDevice)
}

export async function registerDevice(body: {
  deviceId: string
  publicKey: string
  model?: string
  calibration?: CalibrationWire
}): Promise<DeviceView> {
  return mapDevice(await request<DeviceWire>('POST', '/api/devices', body))
}

export async function revokeDevice(deviceId: string, reason: string): Promise<DeviceView> {
  return mapDevice(await request<DeviceWire>('POST', `/api/devices/${encodeURIComponent(deviceId)}/revoke`, { reason }))
}

/** The server reports a failed check as `failure: { code, index, message }` (docs/API.md); the page shows it as one line. */
function integrityFailureText(f: IntegrityCheckWire['failure']): string | undefined {
  if (!f) return undefined
  const at = typeof f.index === 'number' ? ` at entry ${f.index}` : ''
  return [f.code, f.message].filter(Boolean).join(': ') + at || undefined
}

export async function getLedger(): Promise<LedgerView> {
  const j = await request<LedgerSummaryWire>('GET', '/api/ledger')
  return {
    size: j.size,
    checkpoint: j.latestCheckpoint
      ? {
          origin: j.latestCheckpoint.origin,
          size: j.latestCheckpoint.size,
          rootHash: j.latestCheckpoint.rootHash,
          note: j.latestCheckpoint.note,
        }
      : null,
    integrity: j.lastIntegrityCheck
      ? {
          checkedAt: j.lastIntegrityCheck.at,
          ok: j.lastIntegrityCheck.ok,
          size: j.lastIntegrityCheck.size,
          message: integrityFailureText(j.lastIntegrityCheck.failure),
        }
      : null,
    entriesByType: j.entriesByType ?? {},
    quarantined: j.quarantined ?? {},
  }
}

/** Maps one named SSE event (docs/API.md "Live stream") onto a StreamEvent. */
export function mapStreamEvent(name: string, data: unknown): StreamEvent {
  const d = data as Record<string, unknown>
  switch (name) {
    case 'reading': {
      const j = d as unknown as StreamReadingWire
      return { type: 'reading', shipmentIds: Array.isArray(j.shipmentIds) ? j.shipmentIds : [], reading: mapReading(j) }
    }
    case 'alarm':
      return { type: 'alarm', alarm: mapAlarm(d as unknown as AlarmWire) }
    case 'ack':
      return { type: 'ack', alarm: mapAlarm(d as unknown as AlarmWire) }
    case 'shipment':
      return { type: 'shipment', shipment: mapShipment(d as unknown as ShipmentSummaryWire) }
    case 'device':
      return { type: 'device', device: mapDevice(d as unknown as DeviceWire) }
    case 'checkpoint':
      return { type: 'checkpoint' }
    case 'hello':
      return { type: 'hello', serverTime: typeof d.serverTime === 'number' ? d.serverTime : null }
    default:
      return { type: 'other', name }
  }
}

// ---------- users, tokens, audit (docs/API.md, "Users", "Tokens", "Audit trail") ----------

export interface UserRow {
  username: string
  role: Role
  disabled: boolean
  createdAt: number | null
}
export type TokenRow = TokenWire
/** A new token as created: its secret, shown once. */
export type TokenCreated = TokenCreatedWire
export type AuditRow = AuditRecordWire

const mapUser = (u: UserWire): UserRow => ({
  username: u.username,
  role: u.role,
  disabled: u.disabled === true,
  createdAt: u.createdAt ?? null,
})

export async function listUsers(): Promise<UserRow[]> {
  return (await request<{ users: UserWire[] }>('GET', '/api/users')).users.map(mapUser)
}

export async function createUser(body: { username: string; password: string; role: Role }): Promise<UserRow> {
  return mapUser(await request<UserWire>('POST', '/api/users', body))
}

export async function changeUser(
  username: string,
  change: { password?: string; role?: Role; disabled?: boolean },
): Promise<UserRow> {
  return mapUser(await request<UserWire>('PATCH', `/api/users/${encodeURIComponent(username)}`, change))
}

export async function listAudit(before?: number, limit = 20): Promise<AuditPageWire> {
  return request('GET', `/api/audit?limit=${limit}${before === undefined ? '' : `&before=${before}`}`)
}

export async function listTokens(): Promise<TokenRow[]> {
  return (await request<{ tokens: TokenRow[] }>('GET', '/api/tokens')).tokens
}

export async function createToken(body: {
  label: string
  scope: 'read-only' | 'role'
  expiresInDays?: number
}): Promise<TokenCreated> {
  return request('POST', '/api/tokens', body)
}

export async function revokeToken(id: string): Promise<void> {
  await request<void>('DELETE', `/api/tokens/${encodeURIComponent(id)}`)
}
