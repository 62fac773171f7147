/**
 * ledger/tiles: The log served as C2SP tlog-tiles (static files and HTTP routes).
 * The only door into this zone for code outside it (docs/ARCHITECTURE.md, "Zones and doors").
 */
export * from './export.ts'
export * from './ledger-source.ts'
export * from './publish.ts'
export * from './serve.ts'
export * from './tile-path.ts'
