/**
 * The login guard on its own: the backoff schedule (free tries, doubling,
 * cap, cleared by a success), the trusted address, the exact concurrency and
 * queue bounds, and the bounded memory of addresses.
 */
import t from 'tap'
import { LoginGuard } from './login-guard.ts'

t.test('backoff: free tries, then doubling delays up to the cap; a success clears it', async (t) => {
  const g = new LoginGuard({ freeFailures: 2, baseDelayMs: 1000, maxDelayMs: 4000 })
  const fail = (n: number, at: number) => {
    for (let i = 0; i < n; i++) g.failed('svc', '10.0.0.1', at)
  }
  fail(2, 0)
  t.same(g.admit('svc', '10.0.0.1', 0), { ok: true }, 'two failures are free')
  fail(1, 0)
  t.match(g.admit('svc', '10.0.0.1', 999), { ok: false, scope: 'address', retryInMs: 1 }, 'the third: 1 s')
  t.same(g.admit('svc', '10.0.0.1', 1000), { ok: true })
  fail(1, 1000)
  t.match(g.admit('svc', '10.0.0.9', 2999), { ok: false, scope: 'account' }, 'the fourth: 2 s, for every address')
  fail(3, 3000)
  t.match(g.admit('svc', '10.0.0.1', 3000), { ok: false, retryInMs: 4000 }, 'capped at 4 s')
  g.succeeded('svc', '10.0.0.1', 3000)
  t.same(g.admit('svc', '10.0.0.1', 3000), { ok: true }, 'a success clears the account and the address')
  t.same(g.admit('other', '10.0.0.2', 3000), { ok: true }, 'other accounts and addresses were never held back')
})

t.test('an address that logged in is not held back by its account, only by itself', async (t) => {
  const g = new LoginGuard({ freeFailures: 0, baseDelayMs: 60_000, maxDelayMs: 60_000, trustMs: 1000 })
  g.succeeded('svc', 'home', 0)
  g.failed('svc', 'attacker', 10)
  t.match(g.admit('svc', 'elsewhere', 20), { ok: false, scope: 'account' })
  t.same(g.admit('svc', 'home', 20), { ok: true }, 'trusted')
  t.match(g.admit('svc', 'home', 1001), { ok: false, scope: 'account' }, 'until the trust expires')
})

t.test(
  'at most `concurrency` checks run, at most `maxPending` run or wait; the rest are refused without running',
  async (t) => {
    const g = new LoginGuard({ concurrency: 2, maxPending: 3 })
    let running = 0
    let peak = 0
    const gates: (() => void)[] = []
    const check = () =>
      new Promise<boolean>((resolve) => {
        running++
        peak = Math.max(peak, running)
        gates.push(() => {
          running--
          resolve(false)
        })
      })
    const runs = Array.from({ length: 5 }, () => g.run(check))
    t.equal(runs.filter((r) => r === 'busy').length, 2, 'two refused at once')
    await new Promise((r) => setImmediate(r))
    t.equal(running, 2, 'two running, one waiting')
    while (gates.length) {
      gates.shift()!()
      await new Promise((r) => setImmediate(r))
    }
    await Promise.all(runs.filter((r) => r !== 'busy'))
    t.equal(peak, 2, 'never more than two at once')
    t.equal(g.checks, 3)
    t.equal(g.pending, 0)
  },
)

t.test('the memory of failures is bounded', async (t) => {
  const g = new LoginGuard({ freeFailures: 0, maxTracked: 100 })
  for (let i = 0; i < 1000; i++) g.failed('svc', `10.0.${i >> 8}.${i & 255}`, 0)
  t.same(g.admit('nobody', '10.0.0.0', 0), { ok: true }, 'the oldest address was forgotten')
  t.match(g.admit('nobody', '10.0.3.231', 0), { ok: false }, 'the newest is remembered')
})

t.test('options are validated', async (t) => {
  t.throws(() => new LoginGuard({ concurrency: 0 }), RangeError)
  t.throws(() => new LoginGuard({ baseDelayMs: 10, maxDelayMs: 5 }), RangeError)
})
