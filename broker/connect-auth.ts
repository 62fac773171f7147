/**
 * CONNECT handling: the MQTT level and keepalive checks, then who the client
 * is — a service account (password, behind the login guard) or a registered
 * device (signed token, replay cache) — or why it is refused.
 */
import type { Client, ConnectPacket } from 'aedes'
import { DEVICE_ID_PATTERN } from '../ledger/protocol/index.ts'
import type { Identity } from './acl.ts'
import type { BrokerContext } from './broker-context.ts'
import { clientsById, refused, remoteOf } from './broker-context.ts'
import { checkDeviceToken } from './device-auth.ts'
import type { LoginGuard } from './login-guard.ts'
import { CONNACK_CODE } from './refusals.ts'
import type { RefusalReason } from './refusals.ts'
import { ReplayCache } from './replay-cache.ts'
import { verifyServicePassword } from './service-accounts.ts'

type AuthError = Error & { returnCode: number }
type Refusal = { reason: RefusalReason; detail: string }

export interface ConnectHooks {
  preConnect(client: Client, packet: ConnectPacket, cb: (err: Error | null, ok: boolean) => void): void
  authenticate(
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
    done: (err: AuthError | null, ok: boolean | null) => void,
  ): void
}

export function createConnectHooks(
  ctx: BrokerContext,
  guard: LoginGuard,
  onConnectSeen: (client: Client) => void,
): ConnectHooks {
  const replay = new ReplayCache(ctx.s.replayCacheMax)
  const keepalives = new WeakMap<Client, number>()
  return {
    // preConnect runs before authenticate and is the only hook that sees the
    // CONNECT packet; keep its keepalive for the check in authenticate.
    preConnect(client, packet, cb) {
      keepalives.set(client, packet.keepalive ?? 0)
      onConnectSeen(client)
      if (packet.protocolVersion !== 4) {
        const level = packet.protocolVersion
        refused(
          ctx,
          'protocol_version',
          client,
          `protocol level ${level}${packet.protocolId ? ` (${String(packet.protocolId).slice(0, 8)})` : ''}: only MQTT 3.1.1 (level 4) is spoken`,
          { returnCode: 1 },
        )
        // aedes itself accepts levels 3 and 4; a level it does not know makes it answer CONNACK 1 (unacceptable protocol version) and close.
        packet.protocolVersion = 0 as ConnectPacket['protocolVersion']
      }
      cb(null, true)
    },

    authenticate(client, username, password, done) {
      const user = typeof username === 'string' ? username.slice(0, 64) : undefined
      const refuse = (reason: RefusalReason, detail: string) => {
        const returnCode = CONNACK_CODE[reason] ?? 5
        refused(ctx, reason, client, detail, { username: user, returnCode })
        done(Object.assign(new Error(`${reason}: ${detail}`), { returnCode }), null)
      }
      identify(client, username, password).then(
        (r) => {
          if ('reason' in r) return refuse(r.reason, r.detail)
          ctx.identities.set(client, r)
          ctx.log.info(
            {
              event: 'connected',
              clientId: client.id,
              identity: r.kind === 'device' ? r.deviceId : r.username,
              role: r.kind === 'device' ? 'device' : r.role,
              clean: client.clean,
              remote: remoteOf(client),
            },
            'client connected',
          )
          done(null, true)
        },
        (e: unknown) => refuse('registry_unavailable', (e as Error)?.message ?? String(e)),
      )
    },
  }

  async function identify(
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
  ): Promise<Identity | Refusal> {
    const { maxConnections, keepalive, serviceAccounts } = ctx.s
    const aedes = ctx.aedes()!
    if (aedes.connectedClients >= maxConnections && !clientsById(aedes)[client.id])
      return { reason: 'max_connections', detail: `${aedes.connectedClients} of ${maxConnections} connections in use` }
    const ka = keepalives.get(client) ?? 0
    if (ka < keepalive.min || ka > keepalive.max)
      return {
        reason: 'keepalive_out_of_range',
        detail: `keepalive ${ka} s is outside ${keepalive.min}..${keepalive.max} s`,
      }
    if (!username) return { reason: 'anonymous', detail: 'CONNECT carries no username' }
    if (Object.hasOwn(serviceAccounts, username)) return identifyService(client, username, password)
    return identifyDevice(client, username, password)
  }

  async function identifyService(
    client: Client,
    username: string,
    password: Buffer | undefined,
  ): Promise<Identity | Refusal> {
    const { clock, registry } = ctx.s
    const acct = ctx.s.serviceAccounts[username]
    const remote = remoteOf(client) ?? 'unknown'
    // Backoff first: while it lasts no scrypt runs at all (login-guard.ts).
    const admit = guard.admit(username, remote, clock())
    if (!admit.ok)
      return {
        reason: 'login_backoff',
        detail: `too many failed logins ${admit.scope === 'account' ? `for service account "${username}"` : `from ${remote}`}: try again in ${Math.ceil(admit.retryInMs / 1000)} s`,
      }
    let good = false
    if (password) {
      const check = guard.run(() => verifyServicePassword(password, acct.passwordHash))
      if (check === 'busy')
        return {
          reason: 'login_busy',
          detail: `${guard.pending} password checks are running or waiting (limit ${guard.o.maxPending})`,
        }
      good = await check
    }
    if (!good) {
      guard.failed(username, remote, clock())
      return { reason: 'bad_password', detail: `wrong password for service account "${username}"` }
    }
    guard.succeeded(username, remote, clock())
    // A service client must not take over a device's session ([MQTT-3.1.4-2]).
    if (DEVICE_ID_PATTERN.test(client.id) && (await registry.lookupDevice(client.id)))
      return { reason: 'client_id_mismatch', detail: `client id "${client.id}" is a registered device` }
    return {
      kind: 'service',
      username,
      role: acct.role,
      ...(acct.partitions ? { partitions: [...acct.partitions] } : {}),
    }
  }

  async function identifyDevice(
    client: Client,
    username: string,
    password: Buffer | undefined,
  ): Promise<Identity | Refusal> {
    const { registry, audience, clock, tokenSkewMs } = ctx.s
    if (!DEVICE_ID_PATTERN.test(username))
      return {
        reason: 'bad_username',
        detail: `"${username.slice(0, 64)}" is neither a service account nor a device id`,
      }
    // [MQTT-3.1.3-2] the client id names the session: a device's must be its own id.
    if (client.id !== username)
      return {
        reason: 'client_id_mismatch',
        detail: `client id "${String(client.id).slice(0, 64)}" differs from device id "${username}"`,
      }
    const record = await registry.lookupDevice(username)
    if (!record) return { reason: 'unknown_device', detail: `device "${username}" is not registered` }
    const verdict = checkDeviceToken({
      deviceId: username,
      token: password ? password.toString('utf8') : '',
      record,
      audience,
      nowMs: clock(),
      skewMs: tokenSkewMs,
      replay,
    })
    if (!verdict.ok) return { reason: verdict.reason, detail: verdict.detail }
    // Checked after the token, so only the device itself learns it is revoked.
    if (record.revoked) return { reason: 'device_revoked', detail: `device "${username}" is revoked` }
    const holder = clientsById(ctx.aedes()!)[client.id]
    if (holder && ctx.identities.get(holder)?.kind === 'service')
      return { reason: 'client_id_mismatch', detail: `client id "${client.id}" is held by a service account` }
    return { kind: 'device', deviceId: username }
  }
}
