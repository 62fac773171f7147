/**
 * The LevelDB key layout of a ledger directory: one place that names every
 * key. Keys are UTF-8 strings ordered bytewise; numbers are zero-padded
 * decimal so that lexicographic order is numeric order, and '!' separates
 * segments (device and shipment ids cannot contain it), so a prefix scan of
 * one id never reads another's keys.
 *
 *   e!<index>                         entry bytes (canonical JSON)
 *   n!<level>!<index>                 RFC 6962 perfect-subtree hash (32 bytes)
 *   m!tree                            tree state { size, frontier, lastHash }
 *   m!stats                           counters (batches, entries, quarantine by reason)
 *   m!checkpoint                      latest signed checkpoint { note, size, rootHash }
 *   t!<type>!<index>                  entries by type
 *   r!<device>!<seq>                  reading by device and sequence -> { i, h, p, t }
 *   rt!<device>!<deviceTime>!<seq>    reading by device and device time -> index
 *   rs!<shipment>!<deviceTime>!<device>!<seq>   reading by shipment and device time -> index
 *   pc!<shipment>!<device>!<seq>      post-close reading of a shipment (above its close anchor, device time in the window) -> index
 *   d!<device>                        latest device state
 *   s!<shipment>                      shipment state
 *   q!<n>                             quarantined message n (outside the log)
 *   h!<device>!<seq>                  held reading above a gap (outside the log) -> { payload, h, p, t, receivedAt }
 */
/**
 * Zero-padding as String(n).padStart(width, '0'), from a table of the zeros
 * each digit count needs: every committed entry builds about ten keys, and
 * padStart made a new filler string for each.
 */
function padder(width: number): (n: number) => string {
  const zeros = Array.from({ length: width + 1 }, (_, digits) => '0'.repeat(width - digits))
  return (n) => {
    const s = String(n)
    return s.length < width ? zeros[s.length] + s : s
  }
}
const pad2 = padder(2)
/** 2^53 has 16 decimal digits; u32 sequences have 10. */
const I = padder(16)
const S = padder(10)
/** Upper bound suffix for prefix scans: '~' sorts after every id character, digit and '!'. */
export const END = '~'

export const K = {
  entry: (i: number) => `e!${I(i)}`,
  node: (level: number, index: number) => `n!${pad2(level)}!${I(index)}`,
  tree: 'm!tree',
  stats: 'm!stats',
  checkpoint: 'm!checkpoint',
  byType: (type: string, i: number) => `t!${type}!${I(i)}`,
  byTypePrefix: (type: string) => `t!${type}!`,
  reading: (device: string, seq: number) => `r!${device}!${S(seq)}`,
  readingPrefix: (device: string) => `r!${device}!`,
  readingTime: (device: string, time: number, seq: number) => `rt!${device}!${I(time)}!${S(seq)}`,
  readingTimeFrom: (device: string, time: number) => `rt!${device}!${I(time)}`,
  readingTimePrefix: (device: string) => `rt!${device}!`,
  shipmentReading: (ship: string, time: number, device: string, seq: number) =>
    `rs!${ship}!${I(time)}!${device}!${S(seq)}`,
  shipmentReadingFrom: (ship: string, time: number) => `rs!${ship}!${I(time)}`,
  shipmentReadingPrefix: (ship: string) => `rs!${ship}!`,
  postClose: (ship: string, device: string, seq: number) => `pc!${ship}!${device}!${S(seq)}`,
  postClosePrefix: (ship: string) => `pc!${ship}!`,
  device: (id: string) => `d!${id}`,
  devicePrefix: 'd!',
  shipment: (id: string) => `s!${id}`,
  shipmentPrefix: 's!',
  quarantine: (n: number) => `q!${I(n)}`,
  quarantinePrefix: 'q!',
  held: (device: string, seq: number) => `h!${device}!${S(seq)}`,
  heldPrefix: (device: string) => `h!${device}!`,
} as const

/** The index number at the end of a `t!` or `e!` key. */
export function indexOfKey(key: string): number {
  return Number(key.slice(key.lastIndexOf('!') + 1))
}

/** The parts of derived-data keys (the integrity check reads them back, ledger/store/fsck-derived.ts). */
export const parseKey = {
  node(key: string): { level: number; index: number } {
    const [, level, index] = key.split('!')
    return { level: Number(level), index: Number(index) }
  },
  byType(key: string): { type: string; index: number } {
    const [, type, index] = key.split('!')
    return { type, index: Number(index) }
  },
  reading(key: string): { device: string; seq: number } {
    const [, device, seq] = key.split('!')
    return { device, seq: Number(seq) }
  },
}
