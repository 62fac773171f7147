/**
 * ledger/tlog: The transparency-log formats and proofs, pure (noble, no Node built-ins, so the
 * browser's bundle verifier runs them): Merkle trees, signed notes, checkpoints,
 * cosignatures, tlog-proofs, the entry codec. Imports only ledger/protocol.
 * The only door into this zone for code outside it (docs/ARCHITECTURE.md, "Zones and doors").
 */
export * from './anchor-format.ts'
export * from './canonical-json.ts'
export * from './checkpoint.ts'
export * from './cosignature.ts'
export * from './entry-codec.ts'
export * from './entry-types.ts'
export * from './gs1-check-digit.ts'
export * from './json-depth.ts'
export * from './logger-windows.ts'
export * from './merkle.ts'
export * from './note.ts'
export * from './profile-hash.ts'
export * from './root-leaf.ts'
export * from './tlog-proof.ts'
