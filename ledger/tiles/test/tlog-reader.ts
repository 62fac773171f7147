/**
 * An independent tlog-tiles reader, for tests only. It imports nothing of
 * ColdProof (only node:crypto and node:http), so a reader test built on it
 * checks the exported files against the C2SP specs, not against the code
 * that wrote them: signed-note (Ed25519 verifier keys, key ids), the
 * tlog-checkpoint body, the tile and entry-bundle layout of tlog-tiles, and
 * the RFC 6962 / RFC 9162 hashing and inclusion proofs.
 */
import { createHash, createPublicKey, verify } from 'node:crypto'
import { get } from 'node:http'

const sha256 = (...parts: Buffer[]): Buffer => {
  const h = createHash('sha256')
  for (const p of parts) h.update(p)
  return h.digest()
}
const leaf = (entry: Buffer): Buffer => sha256(Buffer.from([0]), entry)
const node = (l: Buffer, r: Buffer): Buffer => sha256(Buffer.from([1]), l, r)

/** GET base + path over plain HTTP; rejects on any status but 200. */
export function httpGet(
  base: string,
  path: string,
): Promise<{ body: Buffer; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    get(new URL(path, base), (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () =>
        res.statusCode === 200
          ? resolve({ body: Buffer.concat(chunks), headers: res.headers })
          : reject(new Error(`GET ${path}: HTTP ${res.statusCode}`)),
      )
      res.on('error', reject)
    }).on('error', reject)
  })
}

/** signed-note verifier key "name+hex keyid+base64(0x01 || key)", its key id checked. */
export function parseVkey(vkey: string): { name: string; keyId: Buffer; key: Buffer } {
  const a = vkey.indexOf('+'),
    b = vkey.indexOf('+', a + 1)
  if (a < 0 || b < 0) throw new Error('not a verifier key')
  const name = vkey.slice(0, a),
    id = vkey.slice(a + 1, b),
    b64 = vkey.slice(b + 1)
  const raw = Buffer.from(b64, 'base64')
  if (raw.length !== 33 || raw[0] !== 1) throw new Error('not an Ed25519 verifier key')
  const keyId = sha256(Buffer.from(name, 'utf8'), Buffer.from([0x0a, 0x01]), raw.subarray(1)).subarray(0, 4)
  if (keyId.toString('hex') !== id) throw new Error('key id does not match the key')
  return { name, keyId, key: raw.subarray(1) }
}

/** Verifies a signed note under the key (RFC 8410 SPKI wrapping for node:crypto) and returns its text. */
export function verifyNote(note: string, vkey: string): string {
  const k = parseVkey(vkey)
  const split = note.lastIndexOf('\n\n')
  if (split < 0) throw new Error('no signature block')
  const text = note.slice(0, split + 1)
  const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), k.key])
  const publicKey = createPublicKey({ key: spki, format: 'der', type: 'spki' })
  let ok = false
  for (const line of note
    .slice(split + 2)
    .split('\n')
    .filter(Boolean)) {
    const m = /^\u2014 (\S+) (\S+)$/.exec(line)
    if (!m) throw new Error(`bad signature line ${line}`)
    const sig = Buffer.from(m[2], 'base64')
    if (m[1] !== k.name || !sig.subarray(0, 4).equals(k.keyId)) continue
    if (!verify(null, Buffer.from(text, 'utf8'), publicKey, sig.subarray(4)))
      throw new Error('signature does not verify')
    ok = true
  }
  if (!ok) throw new Error('no signature by the key')
  return text
}

export function parseCheckpointText(text: string): { origin: string; size: number; root: Buffer } {
  const [origin, size, root] = text.split('\n')
  if (!/^(0|[1-9][0-9]*)$/.test(size)) throw new Error('bad size line')
  const r = Buffer.from(root, 'base64')
  if (r.length !== 32) throw new Error('bad root line')
  return { origin, size: Number(size), root: r }
}

export function tileIndexPath(n: number): string {
  const parts: string[] = []
  for (let rest = n; ; rest = Math.floor(rest / 1000)) {
    parts.unshift(String(rest % 1000).padStart(3, '0'))
    if (rest < 1000) break
  }
  return parts.map((p, i) => (i < parts.length - 1 ? 'x' + p : p)).join('/')
}

/** MTH over a list of hashes (RFC 6962 2.1). */
export function mth(hs: Buffer[]): Buffer {
  if (hs.length === 0) return sha256()
  if (hs.length === 1) return hs[0]
  let k = 1
  while (k * 2 < hs.length) k *= 2
  return node(mth(hs.slice(0, k)), mth(hs.slice(k)))
}

export interface TiledLog {
  checkpoint: { origin: string; size: number; root: Buffer }
  /** Every leaf hash, from the level-0 hash tiles. */
  leafHashes: Buffer[]
  /** Every entry, from the entry bundles. */
  entries: Buffer[]
  /** The root hashed up from the level-0 tiles through the upper tile levels. */
  rootFromTiles: Buffer
  /** The root of the entries' leaf hashes. */
  rootFromEntries: Buffer
  /** hash(level, index) of the Merkle tree, read from the tiles. */
  nodeAt(level: number, index: number): Buffer
  /** MTH(D[begin:end]), from the largest perfect subtrees the tiles hold. */
  rangeRoot(begin: number, end: number): Buffer
  fetched: string[]
}

