/**
 * `coldproof sim --register`: before its loggers connect, registers them with a
 * running dashboard (POST /api/devices, admin) and creates the scenario's
 * shipments with them attached (POST /api/shipments), so the broker lets them
 * in and their readings belong to a shipment. What already exists is left as
 * it is (a second run continues the same chains), unless it differs: then the
 * step fails with the difference, never overwriting evidence.
 */
import { PROFILE_FOR_CLASS } from './demo-profiles.ts'
import type { Scenario } from '../device-sim/index.ts'

export class RegisterError extends Error {}

interface ProvisioningRecord {
  deviceId: string
  publicKey: string
  model?: string
  calibration?: unknown
}

async function call(
  url: string,
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  let res: Response
  try {
    res = await fetch(new URL(path, url), {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        accept: 'application/json',
        origin: new URL(url).origin,
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    })
  } catch (e) {
    throw new RegisterError(`cannot reach the dashboard at ${url}: ${(e as Error).message}`)
  }
  const text = await res.text()
  let json: Record<string, unknown> = {}
  try {
    json = text ? (JSON.parse(text) as Record<string, unknown>) : {}
  } catch {
    json = { message: text }
  }
  if (res.status === 401)
    throw new RegisterError(
      `${method} ${path}: HTTP 401, the token is not valid on ${url} (create one as an admin: POST /api/tokens)`,
    )
  if (res.status === 403)
    throw new RegisterError(`${method} ${path}: HTTP 403, registering loggers needs an admin's API token`)
  return { status: res.status, json }
}

/** Registers every device and creates every shipment of the scenario; returns what it did, one line each. */
export async function registerScenario(
  url: string,
  token: string,
  scenario: Scenario,
  records: ProvisioningRecord[],
  startMs: number,
): Promise<string[]> {
  const done: string[] = []
  for (const rec of records) {
    const r = await call(url, token, 'POST', '/api/devices', rec)
    if (r.status === 201 || r.status === 200) {
      done.push(`registered ${rec.deviceId}`)
      continue
    }
    if (r.status === 409) {
      const have = await call(url, token, 'GET', `/api/devices/${encodeURIComponent(rec.deviceId)}`)
      if (have.status === 200 && have.json.publicKey === rec.publicKey) {
        done.push(`${rec.deviceId} already registered with this key`)
        continue
      }
      throw new RegisterError(
        `device ${rec.deviceId} is registered on ${url} with another key: these simulated keys (--data) are not the ones it knows`,
      )
    }
    throw new RegisterError(
      `POST /api/devices ${rec.deviceId}: HTTP ${r.status} ${String(r.json.code ?? '')}: ${String(r.json.message ?? '')}`,
    )
  }
  for (const s of scenario.shipments) {
    const body = {
      shipmentId: s.shipmentId,
      product: s.product,
      route: s.route,
      devices: s.devices.map((d) => d.deviceId),
      profileId: PROFILE_FOR_CLASS[s.storageClass],
      startAt: startMs,
    }
    const r = await call(url, token, 'POST', '/api/shipments', body)
    if (r.status === 201 || r.status === 200) {
      done.push(`created shipment ${s.shipmentId} with ${body.devices.join(', ')}`)
      continue
    }
    if (r.status === 409) {
      done.push(`shipment ${s.shipmentId} already exists`)
      continue
    }
    throw new RegisterError(
      `POST /api/shipments ${s.shipmentId}: HTTP ${r.status} ${String(r.json.code ?? '')}: ${String(r.json.message ?? '')}`,
    )
  }
  return done
}
