/** @module Tests of Mp4PatternPlanner: its blocks match planMp4Cbcs's own walk of the P/B samples, and the pattern part round-trips byte-exact in random chunkings; damage gives a plan or a CodecError. */
import { describe, expect, test } from "bun:test";
import { makeCbcsTransform } from "../../crypto/cbcs-cipher.ts";
import { makePatternKeystream } from "../../crypto/keystream.ts";
import { patternFixtures } from "../../test/support/pattern-fixtures.ts";
import { SeededRandom } from "../../test/support/seeded-random.ts";
import { CodecError } from "../codec-error.ts";
import { planMp4Cbcs } from "../container/mp4-cbcs-protection.ts";
import { RecordingIndexer } from "../container/recording-indexer.ts";
import { concat, mergeBytes, splitBytes } from "../split/split-bytes.ts";
import { Mp4PatternPlanner } from "./mp4-pattern-planner.ts";
import { PatternDirectDecoder } from "./pattern-direct-decoder.ts";
import { PatternDirectEncoder } from "./pattern-direct-encoder.ts";
import { DEFAULT_H264_PATTERN_SCHEME } from "./pattern-scheme.ts";

const SESSION_KEY = new Uint8Array(32).map((_, i) => 11 * i);
const SALT = new Uint8Array(16).fill(3);

/** Index and plan an MP4 held in memory, serving the planner's reads from the same bytes. */
function planInMemory(bytes: Uint8Array) {
  const indexer = new RecordingIndexer();
  indexer.push(bytes);
  for (const r of indexer.finish()) indexer.supply(r.offset, bytes.subarray(r.offset, r.offset + r.length));
  const index = indexer.result();
  const planner = new Mp4PatternPlanner(indexer.mp4Moov!, index, { scheme: DEFAULT_H264_PATTERN_SCHEME });
  let rounds = 0;
  for (let needed = planner.needed(); needed.length > 0; needed = planner.needed(), rounds++) {
    for (const r of needed) planner.supply(r.offset, bytes.slice(r.offset, r.offset + r.length));
  }
  return { index, plan: planner.finish(), rounds, clearSlices: planner.clearSlices };
}

const mp4s = patternFixtures().filter(([name]) => name.endsWith(".mp4"));

describe("Mp4PatternPlanner", () => {
  for (const [name, bytes] of mp4s) {
    test(`Mp4PatternPlanner lists the blocks planMp4Cbcs finds in the P/B samples, as direct-body offsets: ${name}`, () => {
      const { index, plan, clearSlices } = planInMemory(bytes);
      expect(clearSlices).toBe(0);
      const whole = planMp4Cbcs(bytes, { keyId: new Uint8Array(16), constantIv: new Uint8Array(16) });
      const prot = index.protectedRanges;
      const inProtected = (o: number) => prot.some((r) => o >= r.offset && o < r.offset + r.length);
      // Direct-body offset of a file offset outside the protected ranges.
      const toBody = (o: number) =>
        o - prot.filter((r) => r.offset + r.length <= o).reduce((n, r) => n + r.length, 0);
      const expected: number[] = [];
      for (const r of whole.ranges)
        for (let at = r.offset; at < r.offset + r.length; at += 16)
          if (!inProtected(at)) expected.push(toBody(at));
      const ours: number[] = [];
      for (const r of plan.ranges.toArray())
        for (let at = r.offset; at < r.offset + r.length; at += 16) ours.push(at);
      expect(ours.length).toBeGreaterThan(50);
      expect(ours).toEqual(expected);
      expect(plan.encryptedBytes).toBe(ours.length * 16);
    });

    test(`cbcs pattern mode on an MP4 merges byte-exact after decrypt in random chunkings: ${name}`, async () => {
      const { index, plan } = planInMemory(bytes);
      const parts = splitBytes(bytes, index.protectedRanges, index.container);
      for (const seed of [1, 2, 3]) {
        const enc = new PatternDirectEncoder(plan, SALT, {
          cbcs: await makeCbcsTransform(SESSION_KEY, SALT, "encrypt"),
        });
        const out: Uint8Array[] = [];
        for (const c of new SeededRandom(seed).chunks(parts.direct.slice())) out.push(...(await enc.push(c)));
        enc.finish();
        const sent = concat(out);
        const dec = new PatternDirectDecoder((salt) => makePatternKeystream(SESSION_KEY, salt), {
          cbcsFor: (salt) => makeCbcsTransform(SESSION_KEY, salt, "decrypt"),
        });
        const back: Uint8Array[] = [];
        for (const c of new SeededRandom(seed + 5).chunks(sent.slice())) back.push(...(await dec.push(c)));
        dec.finish();
        expect(concat(back)).toEqual(parts.direct);
        expect(mergeBytes({ protected: parts.protected, direct: concat(back) }).bytes).toEqual(bytes);
      }
    });
  }

  test("Mp4PatternPlanner gives a plan or a CodecError when the samples are damaged, and never loops", () => {
    const [, bytes] = mp4s[0]!;
    const indexer = new RecordingIndexer();
    indexer.push(bytes);
    for (const r of indexer.finish()) indexer.supply(r.offset, bytes.subarray(r.offset, r.offset + r.length));
    const index = indexer.result();
    const rand = new SeededRandom(44);
    for (let k = 0; k < 200; k++) {
      const bad = bytes.slice();
      // Damage inside the media data only (the moov is the indexer's, tested by its own fuzz).
      for (let f = 0; f < 8; f++) {
        const p = index.pictures[rand.below(index.pictures.length)]!;
        bad[p.offset + rand.below(Math.min(p.length, 64))]! ^= 1 << rand.below(8);
      }
      try {
        const planner = new Mp4PatternPlanner(indexer.mp4Moov!, index, {
          scheme: DEFAULT_H264_PATTERN_SCHEME,
        });
        let rounds = 0;
        for (let needed = planner.needed(); needed.length > 0; needed = planner.needed()) {
          expect(++rounds).toBeLessThan(1000);
          for (const r of needed) planner.supply(r.offset, bad.slice(r.offset, r.offset + r.length));
        }
        const plan = planner.finish();
        expect(plan.encryptedBytes % 16).toBe(0);
      } catch (e) {
        expect(e).toBeInstanceOf(CodecError);
      }
    }
  });
});
