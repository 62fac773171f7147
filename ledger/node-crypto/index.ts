/**
 * ledger/node-crypto: SHA-256 and Ed25519 through Node's crypto (OpenSSL): the fast paths of the
 * hashes and signatures the protocol and tlog define, for the server side only.
 * The only door into this zone for code outside it (docs/ARCHITECTURE.md, "Zones and doors").
 */
export * from './ed25519-node.ts'
export * from './node-hash.ts'
