import t from 'tap'
import { readFileSync } from 'node:fs'
import { fromHex } from '../ledger/protocol/index.ts'
import { checkDeviceToken } from './device-auth.ts'
import { ReplayCache } from './replay-cache.ts'

// The published token vector of docs/PROTOCOL.md, "Device authentication".
const v = JSON.parse(
  readFileSync(new URL('../ledger/protocol/testdata/vectors/auth-token-1.json', import.meta.url), 'utf8'),
)
const record = { publicKey: fromHex(v.publicKey), revoked: false }
const base = { deviceId: v.deviceId, token: v.token, record, audience: v.audience, nowMs: v.timeMs, skewMs: 120_000 }

t.test('the PROTOCOL.md vector verifies with Node crypto', async (t) => {
  t.same(checkDeviceToken({ ...base, replay: new ReplayCache(10) }), { ok: true })
})

t.test('each way a token fails, with its reason', async (t) => {
  const cases: [string, Partial<typeof base>, string][] = [
    ['wrong audience', { audience: 'coldproof' }, 'bad_signature'],
    ['wrong device id', { deviceId: 'truck-7-probe-2' }, 'bad_signature'],
    [
      'other key',
      {
        record: {
          publicKey: fromHex('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a'),
          revoked: false,
        },
      },
      'bad_signature',
    ],
    ['broker clock 2 min + 1 ms later', { nowMs: v.timeMs + 120_001 }, 'token_expired'],
    ['broker clock 2 min + 1 ms earlier', { nowMs: v.timeMs - 120_001 }, 'token_from_future'],
    ['truncated', { token: v.token.slice(0, -2) }, 'token_malformed'],
    ['not base64url', { token: v.token.replace(/.$/, '+') }, 'token_malformed'],
    ['empty', { token: '' }, 'token_malformed'],
    ['one signature bit flipped', { token: flipLastSignatureBit(v.token) }, 'bad_signature'],
  ]
  for (const [name, patch, reason] of cases) {
    const r = checkDeviceToken({ ...base, ...patch, replay: new ReplayCache(10) })
    t.equal(r.ok ? 'ok' : r.reason, reason, name)
  }
  // the edges of the window are inside it
  t.same(
    checkDeviceToken({ ...base, nowMs: v.timeMs + 120_000, replay: new ReplayCache(10) }),
    { ok: true },
    'exactly 2 min old',
  )
  t.same(
    checkDeviceToken({ ...base, nowMs: v.timeMs - 120_000, replay: new ReplayCache(10) }),
    { ok: true },
    'exactly 2 min ahead',
  )
})

t.test('replay: the same token twice is refused; a failed token does not poison the cache', async (t) => {
  const replay = new ReplayCache(10)
  t.same(checkDeviceToken({ ...base, audience: 'wrong', replay }), {
    ok: false,
    reason: 'bad_signature',
    detail: 'signature does not verify for audience "wrong"',
  })
  t.equal(replay.size, 0, 'nothing recorded for a bad token')
  t.same(checkDeviceToken({ ...base, replay }), { ok: true })
  const again = checkDeviceToken({ ...base, nowMs: v.timeMs + 60_000, replay })
  t.equal(again.ok ? 'ok' : again.reason, 'token_replayed')
})

function flipLastSignatureBit(token: string): string {
  const b = Buffer.from(token, 'base64url')
  b[b.length - 2] ^= 1
  return b.toString('base64url')
}
