/**
 * Just enough of LevelDB's on-disk formats to check their checksums from the
 * outside, before LevelDB itself opens a directory (LevelDB skips a log
 * record whose CRC fails, drops the rest of its block and deletes the log
 * once recovered, without telling its caller; ledger/store/leveldb-check.ts runs
 * this first so that such damage is a loud error instead). Pure: bytes in,
 * findings out. Formats: leveldb doc/log_format.md and doc/table_format.md.
 */

// ---- CRC-32C (Castagnoli), as LevelDB masks it --------------------------------

/**
 * Slicing-by-8 tables: table k maps a byte to its CRC contribution k bytes
 * further on, so the loop below takes 8 bytes per step instead of one (the
 * start-up check reads every table file of the database: this is most of it).
 */
const CRC_TABLES = (() => {
  const t = new Uint32Array(8 * 256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1
    t[n] = c >>> 0
  }
  for (let n = 0; n < 256; n++)
    for (let k = 1; k < 8; k++) t[k * 256 + n] = (t[(k - 1) * 256 + n] >>> 8) ^ t[t[(k - 1) * 256 + n] & 0xff]
  return t
})()

/** CRC-32C of `parts` taken as one byte string. */
export function crc32c(...parts: Uint8Array[]): number {
  const t = CRC_TABLES
  let c = 0xffffffff
  for (const p of parts) {
    const n = p.length
    let i = 0
    for (; i + 8 <= n; i += 8) {
      c ^= p[i] | (p[i + 1] << 8) | (p[i + 2] << 16) | (p[i + 3] << 24)
      c =
        t[1792 + (c & 0xff)] ^
        t[1536 + ((c >>> 8) & 0xff)] ^
        t[1280 + ((c >>> 16) & 0xff)] ^
        t[1024 + (c >>> 24)] ^
        t[768 + p[i + 4]] ^
        t[512 + p[i + 5]] ^
        t[256 + p[i + 6]] ^
        t[p[i + 7]]
    }
    for (; i < n; i++) c = t[(c ^ p[i]) & 0xff] ^ (c >>> 8)
  }
  return (c ^ 0xffffffff) >>> 0
}

/** LevelDB stores CRCs rotated and offset ("masked") so a CRC of data holding CRCs stays well distributed. */
export function unmaskCrc(masked: number): number {
  const rot = (masked - 0xa282ead8) >>> 0
  return ((rot >>> 17) | (rot << 15)) >>> 0
}

export interface Damage {
  /** Byte offset in the file of the damaged record or block. */
  offset: number
  message: string
}

// ---- log files (*.log and MANIFEST-*) ------------------------------------------

const BLOCK = 32 * 1024
const HEADER = 7

/**
 * Checks every physical record of a LevelDB log file. A record cut short by
 * the end of the file is a torn tail (a write that never completed; LevelDB
 * ignores it, and nothing in it was acknowledged), not damage; zero bytes at
 * the end are preallocation. Any complete record whose CRC or type is wrong
 * is damage: LevelDB would silently drop it and the rest of its block.
 */
export function checkLogFile(bytes: Uint8Array): { records: number; damage?: Damage; tornTailAt?: number } {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  let records = 0
  for (let block = 0; block < bytes.length; block += BLOCK) {
    const end = Math.min(block + BLOCK, bytes.length)
    let o = block
    while (end - o >= HEADER) {
      const type = bytes[o + 6]
      const length = dv.getUint16(o + 4, true)
      if (type === 0 && length === 0 && dv.getUint32(o, true) === 0) {
        // Zero padding or preallocated space: the rest of this block must be zero too.
        const nonZero = bytes.subarray(o, end).findIndex((b) => b !== 0)
        if (nonZero >= 0 && end === bytes.length) return { records, tornTailAt: o }
        if (nonZero >= 0)
          return {
            records,
            damage: { offset: o + nonZero, message: `non-zero byte inside zero padding at offset ${o + nonZero}` },
          }
        break
      }
      if (o + HEADER + length > end) {
        if (end === bytes.length) return { records, tornTailAt: o }
        return {
          records,
          damage: {
            offset: o,
            message: `record at offset ${o} claims ${length} bytes, past the end of its 32 KiB block`,
          },
        }
      }
      if (type < 1 || type > 4)
        return { records, damage: { offset: o, message: `record at offset ${o} has unknown type ${type}` } }
      const expected = unmaskCrc(dv.getUint32(o, true))
      const actual = crc32c(bytes.subarray(o + 6, o + HEADER + length))
      if (expected !== actual) {
        return {
          records,
          damage: {
            offset: o,
            message: `record at offset ${o} (${length} bytes, block ${block / BLOCK}) fails its CRC-32C check`,
          },
        }
      }
      records++
      o += HEADER + length
    }
    if (o < end && end - o < HEADER && bytes.subarray(o, end).some((b) => b !== 0)) {
      if (end === bytes.length) return { records, tornTailAt: o }
      return { records, damage: { offset: o, message: `block trailer at offset ${o} is not zero padding` } }
    }
  }
  return { records }
}

