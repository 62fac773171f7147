import t from 'tap'
import { BUILTIN_PROFILE_HASHES } from './builtin-hashes.ts'
import { BUILTIN_PROFILES, profileHash, profileOrigin, profileRules, isBuiltinName } from './index.ts'

t.test('the shipped hash table equals the hashes recomputed from the built-in definitions', async (t) => {
  t.same(Object.keys(BUILTIN_PROFILE_HASHES).sort(), Object.keys(BUILTIN_PROFILES).sort(), 'one row per built-in')
  for (const [id, p] of Object.entries(BUILTIN_PROFILES)) {
    t.equal(
      BUILTIN_PROFILE_HASHES[id][p.version],
      profileHash(p),
      `${id} v${p.version} (run scripts/gen-builtin-hashes.ts after changing a built-in, with a new version)`,
    )
  }
})

t.test('a profile is built-in, custom, or a custom one passed off as built-in', async (t) => {
  const real = BUILTIN_PROFILES['refrigerated-2-8']
  t.same(profileOrigin(real, profileHash(real)), { kind: 'builtin', id: 'refrigerated-2-8', version: 1 })
  const lax = {
    ...real,
    zones: real.zones.map((z) => ({ ...z, cumulativeAllowanceMs: 10 * 3_600_000 })),
    hardLimits: [],
    mktMaxCentiC: null,
  }
  const o = profileOrigin(lax, profileHash(lax))
  t.equal(o.kind, 'impersonation', 'the same id and version with 10 h allowances')
  t.equal(o.kind === 'impersonation' && o.builtinHash, profileHash(real))
  const v7 = { ...real, version: 7 }
  t.same(
    profileOrigin(v7, profileHash(v7)),
    { kind: 'impersonation', id: 'refrigerated-2-8', version: 7, builtinHash: null, knownVersions: [1] },
    'a version the built-in never had',
  )
  const own = { ...lax, id: 'acme-insulin' }
  t.same(profileOrigin(own, profileHash(own)), { kind: 'custom', id: 'acme-insulin', version: 1 })
  t.equal(profileOrigin({ id: 'constructor', version: 1 }, 'x').kind, 'custom', 'no prototype key is a built-in')
  t.ok(isBuiltinName('  refrigerated 2–8 °C,  DO NOT FREEZE '), 'a built-in name, case and spacing aside')
  t.notOk(isBuiltinName('Acme insulin 2–8 °C'))
})

t.test('the rules read as the profile says', async (t) => {
  const lines = profileRules(BUILTIN_PROFILES['refrigerated-2-8'])
  t.match(lines[0], 'labelled range: 2.00 °C ≤ T ≤ 8.00 °C')
  t.ok(
    lines.includes(
      'zone above-8 (T > 8.00 °C): alarm after 15 min; cumulative time beyond: at most 0 s; one excursion: no limit; consecutive readings beyond: no limit; degree-minutes: no limit',
    ),
  )
  t.ok(lines.includes('hard limit freezing: any reading with T ≤ 0.00 °C fails at once'))
  t.ok(lines.includes('MKT limit: at most 8.00 °C'))
  t.ok(profileRules(BUILTIN_PROFILES['below-30']).includes('MKT limit: none'))
})
