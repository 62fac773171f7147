/**
 * Typed errors of the compliance engine. Every refusal carries a stable code
 * (listed in docs/COMPLIANCE.md, "Error codes"), the JSON path of the field
 * at fault where there is one, and the evidence.
 */
export const COMPLIANCE_ERROR_CODES = {
  ERR_PROFILE_INVALID: 'a rule profile is not a valid profile document (the path names the field)',
  ERR_PROFILE_HASH_MISMATCH: 'the profile does not hash to the profile hash logged with the shipment',
  ERR_INPUT_INVALID: 'an input to the engine (reading, window, chain report, acknowledgement) is malformed',
  ERR_READING_CONFLICT: 'two different readings carry the same device and sequence number',
  ERR_ACK_UNKNOWN_ALARM: 'an acknowledgement names an alarm id that the result does not contain',
} as const

export type ComplianceErrorCode = keyof typeof COMPLIANCE_ERROR_CODES

export class ComplianceError extends Error {
  readonly code: ComplianceErrorCode
  /** JSON path of the offending field, e.g. `$.zones[1].alarmDelayMs`; '' when none applies. */
  readonly path: string
  /** Evidence: expected and actual values. */
  readonly details: Readonly<Record<string, unknown>>
  constructor(code: ComplianceErrorCode, path: string, message: string, details: Record<string, unknown> = {}) {
    super(path ? `${path}: ${message}` : message)
    this.name = 'ComplianceError'
    this.code = code
    this.path = path
    this.details = details
  }
}

export function isComplianceError(e: unknown): e is ComplianceError {
  return e instanceof ComplianceError
}