// ---- table files (*.ldb, *.sst) ------------------------------------------------

const TABLE_MAGIC_LO = 0x8b80fb57
const TABLE_MAGIC_HI = 0xdb477524
const FOOTER = 48
const TRAILER = 5

class FormatError extends Error {}

function varint(b: Uint8Array, at: { o: number }): number {
  let result = 0,
    shift = 0
  for (;;) {
    if (at.o >= b.length) throw new FormatError('varint runs past the end')
    const x = b[at.o++]
    result += (x & 0x7f) * 2 ** shift
    if (!(x & 0x80)) return result
    shift += 7
    if (shift > 63) throw new FormatError('varint longer than 64 bits')
  }
}

/** Snappy raw-format decompression (github.com/google/snappy, format_description.txt); LevelDB compresses table blocks with it. */
export function snappyDecompress(src: Uint8Array): Uint8Array {
  const at = { o: 0 }
  const out = new Uint8Array(varint(src, at))
  let n = 0
  while (at.o < src.length) {
    const tag = src[at.o++]
    let len: number, offset: number
    switch (tag & 3) {
      case 0: {
        len = tag >>> 2
        if (len >= 60) {
          const bytes = len - 59
          len = 0
          for (let i = 0; i < bytes; i++) len |= src[at.o++] << (8 * i)
        }
        len += 1
        if (at.o + len > src.length || n + len > out.length) throw new FormatError('snappy literal runs past the end')
        out.set(src.subarray(at.o, at.o + len), n)
        at.o += len
        n += len
        continue
      }
      case 1:
        len = ((tag >>> 2) & 7) + 4
        offset = ((tag >>> 5) << 8) | src[at.o++]
        break
      case 2:
        len = (tag >>> 2) + 1
        offset = src[at.o] | (src[at.o + 1] << 8)
        at.o += 2
        break
      default:
        len = (tag >>> 2) + 1
        offset = (src[at.o] | (src[at.o + 1] << 8) | (src[at.o + 2] << 16) | (src[at.o + 3] << 24)) >>> 0
        at.o += 4
    }
    if (offset === 0 || offset > n || n + len > out.length)
      throw new FormatError('snappy copy refers outside the output')
    for (let i = 0; i < len; i++, n++) out[n] = out[n - offset]
  }
  if (n !== out.length) throw new FormatError(`snappy output is ${n} bytes, its header says ${out.length}`)
  return out
}

interface Handle {
  offset: number
  size: number
}

/** Reads a block at `h`, checks its trailer CRC and returns its (decompressed) contents. */
function readBlock(file: Uint8Array, h: Handle, what: string): Uint8Array {
  if (h.offset + h.size + TRAILER > file.length)
    throw new FormatError(`${what} at offset ${h.offset} (${h.size} bytes) runs past the end of the file`)
  const contents = file.subarray(h.offset, h.offset + h.size)
  const type = file[h.offset + h.size]
  const dv = new DataView(file.buffer, file.byteOffset + h.offset + h.size + 1, 4)
  if (unmaskCrc(dv.getUint32(0, true)) !== crc32c(contents, file.subarray(h.offset + h.size, h.offset + h.size + 1))) {
    throw new FormatError(`${what} at offset ${h.offset} (${h.size} bytes) fails its CRC-32C check`)
  }
  if (type === 0) return contents
  if (type === 1) return snappyDecompress(contents)
  throw new FormatError(`${what} at offset ${h.offset} has unknown compression type ${type}`)
}

/** The values of a block's entries (keys are not needed to follow handles). */
function blockValues(block: Uint8Array): Uint8Array[] {
  if (block.length < 4) throw new FormatError('block shorter than its restart count')
  const dv = new DataView(block.buffer, block.byteOffset, block.byteLength)
  const restarts = dv.getUint32(block.length - 4, true)
  const limit = block.length - 4 - 4 * restarts
  if (restarts < 1 || limit < 0) throw new FormatError(`block has an impossible restart count ${restarts}`)
  const out: Uint8Array[] = []
  const at = { o: 0 }
  while (at.o < limit) {
    varint(block, at) // shared key bytes
    const unshared = varint(block, at)
    const valueLength = varint(block, at)
    at.o += unshared
    if (at.o + valueLength > limit) throw new FormatError('block entry runs past its restart array')
    out.push(block.subarray(at.o, at.o + valueLength))
    at.o += valueLength
  }
  return out
}

