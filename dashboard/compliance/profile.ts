/**
 * The rule profile: a shipment's handling rules as data (ARCHITECTURE.md decision 7).
 * The JSON Schema below is written once; `validateProfile` checks a document
 * against it (unknown fields refused) and then checks what a schema cannot say
 * (low < high, zones outside the label range, unique rule ids). `profileHash`
 * is what a shipment logs at creation, binding the rules to it.
 *
 * Units everywhere: temperatures in integer centi-degrees Celsius (800 = 8.00 °C),
 * durations and times in integer milliseconds. See docs/COMPLIANCE.md.
 */
import { profileHashOf } from '../../ledger/tlog/index.ts'
import { checkSchema, type Schema } from './json-schema-check.ts'
import { ComplianceError } from './errors.ts'

export const PROFILE_FORMAT = 'coldproof-rule-profile'
export const PROFILE_FORMAT_VERSION = 1
/** Absolute zero and the wire format's largest value (ledger/protocol/reading.ts). */
const MIN_T = -27315
const MAX_T = 32767
/** Ten years: no shipment rule needs more, and it keeps every area (centi-°C x ms) a safe integer. */
export const MAX_DURATION_MS = 10 * 366 * 86_400_000

const temp = { type: 'integer', minimum: MIN_T, maximum: MAX_T } as const
const tempOrNull = { type: ['integer', 'null'], minimum: MIN_T, maximum: MAX_T } as const
const duration = { type: 'integer', minimum: 0, maximum: MAX_DURATION_MS } as const
const positiveDuration = { type: 'integer', minimum: 1, maximum: MAX_DURATION_MS } as const
const durationOrNull = { type: ['integer', 'null'], minimum: 0, maximum: MAX_DURATION_MS } as const
const ruleId = { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,31}$' } as const
const side = { type: 'string', enum: ['above', 'below'] } as const

