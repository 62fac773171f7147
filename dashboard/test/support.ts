/**
 * Test support for the dashboard API tests: a real ledger in a temp dir, a
 * real users file, the app built by buildDashboard, signed readings from
 * real Ed25519 keys (noble), and a login helper.
 */
import type { Test } from 'tap'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as ed from '@noble/ed25519'
import { sha512 } from '@noble/hashes/sha2.js'
import type { FastifyInstance } from 'fastify'
import { openLedger, type Ledger } from '../../ledger/store/index.ts'
import {
  encodeRecord,
  assemblePayload,
  readingSigningMessage,
  readingHash,
  GENESIS_PREV_HASH,
  toHex,
  type ReadingFields,
} from '../../ledger/protocol/index.ts'
import { openUserStore, type UserStore, type Role } from '../server/users.ts'
import { buildDashboard, type DashboardOptions } from '../server/app.ts'

ed.hashes.sha512 = sha512

export const PASSWORDS: Record<Role, string> = {
  admin: 'admin-pass-123',
  operator: 'operator-pass-123',
  regulator: 'regulator-pass-123',
}
export const USERNAMES: Record<Role, string> = { admin: 'ada', operator: 'olivia', regulator: 'rita' }

export interface Harness {
  app: FastifyInstance
  ledger: Ledger
  users: UserStore
  dir: string
  /** The fake clock of the ledger and the dashboard, ms UTC; tests move it. */
  clock: { now: number }
  /** Cookie header value for a signed-in user of this role. */
  cookie(role: Role): Promise<string>
}

/** Where the fake clock starts: 2026-11-20T06:00:00Z. */
export const T0 = Date.UTC(2026, 10, 20, 6, 0, 0)

export async function harness(
  t: Test,
  extraOpts: Partial<DashboardOptions> | ((ledger: Ledger) => Partial<DashboardOptions>) = {},
): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), 'coldproof-dash-'))
  const clock = { now: T0 }
  const now = () => clock.now
  const ledger = await openLedger({
    dir: join(dir, 'ledger'),
    checkpointIntervalMs: 0,
    checkpointEvery: 1_000_000,
    clock: now,
  })
  const users = await openUserStore({
    file: join(dir, 'users.json'),
    seed: (Object.keys(USERNAMES) as Role[]).map((role) => ({
      username: USERNAMES[role],
      password: PASSWORDS[role],
      role,
    })),
  })
  const extra = typeof extraOpts === 'function' ? extraOpts(ledger) : extraOpts
  const app = await buildDashboard({
    ledger,
    users,
    cookieSecret: 'test-cookie-secret-0123456789abcdef',
    logger: false,
    clock: now,
    integrityCheckOnStart: false,
    ...extra,
  })
  await app.ready()
  t.teardown(async () => {
    await app.close()
    await ledger.close()
    await rm(dir, { recursive: true, force: true })
  })
  const cookies = new Map<Role, string>()
  return {
    app,
    ledger,
    users,
    dir,
    clock,
    async cookie(role) {
      const hit = cookies.get(role)
      if (hit) return hit
      const res = await app.inject({
        method: 'POST',
        url: '/api/login',
        payload: { username: USERNAMES[role], password: PASSWORDS[role] },
      })
      if (res.statusCode !== 200) throw new Error(`login as ${role} failed: ${res.statusCode} ${res.body}`)
      const c = res.cookies.find((x) => x.name === 'coldproof_session')!
      const v = `coldproof_session=${c.value}`
      cookies.set(role, v)
      return v
    },
  }
}

/** A simulated logger: a real key, a real chain of signed readings. */
export class TestDevice {
  readonly seed: Uint8Array
  readonly publicKey: Uint8Array
  seq = 0
  prev: Uint8Array = GENESIS_PREV_HASH
  constructor(
    readonly deviceId: string,
    seedByte: number,
  ) {
    this.seed = new Uint8Array(32).fill(seedByte)
    this.publicKey = ed.getPublicKey(this.seed)
  }
  get publicKeyHex(): string {
    return toHex(this.publicKey)
  }
  /** Signs the next reading and returns the ledger body. */
  next(
    deviceTimeMs: number,
    tempCentiC: number,
    extra: Partial<ReadingFields> = {},
  ): { payload: string; deviceId: string; seq: number } {
    this.seq++
    const record = encodeRecord({
      deviceId: this.deviceId,
      seq: this.seq,
      deviceTimeMs,
      tempCentiC,
      prevHash: this.prev,
      ...extra,
    })
    const payload = assemblePayload(record, ed.sign(readingSigningMessage(record), this.seed))
    this.prev = readingHash(payload)
    return { payload: Buffer.from(payload).toString('base64'), deviceId: this.deviceId, seq: this.seq }
  }
}

/** Registers a device in the ledger directly (as the provisioning step would). */
export async function register(ledger: Ledger, d: TestDevice): Promise<void> {
  await ledger.registerDevice({
    deviceId: d.deviceId,
    publicKey: d.publicKeyHex,
    by: 'test',
    model: 'CP-T1',
    calibration: { certificate: 'CAL-1', calibratedAt: 0, dueAt: Date.UTC(2030, 0, 1) },
  })
}

/** Waits until `cond()` holds, polling; fails after `ms`. Tests never assert on timing; this only bounds a wait. */
export async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached')
    await new Promise((r) => setTimeout(r, 10))
  }
}
