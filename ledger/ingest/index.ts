/**
 * ledger/ingest: The MQTT ingest: subscribes to device readings, verifies them on a worker
 * pool, appends accepted ones to the store and acknowledges after commit.
 * The only door into this zone for code outside it (docs/ARCHITECTURE.md, "Zones and doors").
 */
export * from './ingest.ts'