export const PROFILE_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: [
    'format',
    'formatVersion',
    'id',
    'version',
    'name',
    'storageClass',
    'labelStatement',
    'range',
    'hysteresisCentiC',
    'zones',
    'hardLimits',
    'stabilityBudget',
    'mktMaxCentiC',
    'maxDataGapMs',
    'expectedIntervalMs',
    'startDelayMs',
    'stopDelayMs',
    'plausibleCentiC',
    'maxClockJumpMs',
  ],
  properties: {
    format: { type: 'string', const: PROFILE_FORMAT },
    formatVersion: { type: 'integer', const: PROFILE_FORMAT_VERSION },
    id: { type: 'string', pattern: '^[a-z0-9][a-z0-9._-]{0,63}$', description: 'stable name of the profile' },
    version: {
      type: 'integer',
      minimum: 1,
      maximum: 1_000_000,
      description: 'edition of this profile id; a change of rules is a new version',
    },
    name: { type: 'string', minLength: 1, maxLength: 200 },
    storageClass: {
      type: 'string',
      enum: ['refrigerated', 'controlled-room', 'below-25', 'below-30', 'frozen', 'ultra-cold', 'custom'],
    },
    labelStatement: { type: 'string', minLength: 1, maxLength: 500, description: 'the storage statement on the label' },
    range: {
      type: 'object',
      additionalProperties: false,
      required: ['lowCentiC', 'highCentiC', 'lowInclusive', 'highInclusive'],
      description: 'the labelled range; null = no limit on that side; inclusive = the limit value itself is in range',
      properties: {
        lowCentiC: tempOrNull,
        highCentiC: tempOrNull,
        lowInclusive: { type: 'boolean' },
        highInclusive: { type: 'boolean' },
      },
    },
    hysteresisCentiC: {
      type: 'integer',
      minimum: 0,
      maximum: 5000,
      description: 'an excursion ends only when back inside its limit by this margin',
    },
    zones: {
      type: 'array',
      maxItems: 16,
      items: {
        type: 'object',
        additionalProperties: false,
        required: [
          'id',
          'side',
          'limitCentiC',
          'limitInclusive',
          'alarmDelayMs',
          'maxSingleEventMs',
          'cumulativeAllowanceMs',
          'maxConsecutiveReadings',
          'allowanceDegreeMinutes',
        ],
        properties: {
          id: ruleId,
          side,
          limitCentiC: temp,
          limitInclusive: { type: 'boolean', description: 'true: a reading equal to the limit is not beyond it' },
          alarmDelayMs: {
            ...duration,
            description: 'an excursion escalates to an alarm when its duration reaches this',
          },
          maxSingleEventMs: { ...durationOrNull, description: 'one excursion longer than this breaks the rule (FAIL)' },
          cumulativeAllowanceMs: {
            ...durationOrNull,
            description: 'total time beyond the limit over the shipment; more breaks the rule',
          },
          maxConsecutiveReadings: {
            type: ['integer', 'null'],
            minimum: 1,
            maximum: 1_000_000,
            description: 'this many readings beyond the limit in a row break the rule',
          },
          allowanceDegreeMinutes: {
            type: ['integer', 'null'],
            minimum: 0,
            maximum: 100_000_000,
            description: 'total area beyond the limit, °C x min; more breaks the rule',
          },
        },
      },
    },
    hardLimits: {
      type: 'array',
      maxItems: 8,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'side', 'limitCentiC', 'limitInclusive'],
        properties: { id: ruleId, side, limitCentiC: temp, limitInclusive: { type: 'boolean' } },
      },
    },
    stabilityBudget: {
      type: ['object', 'null'],
      additionalProperties: false,
      required: ['allowanceMs', 'priorUsage'],
      description: 'total time outside the label range allowed by stability data, less what earlier legs used',
      properties: {
        allowanceMs: duration,
        priorUsage: {
          type: 'array',
          maxItems: 100,
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['leg', 'usedMs', 'recordedBy', 'recordedAtMs'],
            properties: {
              leg: { type: 'string', minLength: 1, maxLength: 200 },
              usedMs: duration,
              recordedBy: { type: 'string', minLength: 1, maxLength: 200 },
              recordedAtMs: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
            },
          },
        },
      },
    },
    mktMaxCentiC: { ...tempOrNull, description: 'the mean kinetic temperature above this breaks the rule' },
    maxDataGapMs: { ...positiveDuration, description: 'an interval between readings longer than this is a data gap' },
    expectedIntervalMs: { ...positiveDuration, description: 'the logger sampling interval' },
    startDelayMs: { ...duration, description: 'not judged for this long after the shipment window starts (packing)' },
    stopDelayMs: { ...duration, description: 'not judged for this long before the shipment window ends (unpacking)' },
    plausibleCentiC: {
      type: 'object',
      additionalProperties: false,
      required: ['min', 'max'],
      description: 'readings outside this are impossible values (sensor fault)',
      properties: { min: temp, max: temp },
    },
    maxClockJumpMs: {
      ...positiveDuration,
      description:
        'kept for compatibility and not judged: a forward step in device time is a data gap, not a clock fault',
    },
  },
} as const satisfies Schema

export type Side = 'above' | 'below'
export type StorageClass =
  | 'refrigerated'
  | 'controlled-room'
  | 'below-25'
  | 'below-30'
  | 'frozen'
  | 'ultra-cold'
  | 'custom'

export interface Zone {
  id: string
  side: Side
  limitCentiC: number
  limitInclusive: boolean
  alarmDelayMs: number
  maxSingleEventMs: number | null
  cumulativeAllowanceMs: number | null
  maxConsecutiveReadings: number | null
  allowanceDegreeMinutes: number | null
}

export interface HardLimit {
  id: string
  side: Side
  limitCentiC: number
  limitInclusive: boolean
}

export interface PriorUsage {
  leg: string
  usedMs: number
  recordedBy: string
  recordedAtMs: number
}

