/** @module Round trips of the H.264 cbcs pattern mode with the version 2 plan (a row per block): split, encrypt the direct part, decrypt in random chunkings, merge byte-exact; and the ciphertext against an independent AES-CBC reference. */
import { describe, expect, test } from "bun:test";
import { createCipheriv, createSecretKey } from "node:crypto";
import { cbcsTransform, makeCbcsTransform } from "../../crypto/cbcs-cipher.ts";
import { makePatternKeystream } from "../../crypto/keystream.ts";
import { patternFixtures } from "../../test/support/pattern-fixtures.ts";
import { SeededRandom } from "../../test/support/seeded-random.ts";
import { indexRecording } from "../container/index-recording.ts";
import { concat, mergeBytes, splitBytes } from "../split/split-bytes.ts";
import { peekSplitHeaderLength } from "../split/split-format.ts";
import { CbcsPatternCipher } from "./cbcs-pattern-cipher.ts";
import { PatternDirectDecoder } from "./pattern-direct-decoder.ts";
import { PatternDirectEncoder } from "./pattern-direct-encoder.ts";
import { ridingPatternPlanners } from "./riding-pattern-planners.ts";

const SESSION_KEY = new Uint8Array(32).map((_, i) => i * 5 + 3);
const SALT = new Uint8Array(16).map((_, i) => 100 + i);

async function run(feed: (c: Uint8Array) => Promise<Uint8Array[]>, chunks: Uint8Array[]) {
  const out: Uint8Array[] = [];
  for (const c of chunks) out.push(...(await feed(c)));
  return concat(out);
}

function plan(bytes: Uint8Array) {
  const index = indexRecording(bytes);
  const riding = ridingPatternPlanners({ esPlan: false });
  riding.indexer.push(bytes);
  return { index, plan: riding.finish(index) };
}

const h264 = patternFixtures().filter(([name]) => name.includes("h264"));

describe("cbcs pattern mode on every H.264 fixture", () => {
  test("PatternDirectDecoder refuses to resume a cbcs part midway (ERR_PATTERN_RESUME)", async () => {
    const [, bytes] = h264.find(([n]) => n.endsWith(".ts"))!;
    const { index, plan: p } = plan(bytes);
    const parts = splitBytes(bytes, index.protectedRanges, index.container);
    const enc = new PatternDirectEncoder(p, SALT, {
      cbcs: await makeCbcsTransform(SESSION_KEY, SALT, "encrypt"),
    });
    const sent = await run((c) => enc.push(c), [parts.direct.slice()]);
    enc.finish();
    const dec = new PatternDirectDecoder((salt) => makePatternKeystream(SESSION_KEY, salt), {
      cbcsFor: (salt) => makeCbcsTransform(SESSION_KEY, salt, "decrypt"),
      bodyFrom: 16,
    });
    await expect(dec.push(sent)).rejects.toMatchObject({ code: "ERR_PATTERN_RESUME" });
  });

  test("the fixtures include H.264 in TS and in MP4", () => {
    expect(h264.some(([n]) => n.endsWith(".ts"))).toBe(true);
    expect(h264.some(([n]) => n.endsWith(".mp4"))).toBe(true);
  });
  for (const [name, bytes] of h264) {
    test(`cbcs pattern mode merges byte-exact after decrypt in random chunkings: ${name}`, async () => {
      const { index, plan: p } = plan(bytes);
      if (index.container === "mp4") {
        // MP4 samples are planned by Mp4PatternPlanner (its reads are I/O; mp4-pattern-planner.test.ts).
        expect(p.supported).toBe(false);
        return;
      }
      expect(p.supported).toBe(true);
      expect(p.scheme.kind).toBe("cbcs");
      expect(p.encryptedBytes % 16).toBe(0);
      expect(p.chainStarts?.[0]).toBe(0);
      const parts = splitBytes(bytes, index.protectedRanges, index.container);
      const splitLength = peekSplitHeaderLength(parts.direct)!;
      const body = parts.direct.subarray(splitLength);
      // About 1 in 10 blocks of the slice data: at least a few percent of the direct body, at most 10 %.
      expect(p.encryptedBytes).toBeGreaterThan(body.length * 0.03);
      expect(p.encryptedBytes).toBeLessThanOrEqual(body.length * 0.1);
      for (const seed of [1, 2, 3, 4, 5]) {
        const enc = new PatternDirectEncoder(p, SALT, {
          cbcs: await makeCbcsTransform(SESSION_KEY, SALT, "encrypt"),
        });
        const sent = await run((c) => enc.push(c), new SeededRandom(seed).chunks(parts.direct.slice()));
        enc.finish();
        expect(sent.length).toBe(parts.direct.length + enc.addedBytes);
        const sentBody = sent.subarray(splitLength + enc.addedBytes);
        const inRange = new Uint8Array(body.length);
        for (const r of p.ranges.toArray()) inRange.fill(1, r.offset, r.offset + r.length);
        let changed = 0;
        for (let i = 0; i < body.length; i++) {
          if (sentBody[i] !== body[i]) {
            expect(inRange[i]).toBe(1);
            changed++;
          }
        }
        expect(changed).toBeGreaterThanOrEqual(Math.floor(p.encryptedBytes * 0.9));
        const dec = new PatternDirectDecoder((salt) => makePatternKeystream(SESSION_KEY, salt), {
          cbcsFor: (salt) => makeCbcsTransform(SESSION_KEY, salt, "decrypt"),
        });
        const plain = await run((c) => dec.push(c), new SeededRandom(seed + 10).chunks(sent.slice()));
        const header = dec.finish();
        expect("chainStarts" in header && header.chainStarts).toEqual(p.chainStarts!);
        expect(plain).toEqual(parts.direct);
        expect(mergeBytes({ protected: parts.protected, direct: plain }).bytes).toEqual(bytes);
        // Under another session's key the merge cannot give the original.
        const wrong = new PatternDirectDecoder((salt) => makePatternKeystream(SESSION_KEY, salt), {
          cbcsFor: (salt) => makeCbcsTransform(new Uint8Array(32), salt, "decrypt"),
        });
        const bad = await run((c) => wrong.push(c), [sent.slice()]);
        expect(bad).not.toEqual(parts.direct);
      }
    });
  }

  test("PatternDirectDecoder() refuses a cbcs part without a cbcs cipher", async () => {
    const [, bytes] = h264.find(([n]) => n.endsWith(".ts"))!;
    const { index, plan: p } = plan(bytes);
    const parts = splitBytes(bytes, index.protectedRanges, index.container);
    const enc = new PatternDirectEncoder(p, SALT, {
      cbcs: await makeCbcsTransform(SESSION_KEY, SALT, "encrypt"),
    });
    const sent = concat(await enc.push(parts.direct.slice()));
    const dec = new PatternDirectDecoder((salt) => makePatternKeystream(SESSION_KEY, salt));
    await expect(dec.push(sent)).rejects.toMatchObject({ code: "ERR_PATTERN_SCHEME" });
  });
});

