/**
 * A binary min-heap of (time, item), ties broken by insertion order so that
 * devices due at the same instant always run in the same order (determinism).
 * The fleet keeps every device's next sample time here and runs one timer
 * for the earliest, instead of one timer per device.
 */
interface Node<T> {
  at: number
  order: number
  item: T
}

export class MinHeap<T> {
  private nodes: Node<T>[] = []
  private counter = 0

  get size(): number {
    return this.nodes.length
  }

  push(at: number, item: T): void {
    const n = { at, order: this.counter++, item }
    const a = this.nodes
    a.push(n)
    let i = a.length - 1
    while (i > 0) {
      const p = (i - 1) >> 1
      if (!this.less(a[i], a[p])) break
      ;[a[i], a[p]] = [a[p], a[i]]
      i = p
    }
  }

  peekTime(): number | undefined {
    return this.nodes[0]?.at
  }

  pop(): { at: number; item: T } | undefined {
    const a = this.nodes
    if (a.length === 0) return undefined
    const top = a[0]
    const last = a.pop() as Node<T>
    if (a.length > 0) {
      a[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1,
          r = l + 1
        let m = i
        if (l < a.length && this.less(a[l], a[m])) m = l
        if (r < a.length && this.less(a[r], a[m])) m = r
        if (m === i) break
        ;[a[i], a[m]] = [a[m], a[i]]
        i = m
      }
    }
    return { at: top.at, item: top.item }
  }

  private less(x: Node<T>, y: Node<T>): boolean {
    return x.at < y.at || (x.at === y.at && x.order < y.order)
  }
}
