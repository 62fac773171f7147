/**
 * ColdProof compliance engine: the public surface. Pure code (no I/O, no clock);
 * runs in Node and browsers. Rules and sources: docs/COMPLIANCE.md.
 *
 *   validateProfile(json): RuleProfile                 throws ERR_PROFILE_INVALID naming the field path
 *   profileHash(profile): string                       hex SHA-256 of the canonical JSON
 *   BUILTIN_PROFILES                                   the standard storage classes, by id
 *   BUILTIN_PROFILE_HASHES                             shipped hashes of every released built-in version
 *   profileOrigin(profile, hash)                       builtin | custom | impersonation (a built-in id, another hash)
 *   profileRules(profile): string[]                    the rules as people read them (CLI, Verify page, PDF)
 *   evaluateShipment(input): ShipmentResult            all sensors from scratch; refuses a profile that
 *                                                      does not match input.profileHash (ERR_PROFILE_HASH_MISMATCH)
 *   createSensorEvaluator({ profile, deviceId, window, unjudged? })
 *       .add(reading): { added: events, retracted: ids }   live, any arrival order
 *       .addAll(readings): same, one re-fold for a backfill burst
 *       .result(): SensorResult                            equals the batch result for the same readings
 *   attachAcknowledgements(result, acks): AcknowledgedResult   never changes the verdict
 *   acknowledgementFromEntry(entry): Acknowledgement   from an 'alarm.ack' log entry
 *   mkt(samples), timeWeightedMean(samples)            integer centi-°C, half-even
 *   formatDuration(ms), formatCentiC(c), formatUtc(ms), formatDegreeMinutes(a)   message text ("6 h 10 min", "8.01 °C")
 *
 * Units: temperatures integer centi-°C, times and durations integer ms,
 * areas integer centi-°C·ms (÷ 6 000 000 for °C·min). Results are plain JSON
 * for ledger/tlog/canonical-json.ts.
 */
export { validateProfile, profileHash, PROFILE_SCHEMA, PROFILE_FORMAT, PROFILE_FORMAT_VERSION } from './profile.ts'
export type { RuleProfile, Zone, HardLimit, PriorUsage, Side, StorageClass } from './profile.ts'
export { BUILTIN_PROFILES } from './builtin-profiles.ts'
export type { BuiltinProfileId } from './builtin-profiles.ts'
export { BUILTIN_PROFILE_HASHES } from './builtin-hashes.ts'
export { profileOrigin, impersonationMessage, isBuiltinName } from './profile-origin.ts'
export type { ProfileOrigin } from './profile-origin.ts'
export { profileRules } from './rule-summary.ts'
export { evaluateShipment, RESULT_FORMAT, ENGINE_VERSION } from './shipment.ts'
export type { ShipmentInput, ShipmentResult, ChainBreak, EvidenceNotice } from './shipment.ts'
export { createSensorEvaluator } from './sensor-evaluator.ts'
export type { SensorEvaluator, SensorEvaluatorOptions, AddOutcome } from './sensor-evaluator.ts'
export { ALARM_KINDS } from './engine.ts'
export type { ComplianceEvent, EventKind, EndReason, FaultReason, FaultEpisode, EngineReading } from './engine.ts'
export { formatDuration, formatCentiC, formatUtc, formatDegreeMinutes } from './format.ts'
export { VERDICT_ORDER } from './verdict.ts'
export type { Verdict, Reason, ReasonCode, SensorResult, ZoneSummary } from './verdict.ts'
export { attachAcknowledgements, acknowledgementFromEntry } from './acknowledge.ts'
export type { Acknowledgement, AcknowledgedResult } from './acknowledge.ts'
export { mkt, timeWeightedMean, MKT_DELTA_H, MKT_GAS_CONSTANT } from './mkt.ts'
export type { TimedSample } from './mkt.ts'
export type { TimeWindow, UnjudgedWindow } from './judged-time.ts'
export { ComplianceError, isComplianceError, COMPLIANCE_ERROR_CODES } from './errors.ts'
export type { ComplianceErrorCode } from './errors.ts'