/** cbcs by the book, block by block: each chain CBC from the IV over its blocks gathered in order. */
function referenceCbcs(
  data: Uint8Array,
  ranges: Array<{ offset: number; length: number }>,
  chains: number[],
  keyIv: { key: Uint8Array; iv: Uint8Array },
): Uint8Array {
  const gathered = concat(ranges.map((r) => data.subarray(r.offset, r.offset + r.length)));
  const out = new Uint8Array(gathered.length);
  const bounds = [...chains, gathered.length / 16];
  for (let c = 0; c < chains.length; c++) {
    let prev = Buffer.from(keyIv.iv);
    for (let b = bounds[c]!; b < bounds[c + 1]!; b++) {
      const block = Buffer.from(gathered.subarray(b * 16, b * 16 + 16));
      for (let k = 0; k < 16; k++) block[k]! ^= prev[k]!;
      const ecb = createCipheriv("aes-128-ecb", keyIv.key, null).setAutoPadding(false);
      prev = ecb.update(block);
      out.set(prev, b * 16);
    }
  }
  const result = data.slice();
  let at = 0;
  for (const r of ranges) {
    result.set(out.subarray(at, at + r.length), r.offset);
    at += r.length;
  }
  return result;
}

describe("CbcsPatternCipher", () => {
  const key = new Uint8Array(16).map((_, i) => i + 1);
  const iv = new Uint8Array(16).map((_, i) => 0xf0 - i);
  // Blocks cut across ranges (4 + 12, 10 + 6), chains restarting at blocks 0, 2 and 3.
  const ranges = [
    { offset: 5, length: 16 },
    { offset: 40, length: 4 },
    { offset: 50, length: 12 },
    { offset: 100, length: 16 },
    { offset: 130, length: 10 },
    { offset: 150, length: 6 },
    { offset: 300, length: 32 },
  ];
  const chains = [0, 2, 3];
  const data = new Uint8Array(400).map((_, i) => (i * 31 + 7) & 0xff);
  const expected = referenceCbcs(data, ranges, chains, { key, iv });

  test("CbcsPatternCipher encrypts as CBC per chain over the gathered blocks, for every chunking", () => {
    expect(expected).not.toEqual(data);
    for (let seed = 1; seed <= 30; seed++) {
      const c = new CbcsPatternCipher(
        { ranges, chainStarts: chains },
        data.length,
        cbcsTransform(createSecretKey(key), iv, "encrypt"),
      );
      const out: Uint8Array[] = [];
      for (const piece of new SeededRandom(seed).chunks(data.slice())) out.push(...c.push(piece));
      c.finish();
      expect(concat(out)).toEqual(expected);
      const d = new CbcsPatternCipher(
        { ranges, chainStarts: chains },
        data.length,
        cbcsTransform(createSecretKey(key), iv, "decrypt"),
      );
      const back: Uint8Array[] = [];
      for (const piece of new SeededRandom(seed + 100).chunks(expected.slice())) back.push(...d.push(piece));
      d.finish();
      expect(concat(back)).toEqual(data);
    }
  });

  test("CbcsPatternCipher.finish() rejects a body that ends early", () => {
    const c = new CbcsPatternCipher(
      { ranges, chainStarts: chains },
      data.length,
      cbcsTransform(createSecretKey(key), iv, "encrypt"),
    );
    c.push(data.slice(0, 145));
    expect(() => c.finish()).toThrow(expect.objectContaining({ code: "ERR_PATTERN_LENGTH" }));
    expect(() => c.push(new Uint8Array(400))).toThrow(
      expect.objectContaining({ code: "ERR_PATTERN_LENGTH" }),
    );
  });
});
