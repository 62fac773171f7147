/**
 * ledger/cluster: Partitioned ledgers over NATS JetStream: one ledger per partition and a
 * root log of partition checkpoints (docs/SCALING.md).
 * The only door into this zone for code outside it (docs/ARCHITECTURE.md, "Zones and doors").
 */
export * from './cluster-ingest.ts'
export * from './cluster-shipments.ts'
export * from './root-log.ts'
export * from './subjects.ts'
