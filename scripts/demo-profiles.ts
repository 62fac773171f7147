/**
 * Rule profiles of the demo fleet. Most shipments use the built-in profile of
 * their storage class; one product carries a quality agreement backed by
 * stability data (an allowance above 8 °C), so the demo also shows the
 * verdict "pass with excursions within allowance" — still a deviation that is
 * reported under GDP 9.2.
 */
import {
  BUILTIN_PROFILES,
  validateProfile,
  type BuiltinProfileId,
  type RuleProfile,
} from '../dashboard/compliance/index.ts'

const HOUR = 3_600_000

/** Device-sim storage classes -> built-in rule profiles of the compliance engine. */
export const PROFILE_FOR_CLASS: Record<string, BuiltinProfileId> = {
  '2-8': 'refrigerated-2-8',
  '15-25': 'controlled-room-15-25',
  max25: 'below-25',
  max30: 'below-30',
  'frozen-15': 'frozen-15',
  'frozen-20': 'frozen-20',
  'ultra-cold': 'ultra-cold-90-60',
}

/** 2–8 °C insulin with stability data: up to 12 h cumulative between 8 and 25 °C, nothing above 25 °C. */
export function insulinWithStabilityAllowance(): RuleProfile {
  const base = BUILTIN_PROFILES['refrigerated-2-8']
  const above8 = base.zones.find((z) => z.side === 'above')!
  return validateProfile({
    ...JSON.parse(JSON.stringify(base)),
    id: 'demo-insulin-2-8-stability',
    name: 'Insulin 2–8 °C, 12 h up to 25 °C allowed by stability data',
    zones: [
      { ...above8, cumulativeAllowanceMs: 12 * HOUR, maxSingleEventMs: null },
      { ...above8, id: 'above-25', limitCentiC: 2500, alarmDelayMs: 0, cumulativeAllowanceMs: 0 },
      ...base.zones.filter((z) => z.side === 'below'),
    ],
  })
}

export function demoProfile(shipmentId: string, storageClass: string): RuleProfile {
  if (shipmentId === 'demo-insulin-tarmac') return insulinWithStabilityAllowance()
  const id = PROFILE_FOR_CLASS[storageClass]
  if (!id) throw new RangeError(`no rule profile for storage class "${storageClass}"`)
  return BUILTIN_PROFILES[id]
}
