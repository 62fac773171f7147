/**
 * Built-in profile ids are reserved at the API: a custom profile under a
 * built-in's id (the look-alike: refrigerated-2-8 v1 with 10-hour
 * allowances, no freezing limit, no MKT limit), or under a version the
 * built-in never had, or named like a built-in, is refused with
 * ERR_PROFILE_RESERVED naming the field; nothing is logged. The built-in
 * itself, sent whole, and a custom profile with its own id and name pass.
 */
import t from 'tap'
import { harness, TestDevice, register } from './support.ts'
import { BUILTIN_PROFILES, profileHash } from '../compliance/index.ts'

t.test('a custom profile cannot be passed off as a built-in', async (t) => {
  const h = await harness(t)
  await register(h.ledger, new TestDevice('logger-1', 7))
  const cookie = await h.cookie('operator')
  const post = async (shipmentId: string, profile: unknown) => {
    const res = await h.app.inject({
      method: 'POST',
      url: '/api/shipments',
      headers: { cookie },
      payload: { shipmentId, product: 'Insulin', route: { from: 'Basel', to: 'Lyon' }, devices: ['logger-1'], profile },
    })
    return { status: res.statusCode, body: res.json() }
  }
  const real = BUILTIN_PROFILES['refrigerated-2-8']
  const lookalike = {
    ...real,
    zones: real.zones.map((z) => ({ ...z, cumulativeAllowanceMs: 10 * 3_600_000 })),
    hardLimits: [],
    mktMaxCentiC: null,
  }
  const size = h.ledger.size()
  for (const [desc, profile, field] of [
    ['the same id and version, other rules', lookalike, 'body.profile.id'],
    ['another version of a built-in id', { ...lookalike, version: 2 }, 'body.profile.id'],
    ['the built-in itself under a new version number', { ...real, version: 9 }, 'body.profile.id'],
    [
      'an own id with a built-in name',
      { ...lookalike, id: 'acme-2-8', name: 'REFRIGERATED 2–8 °C, do not  freeze' },
      'body.profile.name',
    ],
  ] as const) {
    const r = await post('SHP-X', profile)
    t.equal(r.status, 400, desc)
    t.equal(r.body.code, 'ERR_PROFILE_RESERVED', desc)
    t.equal(r.body.field, field, desc)
  }
  t.equal(h.ledger.size(), size, 'nothing was logged')

  const same = await post('SHP-BUILTIN', real)
  t.equal(same.status, 201, 'the built-in sent whole is the built-in')
  t.equal(same.body.profileHash, profileHash(real))
  const own = await post('SHP-OWN', {
    ...lookalike,
    id: 'acme-insulin-stability',
    name: 'Acme insulin, 10 h above 8 °C (stability data)',
  })
  t.equal(own.status, 201, 'a custom profile with its own id and name')
  t.equal(own.body.profileId, 'acme-insulin-stability')
})
