/**
 * Built-in rule profiles for the standard storage classes. Each one's sources
 * and the reasoning behind each number are in docs/COMPLIANCE.md ("Built-in
 * profiles"). The label statement alone allows no time outside the labelled
 * range (EU GDP 9.2: products are transported within their label limits), so
 * the built-ins give every zone a zero cumulative allowance; a product whose
 * stability data allows excursions gets a custom profile that says so.
 * The alarm delays, sampling interval, gap and hysteresis values are ColdProof
 * operational defaults, not regulatory numbers.
 */
import {
  validateProfile,
  PROFILE_FORMAT,
  PROFILE_FORMAT_VERSION,
  type RuleProfile,
  type StorageClass,
  type Zone,
  type HardLimit,
} from './profile.ts'

const MIN = 60_000
const HOUR = 60 * MIN

function zone(id: string, side: 'above' | 'below', limitCentiC: number): Zone {
  return {
    id,
    side,
    limitCentiC,
    limitInclusive: true,
    alarmDelayMs: 15 * MIN,
    maxSingleEventMs: null,
    cumulativeAllowanceMs: 0,
    maxConsecutiveReadings: null,
    allowanceDegreeMinutes: null,
  }
}

interface Spec {
  id: string
  name: string
  storageClass: StorageClass
  labelStatement: string
  low: number | null
  high: number | null
  hardLimits?: HardLimit[]
  mktMaxCentiC?: number | null
  hysteresisCentiC?: number
  plausible?: { min: number; max: number }
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    Object.values(o).forEach(deepFreeze)
    Object.freeze(o)
  }
  return o
}

function make(s: Spec): RuleProfile {
  const zones: Zone[] = []
  if (s.high !== null) zones.push(zone(`above-${s.high < 0 ? 'minus-' : ''}${Math.abs(s.high / 100)}`, 'above', s.high))
  if (s.low !== null) zones.push(zone(`below-${s.low < 0 ? 'minus-' : ''}${Math.abs(s.low / 100)}`, 'below', s.low))
  return deepFreeze(
    validateProfile({
      format: PROFILE_FORMAT,
      formatVersion: PROFILE_FORMAT_VERSION,
      id: s.id,
      version: 1,
      name: s.name,
      storageClass: s.storageClass,
      labelStatement: s.labelStatement,
      range: { lowCentiC: s.low, highCentiC: s.high, lowInclusive: true, highInclusive: true },
      hysteresisCentiC: s.hysteresisCentiC ?? 50,
      zones,
      hardLimits: s.hardLimits ?? [],
      stabilityBudget: null,
      mktMaxCentiC: s.mktMaxCentiC ?? null,
      maxDataGapMs: 30 * MIN,
      expectedIntervalMs: 5 * MIN,
      startDelayMs: 0,
      stopDelayMs: 0,
      plausibleCentiC: s.plausible ?? { min: -4000, max: 8500 },
      maxClockJumpMs: 6 * HOUR,
    }),
  )
}

export const BUILTIN_PROFILES = {
  'refrigerated-2-8': make({
    id: 'refrigerated-2-8',
    name: 'Refrigerated 2–8 °C, do not freeze',
    storageClass: 'refrigerated',
    labelStatement: 'Store in a refrigerator (2 °C – 8 °C). Do not freeze.',
    low: 200,
    high: 800,
    // "Do not freeze": any reading at or below 0.00 °C fails at once.
    hardLimits: [{ id: 'freezing', side: 'below', limitCentiC: 0, limitInclusive: false }],
    // USP <659> controlled cold temperature: calculated MKT not more than 8 °C.
    mktMaxCentiC: 800,
  }),
  'controlled-room-15-25': make({
    id: 'controlled-room-15-25',
    name: 'Controlled room temperature 15–25 °C',
    storageClass: 'controlled-room',
    labelStatement: 'Store between 15 °C and 25 °C.',
    low: 1500,
    high: 2500,
    // USP <659> controlled room temperature: MKT not more than 25 °C.
    mktMaxCentiC: 2500,
  }),
  'below-25': make({
    id: 'below-25',
    name: 'Do not store above 25 °C',
    storageClass: 'below-25',
    labelStatement: 'Do not store above 25 °C.',
    low: null,
    high: 2500,
    mktMaxCentiC: 2500,
  }),
  'below-30': make({
    id: 'below-30',
    name: 'Do not store above 30 °C',
    storageClass: 'below-30',
    labelStatement: 'Do not store above 30 °C.',
    low: null,
    high: 3000,
  }),
  'frozen-15': make({
    id: 'frozen-15',
    name: 'Frozen, at or below −15 °C',
    storageClass: 'frozen',
    labelStatement: 'Store in a freezer at or below −15 °C.',
    low: null,
    high: -1500,
    hysteresisCentiC: 100,
  }),
  'frozen-20': make({
    id: 'frozen-20',
    name: 'Frozen, at or below −20 °C',
    storageClass: 'frozen',
    labelStatement: 'Store in a freezer at or below −20 °C.',
    low: null,
    high: -2000,
    hysteresisCentiC: 100,
  }),
  'ultra-cold-90-60': make({
    id: 'ultra-cold-90-60',
    name: 'Ultra-cold −90 °C to −60 °C',
    storageClass: 'ultra-cold',
    labelStatement: 'Store in an ultra-low temperature freezer at −90 °C to −60 °C.',
    low: -9000,
    high: -6000,
    hysteresisCentiC: 100,
    plausible: { min: -15000, max: 8500 },
  }),
} as const satisfies Record<string, RuleProfile>

export type BuiltinProfileId = keyof typeof BUILTIN_PROFILES
