/** @module writeVarint(): the unsigned LEB128 numbers of the pattern header's tables, written in place, and varintBytes(), how many bytes each takes. */

/** Below this a value fits 31 bits and the varint code can shift instead of divide. */
const SMALL = 0x80000000;

/** Writes `v` (0 ≤ v ≤ 2^53 − 1) as an unsigned LEB128 varint at `at`; returns the end. */
export function writeVarint(out: Uint8Array, at: number, v: number): number {
  if (v < SMALL) {
    while (v >= 0x80) {
      out[at++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    out[at++] = v;
    return at;
  }
  while (v >= 0x80) {
    out[at++] = (v % 128) | 0x80;
    v = Math.floor(v / 128);
  }
  out[at++] = v;
  return at;
}

/** Bytes writeVarint() takes for `v` (0 ≤ v ≤ 2^53 − 1): a header's length is counted before it is written. */
export function varintBytes(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}
