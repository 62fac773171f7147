/**
 * ledger/witness: Witnesses: cosigning the ledger's checkpoints and keeping their cosignatures.
 * The only door into this zone for code outside it (docs/ARCHITECTURE.md, "Zones and doors").
 */
export * from './attach.ts'
export * from './cosignature-store.ts'
export * from './submit.ts'
export * from './witness-key.ts'
export * from './witness-state.ts'
export * from './witness.ts'
