/** The Merkle tree the checker rebuilds from the entries' leaf hashes: its root now and at any earlier size. */
import { appendLeaf, nodeHash, rootAt, rootFromFrontier, type NodeReader } from '../tlog/index.ts'

/** Packed leaf hashes, 32 bytes each: enough to recompute the root at any earlier size. */
class Leaves {
  private buf = new Uint8Array(32 * 1024)
  length = 0
  push(h: Uint8Array) {
    if ((this.length + 1) * 32 > this.buf.length) {
      const b = new Uint8Array(this.buf.length * 2)
      b.set(this.buf)
      this.buf = b
    }
    this.buf.set(h, this.length * 32)
    this.length++
  }
  readonly reader: NodeReader = async (level, index) => {
    const hashAt = (l: number, i: number): Uint8Array =>
      l === 0 ? this.buf.subarray(i * 32, i * 32 + 32) : nodeHash(hashAt(l - 1, 2 * i), hashAt(l - 1, 2 * i + 1))
    return hashAt(level, index)
  }
}

export class RebuiltTree {
  readonly #leaves = new Leaves()
  #frontier: Uint8Array[] = []

  /** Leaves appended so far. */
  get size(): number {
    return this.#leaves.length
  }

  append(leaf: Uint8Array): void {
    this.#frontier = appendLeaf(this.#frontier, this.#leaves.length, leaf).frontier
    this.#leaves.push(leaf)
  }

  root(): Uint8Array {
    return rootFromFrontier(this.#frontier)
  }

  /** The root of the first `size` leaves (size <= this.size). */
  async rootOfPrefix(size: number): Promise<Uint8Array> {
    return size === this.#leaves.length ? rootFromFrontier(this.#frontier) : rootAt(size, this.#leaves.reader)
  }
}