export interface RuleProfile {
  format: typeof PROFILE_FORMAT
  formatVersion: typeof PROFILE_FORMAT_VERSION
  id: string
  version: number
  name: string
  storageClass: StorageClass
  labelStatement: string
  range: { lowCentiC: number | null; highCentiC: number | null; lowInclusive: boolean; highInclusive: boolean }
  hysteresisCentiC: number
  zones: Zone[]
  hardLimits: HardLimit[]
  stabilityBudget: { allowanceMs: number; priorUsage: PriorUsage[] } | null
  mktMaxCentiC: number | null
  maxDataGapMs: number
  expectedIntervalMs: number
  startDelayMs: number
  stopDelayMs: number
  plausibleCentiC: { min: number; max: number }
  maxClockJumpMs: number
}

function invalid(path: string, message: string, value: unknown): never {
  throw new ComplianceError('ERR_PROFILE_INVALID', path, message, { value })
}

/**
 * Checks a profile document and returns it, deep-copied, as a RuleProfile.
 * Throws ComplianceError ERR_PROFILE_INVALID whose `path` names the field.
 */
export function validateProfile(json: unknown): RuleProfile {
  const v = checkSchema(PROFILE_SCHEMA, json)
  if (v) invalid(v.path, v.message, v.value)
  const p = JSON.parse(JSON.stringify(json)) as RuleProfile
  const { lowCentiC: low, highCentiC: high } = p.range
  if (low === null && high === null) invalid('$.range', 'a range needs a low or a high limit (or both)', p.range)
  if (low !== null && high !== null && low >= high)
    invalid('$.range.lowCentiC', `must be below highCentiC (${high}), got ${low}`, low)
  if (p.plausibleCentiC.min >= p.plausibleCentiC.max)
    invalid(
      '$.plausibleCentiC.min',
      `must be below max (${p.plausibleCentiC.max}), got ${p.plausibleCentiC.min}`,
      p.plausibleCentiC.min,
    )
  if (p.expectedIntervalMs > p.maxDataGapMs)
    invalid(
      '$.expectedIntervalMs',
      `must not exceed maxDataGapMs (${p.maxDataGapMs}), got ${p.expectedIntervalMs}`,
      p.expectedIntervalMs,
    )
  if (p.maxClockJumpMs < p.maxDataGapMs)
    invalid(
      '$.maxClockJumpMs',
      `must be at least maxDataGapMs (${p.maxDataGapMs}), got ${p.maxClockJumpMs}`,
      p.maxClockJumpMs,
    )
  const ids = new Set<string>()
  const checkLimit = (path: string, l: { id: string; side: Side; limitCentiC: number }) => {
    if (ids.has(l.id)) invalid(`${path}.id`, `rule id "${l.id}" is used twice`, l.id)
    ids.add(l.id)
    // A rule limit lies on or outside the labelled range: a limit inside it would flag in-range readings.
    if (l.side === 'above' && high !== null && l.limitCentiC < high)
      invalid(
        `${path}.limitCentiC`,
        `an "above" limit must be at or above range.highCentiC (${high}), got ${l.limitCentiC}`,
        l.limitCentiC,
      )
    if (l.side === 'below' && low !== null && l.limitCentiC > low)
      invalid(
        `${path}.limitCentiC`,
        `a "below" limit must be at or below range.lowCentiC (${low}), got ${l.limitCentiC}`,
        l.limitCentiC,
      )
  }
  p.zones.forEach((z, i) => checkLimit(`$.zones[${i}]`, z))
  p.hardLimits.forEach((h, i) => checkLimit(`$.hardLimits[${i}]`, h))
  return p
}

/** Hex SHA-256 of the profile's canonical JSON (ledger/tlog/canonical-json.ts): the hash a shipment logs. */
export function profileHash(profile: RuleProfile): string {
  return profileHashOf(profile)
}
