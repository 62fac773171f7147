/**
 * The device entries' effects on the derived device state: registration (the key is checked
 * here), revocation and a fork flagging the device as compromised; and the device checks the
 * shipment and reading entries share (knownDevice, liveDevice).
 */
import { checkDevicePublicKey, fromHex, isProtocolError, toHex } from '../protocol/index.ts'
import type { BatchContext, Preparer } from './batch-context.ts'
import { EMPTY_SEQ_STATE } from './device-chain.ts'
import { LedgerError } from './errors.ts'
import type { DeviceState } from './state-types.ts'

/** The registered device `deviceId` (revoked or not); ERR_LEDGER_DEVICE_UNKNOWN otherwise. */
export function knownDevice(ctx: BatchContext, deviceId: string): DeviceState {
  const d = ctx.device(deviceId)
  if (!d) throw new LedgerError('ERR_LEDGER_DEVICE_UNKNOWN', `device ${deviceId} is not registered`, { deviceId })
  return d
}

/** The registered, unrevoked device `deviceId`. */
export function liveDevice(ctx: BatchContext, deviceId: string): DeviceState {
  const d = knownDevice(ctx, deviceId)
  if (d.revoked) throw new LedgerError('ERR_LEDGER_DEVICE_REVOKED', `device ${deviceId} is revoked`, { deviceId })
  return d
}

export const prepareRegister: Preparer<'device.register'> = (ctx, body) => {
  let key: Uint8Array
  try {
    key = fromHex(body.publicKey)
  } catch {
    throw new LedgerError('ERR_LEDGER_BAD_DEVICE_KEY', `device ${body.deviceId}: publicKey must be 64 hex characters`, {
      deviceId: body.deviceId,
    })
  }
  try {
    checkDevicePublicKey(key)
  } catch (e) {
    throw new LedgerError('ERR_LEDGER_BAD_DEVICE_KEY', `device ${body.deviceId}: ${(e as Error).message}`, {
      deviceId: body.deviceId,
      protocolCode: isProtocolError(e) ? e.code : undefined,
    })
  }
  if (ctx.device(body.deviceId))
    throw new LedgerError(
      'ERR_LEDGER_DEVICE_EXISTS',
      `device ${body.deviceId} is already registered; device ids are never reused`,
      { deviceId: body.deviceId },
    )
  return async ({ entry }) => {
    ctx.setDevice({
      ...EMPTY_SEQ_STATE,
      gaps: [],
      deviceId: body.deviceId,
      publicKey: toHex(key),
      model: body.model,
      calibration: body.calibration,
      registeredBy: body.by,
      registeredAt: entry.time,
      registerIndex: entry.index,
      revoked: false,
      readings: 0,
    })
  }
}

export const prepareRevoke: Preparer<'device.revoke'> = (ctx, body) => {
  const d = knownDevice(ctx, body.deviceId)
  if (d.revoked)
    throw new LedgerError(
      'ERR_LEDGER_DEVICE_REVOKED',
      `device ${body.deviceId} was revoked at entry ${d.revokeIndex}`,
      { deviceId: body.deviceId, revokeIndex: d.revokeIndex },
    )
  return async ({ entry }) => {
    ctx.setDevice({ ...d, revoked: true, revokedAt: entry.time, revokeIndex: entry.index, revokeReason: body.reason })
  }
}

/** A fork flags the device as compromised from the fork's seq on (the first fork counts). */
export const prepareFork: Preparer<'reading.fork'> = (ctx, body) => {
  knownDevice(ctx, body.deviceId)
  return async ({ entry }) => {
    const d = ctx.device(body.deviceId)!
    if (!d.compromised) ctx.setDevice({ ...d, compromised: { seq: body.seq, forkIndex: entry.index } })
  }
}