function handleOf(b: Uint8Array, at = { o: 0 }): Handle {
  return { offset: varint(b, at), size: varint(b, at) }
}

/**
 * Checks a table file: the footer magic, then the CRC of the index and
 * metaindex blocks and of every data block the index names.
 */
export function checkTableFile(file: Uint8Array): { blocks: number; damage?: Damage } {
  let blocks = 0
  let at = 0
  try {
    if (file.length < FOOTER)
      throw new FormatError(`file is ${file.length} bytes, shorter than a table footer (${FOOTER})`)
    const footer = file.subarray(file.length - FOOTER)
    const dv = new DataView(footer.buffer, footer.byteOffset, FOOTER)
    at = file.length - FOOTER
    if (dv.getUint32(40, true) !== TABLE_MAGIC_LO || dv.getUint32(44, true) !== TABLE_MAGIC_HI)
      throw new FormatError('table footer magic number is wrong (file truncated or overwritten)')
    const c = { o: 0 }
    const metaindex = handleOf(footer, c)
    const index = handleOf(footer, c)
    at = metaindex.offset
    readBlock(file, metaindex, 'metaindex block')
    blocks++
    at = index.offset
    const handles = blockValues(readBlock(file, index, 'index block')).map((v) => handleOf(v))
    blocks++
    for (const h of handles) {
      at = h.offset
      blockValues(readBlock(file, h, 'data block'))
      blocks++
    }
    return { blocks }
  } catch (e) {
    if (!(e instanceof FormatError)) throw e
    return { blocks, damage: { offset: at, message: e.message } }
  }
}

// ---- MANIFEST: which table files are live --------------------------------------

/** The logical records of a log file (physical FULL/FIRST/MIDDLE/LAST records joined); stops at the first bad one. */
function logicalRecords(bytes: Uint8Array): Uint8Array[] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const out: Uint8Array[] = []
  let parts: Uint8Array[] | null = null
  for (let block = 0; block < bytes.length; block += BLOCK) {
    const end = Math.min(block + BLOCK, bytes.length)
    let o = block
    while (end - o >= HEADER) {
      const type = bytes[o + 6]
      const length = dv.getUint16(o + 4, true)
      if (type === 0 && length === 0) break
      if (o + HEADER + length > end || type < 1 || type > 4) return out
      if (unmaskCrc(dv.getUint32(o, true)) !== crc32c(bytes.subarray(o + 6, o + HEADER + length))) return out
      const data = bytes.subarray(o + HEADER, o + HEADER + length)
      if (type === 1) {
        out.push(data)
        parts = null
      } else if (type === 2) parts = [data]
      else if (parts) {
        parts.push(data)
        if (type === 4) {
          const whole = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
          let at = 0
          for (const p of parts) {
            whole.set(p, at)
            at += p.length
          }
          out.push(whole)
          parts = null
        }
      }
      o += HEADER + length
    }
  }
  return out
}

/**
 * The numbers of the table files a MANIFEST's version holds (every file added
 * by a version edit and not deleted by a later one), or null when an edit does
 * not parse. A table file outside this set is an orphan, e.g. the output of a
 * compaction cut short by a crash: LevelDB deletes it on open, so its state
 * (even truncated) is no damage.
 */
export function liveTableFiles(manifest: Uint8Array): Set<number> | null {
  const live = new Set<number>()
  try {
    for (const rec of logicalRecords(manifest)) {
      const at = { o: 0 }
      const slice = () => {
        const n = varint(rec, at)
        at.o += n
        if (at.o > rec.length) throw new FormatError('slice runs past the end')
      }
      while (at.o < rec.length) {
        const tag = varint(rec, at)
        switch (tag) {
          case 1:
            slice()
            break // comparator
          case 2:
          case 3:
          case 4:
          case 9:
            varint(rec, at)
            break // log number, next file, last sequence, previous log
          case 5:
            varint(rec, at)
            slice()
            break // compact pointer: level, key
          case 6:
            varint(rec, at)
            live.delete(varint(rec, at))
            break // deleted file: level, number
          case 7:
            varint(rec, at)
            live.add(varint(rec, at))
            varint(rec, at)
            slice()
            slice()
            break // new file: level, number, size, smallest, largest
          default:
            throw new FormatError(`unknown version edit tag ${tag}`)
        }
      }
    }
  } catch (e) {
    if (e instanceof FormatError) return null
    throw e
  }
  return live
}
