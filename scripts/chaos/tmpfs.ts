/** Disk full needs a filesystem of its own to fill: a tmpfs over the system's data directory, when this process may mount one. */
import { spawn, spawnSync } from 'node:child_process'
import { mkdirSync } from 'node:fs'

export interface TmpfsMount {
  readonly mounted: boolean
  /** Lazy unmount: the tmpfs and what it holds go away. */
  unmount(): Promise<void>
}

/** Mounts a tmpfs of `sizeMiB` over `dir`, or says why it was skipped. */
export async function mountTmpfs(dir: string, sizeMiB: number): Promise<{ mount: TmpfsMount } | { skipped: string }> {
  if (process.getuid?.() !== 0) return { skipped: 'skipped (not root: a tmpfs to fill cannot be mounted)' }
  mkdirSync(dir, { recursive: true })
  const m = await new Promise<{ code: number | null; err: string }>((res) => {
    const p = spawn('mount', ['-t', 'tmpfs', '-o', `size=${sizeMiB}m`, 'tmpfs', dir], {
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    let err = ''
    p.stderr!.on('data', (d) => {
      err += d
    })
    p.on('error', (e) => res({ code: -1, err: e.message }))
    p.on('close', (code) => res({ code, err }))
  })
  if (m.code !== 0)
    return { skipped: `skipped (mount -t tmpfs refused: ${m.err.trim().split('\n')[0] || `exit ${m.code}`})` }
  let mounted = true
  // If this process dies before its finally block (a test timeout), the mount still goes.
  process.once('exit', () => {
    if (mounted) spawnSync('umount', ['-l', dir])
  })
  return {
    mount: {
      get mounted() {
        return mounted
      },
      async unmount() {
        await new Promise((res) => spawn('umount', ['-l', dir]).on('close', res))
        mounted = false
      },
    },
  }
}
