/** @module Byte windows of a recording for leak checks: windows inside ranges, complements and gaps, the codec's protected ranges. */
import { indexRecording } from "../../codec/container/index-recording.ts";
import type { ByteRange } from "../../codec/recording-index.ts";

/** n windows of `size` bytes from inside ranges (spread over them), each unique in `bytes` outside those ranges. */
export function windowsInside(
  bytes: Uint8Array,
  ranges: readonly ByteRange[],
  n: number,
  size = 24,
  outside?: Buffer,
): Buffer[] {
  const rest = outside ?? complement(bytes, ranges);
  const out: Buffer[] = [];
  const usable = ranges.filter((r) => r.length >= size * 3);
  for (let i = 0; i < usable.length * 4 && out.length < n; i++) {
    const r = usable[i % usable.length] as ByteRange;
    const at = r.offset + Math.floor((((i * 7919) % 97) / 97) * (r.length - size));
    const w = Buffer.from(bytes.subarray(at, at + size));
    if (rest.indexOf(w) < 0 && !out.some((x) => x.equals(w))) out.push(w);
  }
  return out;
}

/** The bytes outside ranges, concatenated (a split's direct body). */
export function complement(bytes: Uint8Array, ranges: readonly ByteRange[]): Buffer {
  const parts: Uint8Array[] = [];
  let at = 0;
  for (const r of ranges) {
    parts.push(bytes.subarray(at, r.offset));
    at = r.offset + r.length;
  }
  parts.push(bytes.subarray(at));
  return Buffer.concat(parts);
}

/** The gaps between ranges (the P/B pictures and headers of a video), as ranges. */
export function gaps(total: number, ranges: readonly ByteRange[]): ByteRange[] {
  const out: ByteRange[] = [];
  let at = 0;
  for (const r of ranges) {
    if (r.offset > at) out.push({ offset: at, length: r.offset - at });
    at = r.offset + r.length;
  }
  if (total > at) out.push({ offset: at, length: total - at });
  return out;
}

/** The protected (I-picture) ranges the codec finds in a recording, and its I-picture count. */
export function protectedRangesOf(bytes: Uint8Array): { ranges: ByteRange[]; iPictures: number } {
  const idx = indexRecording(bytes);
  return { ranges: idx.protectedRanges, iPictures: idx.counts.I };
}

export function contains(hay: Buffer, needle: Buffer): boolean {
  return hay.indexOf(needle) >= 0;
}
