/**
 * Lowercase hex of bytes through Node's Buffer, for the store's per-entry
 * path: the protocol's toHex runs in browsers too and builds its string two
 * characters at a time (a string per step); this makes one. Same output.
 */
export const hexOf = (bytes: Uint8Array): string =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
