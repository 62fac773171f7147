/**
 * Crash-safe file replacement, the one copy every part uses: write a temporary
 * file in the target's directory, fsync it, rename it over the target (atomic
 * on POSIX file systems: a reader sees the old file or the new one, never
 * half), then fsync the directory so the rename itself survives a power cut.
 * On failure the temporary file is removed (on a full disk it must not keep
 * the space) and the target is untouched.
 *
 * Node-only, so not exported from the protocol's index (which browsers load);
 * here because it is the one layer device-sim, broker, ledger and dashboard
 * may all import.
 */
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs'
import { open, rename, rm } from 'node:fs/promises'
import { dirname } from 'node:path'

export class AtomicWriteError extends Error {
  readonly code = 'ERR_ATOMIC_WRITE'
  /** The system error code underneath (ENOENT, ENOSPC, EACCES ...). */
  readonly errno: string | undefined
  constructor(path: string, cause: unknown) {
    const c = cause as NodeJS.ErrnoException
    const dir = dirname(path)
    const why =
      c?.code === 'ENOENT'
        ? `the directory ${dir} does not exist`
        : c?.code === 'ENOTDIR'
          ? `${dir} is not a directory`
          : c?.code === 'EACCES' || c?.code === 'EPERM'
            ? `no permission to write in ${dir}`
            : c?.code === 'ENOSPC' || c?.code === 'EDQUOT'
              ? `no space left on the device of ${dir}`
              : String(c?.message ?? cause)
    super(`cannot write ${path}: ${why}`, { cause })
    this.name = 'AtomicWriteError'
    this.errno = c?.code
  }
}

export interface AtomicWriteOptions {
  /** File mode of a new file (default 0o644; use 0o600 for secrets). */
  mode?: number
  /**
   * false: atomic but not durable (no fsync of the file or its directory), for
   * files rebuilt from elsewhere if a crash loses them (tile exports). Default true.
   */
  durable?: boolean
}

// Errors of the file system get the path and an actionable reason; an error of the data source (a stream) passes as it is.
const wrap = (path: string, e: unknown) =>
  (e as NodeJS.ErrnoException)?.syscall !== undefined ? new AtomicWriteError(path, e) : e

let seq = 0
// Unique per call, so two writers of one file never share a temporary file.
const tmpOf = (path: string) => `${path}.${process.pid}.${++seq}.tmp`

/** Replaces `path` with `data` durably; data may be a stream of chunks. Resolves to the bytes written. */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array | AsyncIterable<Uint8Array>,
  opts: AtomicWriteOptions = {},
): Promise<number> {
  const tmp = tmpOf(path)
  let bytes = 0
  try {
    const fh = await open(tmp, 'w', opts.mode ?? 0o644)
    try {
      if (typeof data === 'string' || data instanceof Uint8Array) {
        const b = typeof data === 'string' ? Buffer.from(data, 'utf8') : data
        await fh.writeFile(b)
        bytes = b.length
      } else {
        for await (const chunk of data) {
          await fh.write(chunk)
          bytes += chunk.length
        }
      }
      if (opts.durable !== false) await fh.sync()
    } finally {
      await fh.close()
    }
    await rename(tmp, path)
  } catch (e) {
    await rm(tmp, { force: true }).catch(() => undefined) // nothing to remove where the directory is not one
    throw wrap(path, e)
  }
  if (opts.durable !== false) await fsyncDirAsync(dirname(path))
  return bytes
}

/** The synchronous twin, for the device simulator's small state files written from timers. */
export function writeFileAtomicSync(path: string, data: string | Uint8Array, opts: AtomicWriteOptions = {}): void {
  const tmp = tmpOf(path)
  try {
    const fd = openSync(tmp, 'w', opts.mode ?? 0o644)
    try {
      const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data
      let off = 0
      while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off)
      if (opts.durable !== false) fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    renameSync(tmp, path)
  } catch (e) {
    try {
      rmSync(tmp, { force: true })
    } catch {
      /* nothing to remove where the directory is not one */
    }
    throw wrap(path, e)
  }
  if (opts.durable !== false) fsyncDir(dirname(path))
}

/** fsync a directory (a rename or a new file in it survives a crash); a no-op where the platform refuses. */
export function fsyncDir(dir: string): void {
  let fd: number | undefined
  try {
    fd = openSync(dir, 'r')
    fsyncSync(fd)
  } catch {
    // Some platforms cannot fsync a directory; the rename is still atomic.
  } finally {
    if (fd !== undefined) closeSync(fd)
  }
}

export async function fsyncDirAsync(dir: string): Promise<void> {
  let fh
  try {
    fh = await open(dir, 'r')
    await fh.sync()
  } catch {
    // As fsyncDir.
  } finally {
    await fh?.close()
  }
}
