/**
 * Runs the independent Python verifier (verify_reading.py, written from
 * docs/PROTOCOL.md alone) on payloads, so any test can cross-check what the
 * TypeScript codec produced, e.g. readings a simulated device published over
 * MQTT. Node-only (child_process); not part of the browser-safe index.ts.
 */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { toHex } from '../bytes.ts'

export const PYTHON_VERIFIER_PATH = fileURLToPath(new URL('./verify_reading.py', import.meta.url))

export interface PythonReadingResult {
  index: number
  /** SHA-256 of the payload, hex. */
  payloadHash: string
  /** A ProtocolError code (decoding or ERR_READING_BAD_SIGNATURE), or null. */
  error: string | null
  message?: string
  /** Decoded fields as in the vector files: prevHash hex, optional fields only when present. */
  fields: Record<string, string | number> | null
  /** null when no public key was given for the device (or decoding failed). */
  signatureValid: boolean | null
  /** "unknown" when the input holds no earlier reading of that device and seq > 1. */
  chain: { status: 'ok' | 'broken' | 'unknown'; expectedPrevHash: string | null; previousSeq?: number } | null
  /** Decoded, signature valid, chain not broken. */
  ok: boolean
}

export interface PythonVerifyResult {
  keys: Record<string, { ok: boolean; error: string | null }>
  results: PythonReadingResult[]
  /** Verdicts for `signatures` given in the options, in order. */
  signatures: boolean[]
}

export interface PythonOptions {
  /** Interpreter to run. Default: $COLDPROOF_PYTHON, else 'python3'. */
  python?: string
  /** Plain Ed25519 checks (hex strings) to run with the Python implementation as well. */
  signatures?: ReadonlyArray<{ publicKey: string; message: string; signature: string }>
}

/** Thrown when the interpreter cannot be started: callers may skip with this message. */
export class PythonUnavailableError extends Error {
  readonly code = 'ERR_PYTHON_UNAVAILABLE'
  constructor(message: string) {
    super(message)
    this.name = 'PythonUnavailableError'
  }
}

const defaultPython = (): string => process.env.COLDPROOF_PYTHON || 'python3'

const hexOf = (v: Uint8Array | string): string => (typeof v === 'string' ? v : toHex(v))

/**
 * Verifies payloads with the Python implementation. `publicKeys` maps device
 * id to its registered key; payloads are checked (and chained) in the order
 * given. Rejects with PythonUnavailableError when python3 is absent.
 */
export function verifyWithPython(
  publicKeys: Readonly<Record<string, Uint8Array | string>>,
  payloadsHex: ReadonlyArray<Uint8Array | string>,
  { python = defaultPython(), signatures = [] }: PythonOptions = {},
): Promise<PythonVerifyResult> {
  const input = JSON.stringify({
    publicKeys: Object.fromEntries(Object.entries(publicKeys).map(([id, k]) => [id, hexOf(k)])),
    payloads: payloadsHex.map(hexOf),
    signatures,
  })
  return new Promise((resolve, reject) => {
    const child = spawn(python, [PYTHON_VERIFIER_PATH], { stdio: ['pipe', 'pipe', 'pipe'] })
    const out: Buffer[] = [],
      err: Buffer[] = []
    child.stdout.on('data', (b: Buffer) => out.push(b))
    child.stderr.on('data', (b: Buffer) => err.push(b))
    child.on('error', (e: NodeJS.ErrnoException) => {
      reject(
        e.code === 'ENOENT'
          ? new PythonUnavailableError(
              `"${python}" is not installed or not on PATH: the independent Python verifier cannot run`,
            )
          : e,
      )
    })
    child.on('close', (code) => {
      if (code !== 0)
        return reject(
          new Error(
            `${python} ${PYTHON_VERIFIER_PATH} exited with ${code}: ${Buffer.concat(err).toString('utf8').slice(0, 2000)}`,
          ),
        )
      try {
        resolve(JSON.parse(Buffer.concat(out).toString('utf8')) as PythonVerifyResult)
      } catch (e) {
        reject(new Error(`the Python verifier printed invalid JSON: ${String(e)}`))
      }
    })
    child.stdin.on('error', () => {
      /* reported through 'error' or 'close' */
    })
    child.stdin.end(input)
  })
}

/** True when `python` (default $COLDPROOF_PYTHON or python3) can be started; for tests that skip without it. */
export async function pythonAvailable(python = defaultPython()): Promise<boolean> {
  try {
    await verifyWithPython({}, [], { python })
    return true
  } catch (e) {
    if (e instanceof PythonUnavailableError) return false
    throw e
  }
}
