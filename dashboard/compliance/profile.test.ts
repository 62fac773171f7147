import t from 'tap'
import { createHash } from 'node:crypto'
import { validateProfile, profileHash, type RuleProfile } from './profile.ts'
import { BUILTIN_PROFILES } from './builtin-profiles.ts'
import { canonicalJson } from '../../ledger/tlog/index.ts'
import { isComplianceError } from './errors.ts'

const base = (): RuleProfile => structuredClone(BUILTIN_PROFILES['refrigerated-2-8']) as RuleProfile

t.test('every built-in profile validates and hashes to the SHA-256 of its canonical JSON', async (t) => {
  for (const [id, p] of Object.entries(BUILTIN_PROFILES)) {
    t.equal(p.id, id)
    t.same(validateProfile(JSON.parse(JSON.stringify(p))), p, `${id} round-trips through JSON`)
    // independent hash: node:crypto over our canonical text
    const expected = createHash('sha256').update(canonicalJson(p), 'utf8').digest('hex')
    t.equal(profileHash(p), expected, `${id} hash`)
  }
  const hashes = new Set(Object.values(BUILTIN_PROFILES).map(profileHash))
  t.equal(hashes.size, Object.keys(BUILTIN_PROFILES).length, 'distinct profiles have distinct hashes')
})

t.test('the hash ignores key order but not values', async (t) => {
  const p = base()
  const reordered = Object.fromEntries(Object.entries(p).reverse()) as unknown as RuleProfile
  t.equal(profileHash(validateProfile(reordered)), profileHash(p))
  const q = base()
  q.zones[0].alarmDelayMs += 1
  t.not(profileHash(validateProfile(q)), profileHash(p))
})

t.test('validateProfile returns a copy: later changes to the input do not reach it', async (t) => {
  const input = base()
  const p = validateProfile(input)
  input.zones[0].limitCentiC = 900
  t.equal(p.zones[0].limitCentiC, 800)
})

t.test('built-ins are frozen', async (t) => {
  t.ok(Object.isFrozen(BUILTIN_PROFILES['refrigerated-2-8'].zones[0]))
})

