/** @module Seeded mutations of MPEG video elementary streams for the codec's fuzz and differential tests. */
import type { SeededRandom } from "./seeded-random.ts";

/** Each returns a damaged copy (or view) of `b`; the same generator state gives the same damage. */
export type EsMutation = (b: Uint8Array, rnd: SeededRandom) => Uint8Array;

export const ES_MUTATIONS: Record<string, EsMutation> = {
  flipBytes(b, rnd) {
    const out = b.slice();
    for (let i = 0, n = 1 + rnd.below(20); i < n && out.length > 0; i++)
      out[rnd.below(out.length)] = rnd.below(256);
    return out;
  },
  /** Corrupts the bytes right after a start code, where headers live: the parsers' error paths. */
  flipHeader(b, rnd) {
    const out = b.slice();
    const from = rnd.below(Math.max(1, out.length));
    const at = Buffer.from(out.buffer, out.byteOffset, out.length).indexOf(Buffer.from([0, 0, 1]), from);
    if (at < 0) return out;
    for (let i = 0; i < 1 + rnd.below(3); i++) {
      const k = at + 3 + rnd.below(10);
      if (k < out.length) out[k] = (out[k] as number) ^ (1 << rnd.below(8));
    }
    return out;
  },
  truncate: (b, rnd) => b.subarray(0, rnd.below(b.length + 1)),
  startMidStream: (b, rnd) => b.subarray(rnd.below(b.length + 1)),
  overwriteRange(b, rnd) {
    const out = b.slice();
    const at = rnd.below(out.length + 1);
    const len = Math.min(out.length - at, rnd.below(2000));
    for (let i = 0; i < len; i++) out[at + i] = rnd.next() < 0.3 ? 0 : rnd.below(256);
    return out;
  },
  insertStartCodes(b, rnd) {
    const parts: Uint8Array[] = [];
    let at = 0;
    for (let i = 0; i < 1 + rnd.below(10); i++) {
      const cut = at + rnd.below(Math.max(1, b.length - at));
      parts.push(
        b.subarray(at, cut),
        new Uint8Array([0, 0, 1, rnd.next() < 0.5 ? rnd.below(256) : 0xb3 + rnd.below(6)]),
      );
      at = cut;
    }
    parts.push(b.subarray(at));
    return new Uint8Array(Buffer.concat(parts));
  },
  spliceStreams(b, rnd) {
    const a = rnd.below(b.length + 1);
    const c = rnd.below(b.length + 1);
    return new Uint8Array(
      Buffer.concat([b.subarray(0, Math.min(a, c)), b.subarray(Math.max(a, c) - rnd.below(50))]),
    );
  },
  garbage(_b, rnd) {
    const out = new Uint8Array(rnd.below(3000));
    for (let i = 0; i < out.length; i++)
      out[i] = rnd.next() < 0.2 ? 0 : rnd.next() < 0.1 ? 1 : rnd.below(256);
    return out;
  },
  /** Flips bits in a picture header or picture coding extension: the checks of the kernel's picture heads. */
  flipPictureHead(b, rnd) {
    const out = b.slice();
    const at = randomHeadStart(out, rnd);
    if (at < 0) return out;
    for (let i = 0; i < 1 + rnd.below(2); i++) {
      const k = at + 4 + rnd.below(8);
      if (k < out.length) out[k] = (out[k] as number) ^ (1 << rnd.below(8));
    }
    return out;
  },
  /** Ends a picture header or extension early with another start code: heads cut short. */
  cutPictureHead(b, rnd) {
    const at = randomHeadStart(b, rnd);
    if (at < 0) return b;
    const cut = Math.min(b.length, at + 4 + rnd.below(9));
    const code = [0x00, 0x01, 0xb2, 0xb5, 0xb8, 0xb3][rnd.below(6)] as number;
    return new Uint8Array(
      Buffer.concat([b.subarray(0, cut), new Uint8Array([0, 0, 1, code]), b.subarray(cut)]),
    );
  },
  /** Turns a picture or extension start code into plain bytes (00 00 02): a head without its extension. */
  dropStartCode(b, rnd) {
    const out = b.slice();
    const at = randomHeadStart(out, rnd);
    if (at >= 0) out[at + 2] = 2;
    return out;
  },
};

/** The offset of a random picture (00 00 01 00) or extension (00 00 01 B5) start code in `b`, or -1. */
function randomHeadStart(b: Uint8Array, rnd: SeededRandom): number {
  const starts: number[] = [];
  for (let i = 0; i + 3 < b.length; i++) {
    if (b[i] === 0 && b[i + 1] === 0 && b[i + 2] === 1 && (b[i + 3] === 0 || b[i + 3] === 0xb5))
      starts.push(i);
  }
  return starts.length === 0 ? -1 : (starts[rnd.below(starts.length)] as number);
}
