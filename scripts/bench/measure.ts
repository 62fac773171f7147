/**
 * Tiny measuring helpers for `coldproof bench`: run a body repeatedly for a
 * time budget and report operations per second. Figures are measured, never
 * asserted: the benchmark prints, the tests do not time anything.
 */
export interface Figure {
  name: string
  ops: number
  ms: number
  perSecond: number
}

/** Runs `body(i)` (sync) until `budgetMs` has passed; returns ops/s. */
export function measureSync(name: string, budgetMs: number, body: (i: number) => void): Figure {
  for (let i = 0; i < 50; i++) body(i) // warm-up
  const start = performance.now()
  let ops = 0
  while (performance.now() - start < budgetMs) {
    for (let k = 0; k < 20; k++) body(ops++)
  }
  const ms = performance.now() - start
  return { name, ops, ms, perSecond: (ops * 1000) / ms }
}

/** Runs `body(i)` (async, awaited one at a time) until `budgetMs` has passed. */
export async function measureAsync(name: string, budgetMs: number, body: (i: number) => Promise<void>): Promise<Figure> {
  for (let i = 0; i < 20; i++) await body(i)
  const start = performance.now()
  let ops = 0
  while (performance.now() - start < budgetMs) await body(ops++)
  const ms = performance.now() - start
  return { name, ops, ms, perSecond: (ops * 1000) / ms }
}

/** Times one async job of `ops` operations. */
export async function measureBatch(name: string, ops: number, job: () => Promise<void>): Promise<Figure> {
  const start = performance.now()
  await job()
  const ms = performance.now() - start
  return { name, ops, ms, perSecond: (ops * 1000) / ms }
}

export function formatRate(n: number): string {
  return n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(1)
}

export function printTable(title: string, rows: Figure[], baseline?: Figure): void {
  console.log(`\n${title}`)
  const w = Math.max(...rows.map((r) => r.name.length))
  for (const r of rows) {
    const ratio = baseline && r !== baseline ? `  ×${(r.perSecond / baseline.perSecond).toFixed(2)} vs ${baseline.name}` : ''
    console.log(`  ${r.name.padEnd(w)}  ${formatRate(r.perSecond).padStart(10)} /s  (${r.ops} ops in ${r.ms.toFixed(0)} ms)${ratio}`)
  }
}