const cases: [string, (p: any) => unknown, string][] = [
  ['not an object', () => 42, '$'],
  ['null', () => null, '$'],
  ['an array', () => [], '$'],
  ['unknown top-level field', (p) => ({ ...p, colour: 'blue' }), '$.colour'],
  [
    'unknown field in a zone',
    (p) => {
      p.zones[0].extra = 1
      return p
    },
    '$.zones[0].extra',
  ],
  [
    'unknown field in range',
    (p) => {
      p.range.mid = 500
      return p
    },
    '$.range.mid',
  ],
  [
    'missing field',
    (p) => {
      delete p.maxDataGapMs
      return p
    },
    '$.maxDataGapMs',
  ],
  ['wrong format', (p) => ({ ...p, format: 'other' }), '$.format'],
  [
    'low == high',
    (p) => {
      p.range.lowCentiC = 800
      return p
    },
    '$.range.lowCentiC',
  ],
  [
    'low > high',
    (p) => {
      p.range.lowCentiC = 900
      return p
    },
    '$.range.lowCentiC',
  ],
  [
    'no limit at all',
    (p) => {
      p.range.lowCentiC = null
      p.range.highCentiC = null
      p.zones = []
      p.hardLimits = []
      return p
    },
    '$.range',
  ],
  [
    'non-integer temperature',
    (p) => {
      p.range.highCentiC = 800.5
      return p
    },
    '$.range.highCentiC',
  ],
  [
    'temperature below absolute zero',
    (p) => {
      p.hardLimits[0].limitCentiC = -30000
      return p
    },
    '$.hardLimits[0].limitCentiC',
  ],
  [
    'negative alarm delay',
    (p) => {
      p.zones[1].alarmDelayMs = -1
      return p
    },
    '$.zones[1].alarmDelayMs',
  ],
  [
    'negative cumulative allowance',
    (p) => {
      p.zones[0].cumulativeAllowanceMs = -5
      return p
    },
    '$.zones[0].cumulativeAllowanceMs',
  ],
  ['negative start delay', (p) => ({ ...p, startDelayMs: -1 }), '$.startDelayMs'],
  ['zero max data gap', (p) => ({ ...p, maxDataGapMs: 0 }), '$.maxDataGapMs'],
  [
    'zero consecutive readings',
    (p) => {
      p.zones[0].maxConsecutiveReadings = 0
      return p
    },
    '$.zones[0].maxConsecutiveReadings',
  ],
  [
    'string duration',
    (p) => {
      p.zones[0].maxSingleEventMs = '30'
      return p
    },
    '$.zones[0].maxSingleEventMs',
  ],
  [
    'bad side',
    (p) => {
      p.zones[0].side = 'over'
      return p
    },
    '$.zones[0].side',
  ],
  [
    'bad rule id',
    (p) => {
      p.zones[0].id = 'Above 8'
      return p
    },
    '$.zones[0].id',
  ],
  [
    'duplicate rule id',
    (p) => {
      p.zones[1].id = p.zones[0].id
      return p
    },
    '$.zones[1].id',
  ],
  [
    'hard limit reusing a zone id',
    (p) => {
      p.hardLimits[0].id = 'above-8'
      return p
    },
    '$.hardLimits[0].id',
  ],
  [
    'above-zone limit inside the range',
    (p) => {
      p.zones[0].limitCentiC = 700
      return p
    },
    '$.zones[0].limitCentiC',
  ],
  [
    'below hard limit inside the range',
    (p) => {
      p.hardLimits[0].limitCentiC = 300
      return p
    },
    '$.hardLimits[0].limitCentiC',
  ],
  [
    'plausible min >= max',
    (p) => {
      p.plausibleCentiC.min = 9000
      return p
    },
    '$.plausibleCentiC.min',
  ],
  [
    'expected interval above max gap',
    (p) => ({ ...p, expectedIntervalMs: p.maxDataGapMs + 1 }),
    '$.expectedIntervalMs',
  ],
  ['clock jump below max gap', (p) => ({ ...p, maxClockJumpMs: p.maxDataGapMs - 1 }), '$.maxClockJumpMs'],
  [
    'negative prior usage',
    (p) => ({
      ...p,
      stabilityBudget: { allowanceMs: 1000, priorUsage: [{ leg: 'a', usedMs: -1, recordedBy: 'qa', recordedAtMs: 0 }] },
    }),
    '$.stabilityBudget.priorUsage[0].usedMs',
  ],
  [
    'unknown field in prior usage',
    (p) => ({
      ...p,
      stabilityBudget: {
        allowanceMs: 1000,
        priorUsage: [{ leg: 'a', usedMs: 1, recordedBy: 'qa', recordedAtMs: 0, x: 1 }],
      },
    }),
    '$.stabilityBudget.priorUsage[0].x',
  ],
  ['version 0', (p) => ({ ...p, version: 0 }), '$.version'],
  ['empty label statement', (p) => ({ ...p, labelStatement: '' }), '$.labelStatement'],
  ['NaN hysteresis', (p) => ({ ...p, hysteresisCentiC: NaN }), '$.hysteresisCentiC'],
]

t.test('invalid profiles are refused with ERR_PROFILE_INVALID naming the field', async (t) => {
  for (const [desc, mutate, path] of cases) {
    try {
      validateProfile(mutate(base()))
      t.fail(`${desc}: accepted`)
    } catch (e) {
      t.ok(isComplianceError(e), `${desc}: typed error`)
      if (!isComplianceError(e)) continue
      t.equal(e.code, 'ERR_PROFILE_INVALID', `${desc}: code`)
      t.equal(e.path, path, `${desc}: path`)
      t.match(e.message, path, `${desc}: message names the field`)
    }
  }
})

t.test('a one-sided range and a stability budget are valid', async (t) => {
  const p = validateProfile({
    ...base(),
    range: { lowCentiC: null, highCentiC: 800, lowInclusive: true, highInclusive: true },
    zones: [base().zones[0]],
    stabilityBudget: {
      allowanceMs: 3_600_000,
      priorUsage: [{ leg: 'warehouse', usedMs: 600_000, recordedBy: 'qa-1', recordedAtMs: 1 }],
    },
  })
  t.equal(p.range.lowCentiC, null)
  t.equal(p.stabilityBudget?.priorUsage[0].usedMs, 600_000)
})
