/**
 * A batch of signature checks packed into one buffer, so that it crosses to a
 * worker thread as one transfer, not one structured clone per item: per item
 * the 32-byte key, the 64-byte signature, the message length (2 bytes, big
 * endian) and the message. Pure.
 */
import type { SignatureItem } from './verify-engines.ts'

/** Longest message a batch carries; a reading's signing message is far shorter. */
export const MAX_PACKED_MESSAGE = 0xffff

/** Whether `item` can be packed (a key, a signature or a message of another size is checked where it is). */
export const packable = (item: SignatureItem): boolean =>
  item.pub.length === 32 && item.sig.length === 64 && item.msg.length <= MAX_PACKED_MESSAGE

export function packSignatures(items: SignatureItem[]): Uint8Array<ArrayBuffer> {
  let size = 0
  for (const x of items) size += 98 + x.msg.length
  const buf = new Uint8Array(size)
  let at = 0
  for (const x of items) {
    buf.set(x.pub, at)
    buf.set(x.sig, at + 32)
    buf[at + 96] = x.msg.length >> 8
    buf[at + 97] = x.msg.length & 0xff
    buf.set(x.msg, at + 98)
    at += 98 + x.msg.length
  }
  return buf
}

export function unpackSignatures(buf: Uint8Array, count: number): SignatureItem[] {
  const out: SignatureItem[] = []
  let at = 0
  for (let i = 0; i < count; i++) {
    const len = (buf[at + 96] << 8) | buf[at + 97]
    out.push({
      pub: buf.subarray(at, at + 32),
      sig: buf.subarray(at + 32, at + 96),
      msg: buf.subarray(at + 98, at + 98 + len),
    })
    at += 98 + len
  }
  return out
}
