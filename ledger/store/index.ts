/**
 * ledger/store: The ledger on disk: the LevelDB log and its indexes, signed checkpoints and
 * their anchor file, the integrity check (fsck), backup and the write API (openLedger).
 * The only door into this zone for code outside it (docs/ARCHITECTURE.md, "Zones and doors").
 */
export * from './anchor-log.ts'
export * from './backup.ts'
export * from './device-chain.ts'
export * from './errors.ts'
export * from './fsck-reader.ts'
export * from './fsck.ts'
export * from './ledger-key.ts'
export * from './ledger.ts'
export * from './log.ts'
export * from './state-types.ts'
export * from './store.ts'
