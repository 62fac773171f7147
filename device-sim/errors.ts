/**
 * Typed errors of the simulated firmware. Each carries a stable code (listed in
 * device-sim/README.md, "Error codes") and the evidence that explains it.
 */
export const SIM_ERROR_CODES = {
  ERR_SCENARIO_INVALID: 'a scenario file is not valid JSON or breaks the scenario schema',
  ERR_SCENARIO_NOT_FOUND: 'no scenario file or built-in scenario has that name',
  ERR_KEY_FILE_EXISTS: 'a key file already exists and is never overwritten',
  ERR_KEY_FILE_INVALID: 'a key file cannot be read or does not hold a valid Ed25519 key pair',
  ERR_STATE_CORRUPT: 'a persisted chain state or buffer file cannot be read',
  ERR_SIM_OPTIONS: 'an option passed to the simulator is invalid',
} as const

export type SimErrorCode = keyof typeof SIM_ERROR_CODES

export class SimError extends Error {
  readonly code: SimErrorCode
  readonly details: Readonly<Record<string, unknown>>
  constructor(code: SimErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(message)
    this.name = 'SimError'
    this.code = code
    this.details = details
  }
}

/** A scenario that breaks the schema: `path` names the field, e.g. `shipments[0].legs[2].durationMin`. */
export class ScenarioError extends SimError {
  readonly path: string
  constructor(path: string, message: string, details: Record<string, unknown> = {}) {
    super('ERR_SCENARIO_INVALID', path ? `${path} ${message}` : message, { path, ...details })
    this.name = 'ScenarioError'
    this.path = path
  }
}
