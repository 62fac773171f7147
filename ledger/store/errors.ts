/**
 * Typed errors of the ledger's store, write API and ingest. One catalogue of
 * stable codes (listed in docs/ARCHITECTURE.md, "Storage"); every
 * error carries the evidence that explains it in `details`.
 */
export const LEDGER_ERROR_CODES = {
  ERR_LEDGER_CLOSED: 'the ledger was closed; open it again',
  ERR_LEDGER_FAILED:
    "the database no longer matches the ledger's last durable state after a failed write; restart the ledger (recovery re-reads the last durable state)",
  ERR_LEDGER_DISK_FULL:
    'the disk of the ledger directory is full: writes are refused and retried until space returns (docs/OPERATIONS.md, "Disk full")',
  ERR_LEDGER_WRITE_FAILED:
    'a durable write of the ledger failed (an I/O error): writes are refused and retried until one succeeds',
  ERR_LEDGER_STATE_MISMATCH:
    'the stored tree state does not match the stored entries (the directory was altered outside the ledger)',
  ERR_LEDGER_KEY_FILE: 'the ledger key file is unreadable or malformed',
  ERR_LEDGER_BAD_INPUT: 'an argument of a write or read call is missing or malformed',
  ERR_LEDGER_BAD_DEVICE_KEY:
    'the device public key is refused (see the protocol key check code in details.protocolCode)',
  ERR_LEDGER_DEVICE_EXISTS: 'a device with this id is already registered',
  ERR_LEDGER_DEVICE_UNKNOWN: 'no device with this id is registered',
  ERR_LEDGER_DEVICE_REVOKED: 'the device is already revoked',
  ERR_LEDGER_SHIPMENT_EXISTS: 'a shipment with this id already exists',
  ERR_LEDGER_SHIPMENT_UNKNOWN: 'no shipment with this id exists',
  ERR_LEDGER_SHIPMENT_CLOSED: 'the shipment is already closed',
  ERR_LEDGER_SHIPMENT_RECEIVED: 'the shipment was received already (one receipt per shipment)',
  ERR_LEDGER_EVIDENCE_ENDS_EARLY:
    "a logger's chain does not reach the close time (details.devices: head seq and its device time); close with endsEarly and a reason to confirm",
  ERR_LEDGER_PROFILE_HASH_MISMATCH: 'profileHash is not the SHA-256 of the canonical JSON of the profile',
  ERR_LEDGER_INDEX_RANGE: 'an entry index or tree size is outside the log',
  ERR_LEDGER_DB_MISSING:
    'a ledger existed in the directory (ledger.key or checkpoints.log present) but its database, or its CURRENT file, is missing; restore it (docs/OPERATIONS.md, "Recovery")',
  ERR_LEDGER_DB_DAMAGED:
    'a database file fails its own checksum or LevelDB reports corruption; restore it (docs/OPERATIONS.md, "Recovery")',
  ERR_LEDGER_BEHIND_ANCHOR:
    'the database holds fewer entries than the latest checkpoint in checkpoints.log: acknowledged entries were lost; restore it (docs/OPERATIONS.md, "Recovery")',
  ERR_LEDGER_ROOT_MISMATCH:
    "the database's Merkle root at the size of the latest checkpoint in checkpoints.log differs from that checkpoint's root",
  ERR_LEDGER_CLUSTER_ROOT:
    'a root checkpoint of the cluster mode does not match the partition checkpoints it claims to commit to (details name the leaf or partition)',
  ERR_LEDGER_ANCHOR_DAMAGED:
    'checkpoints.log has a damaged record, or its latest checkpoint does not verify under the ledger key',
  ERR_LEDGER_ANCHOR_MISSING:
    'checkpoints.log is missing or lost records: the database logged a checkpoint that the file (written first) does not hold',
  ERR_LEDGER_CHAIN_ORDER:
    "a reading is not the seq right above its device's chain head (or, to be held, not a missing seq above it)",
  ERR_LEDGER_CHAIN_LINK: "a reading's prevHash is not the hash of its device's chain head",
  ERR_LEDGER_GAP_RANGE: "a declared gap is not exactly the missing range right below the device's lowest held reading",
} as const

export type LedgerErrorCode = keyof typeof LEDGER_ERROR_CODES

export class LedgerError extends Error {
  readonly code: LedgerErrorCode
  readonly details: Readonly<Record<string, unknown>>
  constructor(code: LedgerErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(message)
    this.name = 'LedgerError'
    this.code = code
    this.details = details
  }
}

export function isLedgerError(e: unknown, code?: LedgerErrorCode): e is LedgerError {
  return e instanceof LedgerError && (code === undefined || e.code === code)
}
