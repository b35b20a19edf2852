/** @module PatternCipher over keystreams longer than its window: the ciphertext is the range bytes XOR one contiguous keystream, for any chunking. */
import { describe, expect, test } from "bun:test";
import { makePatternKeystream } from "../../crypto/keystream.ts";
import { TestRandom } from "../mpeg-video/test-random.ts";
import type { ByteRange } from "../recording-index.ts";
import { PatternCipher } from "./pattern-cipher.ts";

const SESSION_KEY = new Uint8Array(32).map((_, i) => i * 13 + 5);
const SALT = new Uint8Array(16).map((_, i) => i * 3);

/** The reference: gather every range byte, XOR the run with the keystream from position 0 in one call, scatter. */
async function reference(body: Uint8Array, ranges: ByteRange[]): Promise<Uint8Array> {
  const ks = await makePatternKeystream(SESSION_KEY, SALT);
  const total = ranges.reduce((n, r) => n + r.length, 0);
  const gathered = new Uint8Array(total);
  let g = 0;
  for (const r of ranges) {
    gathered.set(body.subarray(r.offset, r.offset + r.length), g);
    g += r.length;
  }
  const xored = await ks(0, gathered);
  const out = body.slice();
  g = 0;
  for (const r of ranges) {
    out.set(xored.subarray(g, g + r.length), r.offset);
    g += r.length;
  }
  return out;
}

describe("PatternCipher across keystream windows", () => {
  const cases: [string, (rnd: TestRandom, bodyLength: number) => ByteRange[]][] = [
    [
      "many short ranges (the slice-start scheme)",
      (rnd, n) => {
        const out: ByteRange[] = [];
        for (let at = rnd.int(100); at < n - 64; at += 64 + 1 + rnd.int(400))
          out.push({ offset: at, length: 1 + rnd.int(64) });
        return out;
      },
    ],
    [
      "a few ranges longer than the window (the full scheme)",
      (_rnd, n) => [
        { offset: 10, length: 1_300_000 },
        { offset: 1_300_100, length: 5 },
        { offset: 1_400_000, length: n - 1_400_001 },
      ],
    ],
  ];
  for (const [name, makeRanges] of cases) {
    test(`PatternCipher equals one contiguous keystream XOR for any chunking: ${name}`, async () => {
      const rnd = new TestRandom(77);
      const bodyLength = 3 * 1024 * 1024 + 123;
      const body = new Uint8Array(bodyLength).map((_, i) => (i * 31) & 0xff);
      const ranges = makeRanges(rnd, bodyLength);
      const want = await reference(body, ranges);
      const ks = await makePatternKeystream(SESSION_KEY, SALT);
      for (const seed of [1, 2, 3]) {
        const data = body.slice();
        const cipher = new PatternCipher(ranges, bodyLength, ks);
        for (const piece of new TestRandom(seed).chunks(data)) await cipher.apply(piece);
        cipher.finish();
        expect(Buffer.from(data).equals(Buffer.from(want))).toBe(true);
      }
      // Applying it again decrypts.
      const back = want.slice();
      const cipher = new PatternCipher(ranges, bodyLength, ks);
      await cipher.apply(back);
      expect(Buffer.from(back).equals(Buffer.from(body))).toBe(true);
    });
  }
});