/** Fetches the checkpoint (verified under vkey) and every tile and bundle its size needs. */
export async function readTiledLog(base: string, vkey: string): Promise<TiledLog> {
  const fetched: string[] = []
  const fetch = async (p: string) => {
    fetched.push(p)
    return (await httpGet(base, p)).body
  }
  const checkpoint = parseCheckpointText(verifyNote((await fetch('checkpoint')).toString('utf8'), vkey))
  const { size } = checkpoint
  // tiles[level] = concatenated hashes of that tile level (full tiles, then the partial one).
  const tiles: Buffer[][] = []
  for (let level = 0, width = size; width > 0; level++, width = Math.floor(width / 256)) {
    const hs: Buffer[] = []
    for (let n = 0; n * 256 < width; n++) {
      const w = Math.min(256, width - n * 256)
      const body = await fetch(`tile/${level}/${tileIndexPath(n)}${w < 256 ? `.p/${w}` : ''}`)
      if (body.length !== 32 * w) throw new Error(`tile ${level}/${n} has ${body.length} bytes, expected ${32 * w}`)
      for (let i = 0; i < w; i++) hs.push(body.subarray(32 * i, 32 * i + 32))
      // Each hash of a level above is the MTH of a full tile below.
      if (level > 0)
        for (let i = 0; i < w; i++) {
          const below = tiles[level - 1].slice((n * 256 + i) * 256, (n * 256 + i + 1) * 256)
          if (!mth(below).equals(hs[n * 256 + i]))
            throw new Error(`tile ${level}/${n} hash ${i} is not the root of tile ${level - 1}/${n * 256 + i}`)
        }
    }
    tiles.push(hs)
  }
  const entries: Buffer[] = []
  for (let n = 0; n * 256 < size; n++) {
    const w = Math.min(256, size - n * 256)
    const body = await fetch(`tile/entries/${tileIndexPath(n)}${w < 256 ? `.p/${w}` : ''}`)
    let at = 0
    while (at < body.length) {
      const len = body.readUInt16BE(at)
      entries.push(body.subarray(at + 2, at + 2 + len))
      at += 2 + len
    }
    if (entries.length !== n * 256 + w)
      throw new Error(`entry bundle ${n} holds ${entries.length - n * 256} entries, expected ${w}`)
  }
  const leafHashes = tiles[0] ?? []
  // nodeAt: perfect subtree (level, index), from tile level floor(level/8).
  const nodeAt = (level: number, index: number): Buffer => {
    const t = tiles[Math.floor(level / 8)],
      span = 2 ** (level % 8)
    return mth(t.slice(index * span, (index + 1) * span))
  }
  // The root from the tiles: RFC 6962's split, reading the largest perfect subtrees from the tiles.
  const rangeRoot = (begin: number, end: number): Buffer => {
    const n = end - begin
    const lvl = Math.log2(n)
    if (Number.isInteger(lvl) && begin % n === 0) return nodeAt(lvl, begin / n)
    let k = 1
    while (k * 2 < n) k *= 2
    return node(rangeRoot(begin, begin + k), rangeRoot(begin + k, end))
  }
  return {
    checkpoint,
    leafHashes,
    entries,
    fetched,
    nodeAt,
    rangeRoot,
    rootFromTiles: size === 0 ? sha256() : rangeRoot(0, size),
    rootFromEntries: mth(entries.map(leaf)),
  }
}

export const leafHashOf = leaf

/** RFC 6962 2.1.1 PATH(m, D[n]) computed from the tiles' perfect subtrees, leaf's sibling first. */
export function inclusionPath(log: TiledLog, index: number): Buffer[] {
  const out: Buffer[] = []
  const sub = (m: number, begin: number, end: number): void => {
    if (end - begin <= 1) return
    let k = 1
    while (k * 2 < end - begin) k *= 2
    if (m < begin + k) {
      sub(m, begin, begin + k)
      out.push(log.rangeRoot(begin + k, end))
    } else {
      sub(m, begin + k, end)
      out.push(log.rangeRoot(begin, begin + k))
    }
  }
  sub(index, 0, log.checkpoint.size)
  return out
}

/** RFC 9162 2.1.3.2 inclusion verification. */
export function verifyInclusionPath(
  leafHash: Buffer,
  index: number,
  size: number,
  path: Buffer[],
  root: Buffer,
): boolean {
  if (index >= size) return false
  let fn = index,
    sn = size - 1,
    r = leafHash
  for (const p of path) {
    if (sn === 0) return false
    if (fn % 2 === 1 || fn === sn) {
      r = node(p, r)
      if (fn % 2 === 0)
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2)
          sn = Math.floor(sn / 2)
        }
    } else r = node(r, p)
    fn = Math.floor(fn / 2)
    sn = Math.floor(sn / 2)
  }
  return sn === 0 && r.equals(root)
}
