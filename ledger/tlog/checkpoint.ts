/**
 * C2SP tlog-checkpoint (https://c2sp.org/tlog-checkpoint): the note text a
 * log signs to commit to a tree size and root. "<origin>\n<size>\n<base64 root>\n",
 * then optional non-empty extension lines. Pure.
 */
import { fromBase64, toBase64 } from '../protocol/index.ts'
import { verifyNote, type SignatureVerifier } from './note.ts'

export const CHECKPOINT_ERROR_CODES = {
  ERR_CHECKPOINT_MALFORMED:
    'the checkpoint text does not have an origin, a decimal size and a base64 32-byte root hash on its first three lines',
  ERR_CHECKPOINT_ORIGIN: 'the checkpoint is for another log (its origin line differs from the expected one)',
} as const
export type CheckpointErrorCode = keyof typeof CHECKPOINT_ERROR_CODES

export class CheckpointError extends Error {
  readonly code: CheckpointErrorCode
  readonly details: Readonly<Record<string, unknown>>
  constructor(code: CheckpointErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(message)
    this.name = 'CheckpointError'
    this.code = code
    this.details = details
  }
}

export interface Checkpoint {
  origin: string
  size: number
  rootHash: Uint8Array
  /** Opaque extension lines (tlog-checkpoint: NOT RECOMMENDED; the ledger writes none). */
  extensions?: string[]
}

const bad = (message: string, details: Record<string, unknown> = {}): never => {
  throw new CheckpointError('ERR_CHECKPOINT_MALFORMED', message, details)
}

function checkOrigin(origin: unknown): string {
  if (typeof origin !== 'string' || origin === '' || origin.includes('\n'))
    bad(`origin must be a non-empty single line, got ${JSON.stringify(origin)}`)
  return origin as string
}

/** The checkpoint body; the ledger signs it with signNote. */
export function formatCheckpoint(c: {
  origin: string
  size: number
  rootHash: Uint8Array
  extensions?: string[]
}): string {
  checkOrigin(c.origin)
  if (!Number.isSafeInteger(c.size) || c.size < 0) bad(`size must be a non-negative safe integer, got ${c.size}`)
  if (!(c.rootHash instanceof Uint8Array) || c.rootHash.length !== 32) bad('rootHash must be 32 bytes')
  for (const e of c.extensions ?? [])
    if (e === '' || e.includes('\n')) bad('extension lines must be non-empty single lines')
  return [c.origin, String(c.size), toBase64(c.rootHash), ...(c.extensions ?? [])].join('\n') + '\n'
}

/** Parses a checkpoint body (the note text, not the signed note). */
export function parseCheckpoint(text: string): Checkpoint {
  if (typeof text !== 'string' || !text.endsWith('\n')) bad('checkpoint text must end with a newline')
  const lines = text.slice(0, -1).split('\n')
  if (lines.length < 3) bad(`checkpoint text has ${lines.length} lines; needs origin, size and root hash`)
  const [origin, sizeLine, rootLine, ...extensions] = lines
  checkOrigin(origin)
  // ASCII decimal, no leading zeroes unless the tree is empty.
  if (!/^(0|[1-9][0-9]*)$/.test(sizeLine) || !Number.isSafeInteger(Number(sizeLine)))
    bad(`tree size line ${JSON.stringify(sizeLine)} is not a decimal without leading zeroes`, { line: 2 })
  let rootHash: Uint8Array | undefined
  try {
    rootHash = fromBase64(rootLine)
  } catch {
    /* reported below */
  }
  if (rootHash?.length !== 32 || toBase64(rootHash) !== rootLine)
    bad(`root hash line ${JSON.stringify(rootLine)} is not the standard base64 of 32 bytes`, { line: 3 })
  if (extensions.some((e) => e === '')) bad('extension lines must be non-empty')
  const c: Checkpoint = { origin, size: Number(sizeLine), rootHash: rootHash! }
  if (extensions.length) c.extensions = extensions
  return c
}

/**
 * Verifies a signed checkpoint note under the ledger's verifier key and parses
 * it; with `origin`, also checks it names that log. Throws NoteError or CheckpointError.
 */
export async function verifyCheckpoint(
  note: string,
  vkey: string,
  opts: { origin?: string; verify?: SignatureVerifier } = {},
): Promise<Checkpoint> {
  const { text } = await verifyNote(note, vkey, opts.verify)
  const c = parseCheckpoint(text)
  if (opts.origin !== undefined && c.origin !== opts.origin) {
    throw new CheckpointError(
      'ERR_CHECKPOINT_ORIGIN',
      `checkpoint origin is ${JSON.stringify(c.origin)}, expected ${JSON.stringify(opts.origin)}`,
      { origin: c.origin, expected: opts.origin },
    )
  }
  return c
}
