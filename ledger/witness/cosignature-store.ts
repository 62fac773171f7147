/**
 * Cosignatures a ledger obtained from its witnesses, kept beside the ledger
 * (`<ledgerDir>/cosignatures/<size>`: the checkpoint note with every witness
 * line gathered so far, replaced atomically). Bundles built later carry them
 * (`withCosignatures`), so `coldproof verify --witness` can check them offline.
 */
import { mkdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseCheckpoint } from '../tlog/index.ts'
import { parseNote } from '../tlog/index.ts'
import { addSignatureLines } from '../tlog/index.ts'
import { writeFileAtomic } from '../protocol/atomic-file.ts'

export const COSIGNATURE_DIR = 'cosignatures'

const sizeOf = (note: string): number => parseCheckpoint(parseNote(note).text).size
const fileOf = (ledgerDir: string, note: string) => join(ledgerDir, COSIGNATURE_DIR, String(sizeOf(note)))

/** `note` with the cosignature lines stored for the same checkpoint (same text); the note itself when none are. */
export async function withCosignatures(ledgerDir: string, note: string): Promise<string> {
  let stored: string
  try {
    stored = await readFile(fileOf(ledgerDir, note), 'utf8')
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return note
    throw e
  }
  const s = parseNote(stored),
    n = parseNote(note)
  if (s.text !== n.text) return note
  return addSignatureLines(note, stored.slice(stored.lastIndexOf('\n\n') + 2))
}

/** Adds verified witness lines to the stored cosigned note of this checkpoint. Serialise calls per ledger. */
export async function storeCosignatures(ledgerDir: string, note: string, lines: string): Promise<string> {
  await mkdir(join(ledgerDir, COSIGNATURE_DIR), { recursive: true })
  const merged = addSignatureLines(await withCosignatures(ledgerDir, note), lines)
  await writeFileAtomic(fileOf(ledgerDir, note), merged)
  return merged
}
