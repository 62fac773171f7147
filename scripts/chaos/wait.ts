/** Waits of the chaos run: every one is for a condition, with a generous ceiling (no check depends on timing). */
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export async function until<T>(
  what: string,
  ceilingMs: number,
  f: () => Promise<T | undefined | false> | T | undefined | false,
  everyMs = 250,
): Promise<T> {
  const end = Date.now() + ceilingMs
  for (;;) {
    const v = await f()
    if (v) return v
    if (Date.now() > end) throw new Error(`timed out after ${ceilingMs / 1000} s waiting for ${what}`)
    await sleep(everyMs)
  }
}
