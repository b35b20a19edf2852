/** @module Tests of the version 3 (ES-coordinate) slice-block plan on every fixture: the same ciphertext as the version 1 plan, byte-exact round trips in random chunkings, a row per slice. */
import { describe, expect, test } from "bun:test";
import { makePatternKeystream } from "../../crypto/keystream.ts";
import { patternFixtures } from "../../test/support/pattern-fixtures.ts";
import { SeededRandom } from "../../test/support/seeded-random.ts";
import { indexRecording } from "../container/index-recording.ts";
import { splitBytes } from "../split/split-bytes.ts";
import { peekSplitHeaderLength } from "../split/split-format.ts";
import { EsPatternCipher } from "./es-pattern-cipher.ts";
import type { EsPatternPlan } from "./es-pattern-plan.ts";
import { EsPatternPlanner } from "./es-pattern-planner.ts";
import { PatternCipher } from "./pattern-cipher.ts";
import { planPattern } from "./pattern-planner.ts";
import type { PatternScheme } from "./pattern-scheme.ts";

const SESSION_KEY = new Uint8Array(32).map((_, i) => i * 5 + 3);
const SALT = new Uint8Array(16).map((_, i) => 90 + i);
const SCHEMES: Array<Extract<PatternScheme, { kind: "slice-block" }>> = [
  { kind: "slice-block", crypt: 1, skip: 9 },
  { kind: "slice-block", crypt: 2, skip: 3 },
  { kind: "slice-block", crypt: 13, skip: 1 },
];

/** The v3 plan of a recording pushed in random chunks. */
function planV3(
  bytes: Uint8Array,
  scheme: Extract<PatternScheme, { kind: "slice-block" }>,
  seed: number,
): EsPatternPlan | undefined {
  const { indexer, planner } = EsPatternPlanner.withIndexer(scheme);
  for (const c of new SeededRandom(seed).chunks(bytes)) indexer.push(c);
  return planner.finish(indexRecording(bytes));
}

/** The direct body of a fixture's split. */
function directBody(bytes: Uint8Array): Uint8Array {
  const index = indexRecording(bytes);
  const direct = splitBytes(bytes, index.protectedRanges, index.container).direct;
  return direct.slice(peekSplitHeaderLength(direct)!);
}

describe("EsPatternPlanner on every fixture", () => {
  for (const [name, bytes] of patternFixtures()) {
    const mpeg = indexRecording(bytes);
    const supported = mpeg.format === "mpeg1" || mpeg.format === "mpeg2";
    test(`v3 ciphertext equals v1 ciphertext for the same key and salt: ${name}`, async () => {
      const keystream = await makePatternKeystream(SESSION_KEY, SALT);
      const body = directBody(bytes);
      for (const [i, scheme] of SCHEMES.entries()) {
        const v3 = planV3(bytes, scheme, 10 + i);
        if (!supported) {
          expect(v3).toBeUndefined();
          continue;
        }
        const v1 = planPattern(bytes, mpeg, scheme);
        expect(v3!.encryptedBytes).toBe(v1.encryptedBytes);
        const old = body.slice();
        const v1c = new PatternCipher(v1, body.length, keystream);
        v1c.apply(old);
        v1c.finish();
        const now = body.slice();
        const v3c = new EsPatternCipher(v3!, body.length, keystream);
        for (const c of new SeededRandom(20 + i).chunks(now)) v3c.apply(c);
        v3c.finish();
        expect(Buffer.from(now).equals(Buffer.from(old))).toBe(true);
        if (v1.encryptedBytes > 0) expect(Buffer.from(now).equals(Buffer.from(body))).toBe(false);
        // A row per slice, not per block: never more slice rows than the version 1 plan has ranges.
        expect(v3!.slices.count).toBeLessThanOrEqual(Math.max(v1.ranges.count, 1));
      }
    });

    test(`v3 decrypts byte-exact in random chunkings: ${name}`, async () => {
      if (!supported) return;
      const keystream = await makePatternKeystream(SESSION_KEY, SALT);
      const body = directBody(bytes);
      for (const [i, scheme] of SCHEMES.entries()) {
        const plan = planV3(bytes, scheme, 30 + i);
        const sent = body.slice();
        const enc = new EsPatternCipher(plan!, body.length, keystream);
        for (const c of new SeededRandom(40 + i).chunks(sent)) enc.apply(c);
        enc.finish();
        const got = sent.slice();
        const dec = new EsPatternCipher(plan!, body.length, keystream);
        for (const c of new SeededRandom(50 + i).chunks(got)) dec.apply(c);
        dec.finish();
        expect(Buffer.from(got).equals(Buffer.from(body))).toBe(true);
      }
    });
  }
});
