/** @module Round trips of the H.264 cbcs pattern mode with the version 4 plan (ES coordinates): byte-exact merges in random chunkings, and the same ciphertext as the version 2 plan. */
import { describe, expect, test } from "bun:test";
import { makeCbcsTransform } from "../../crypto/cbcs-cipher.ts";
import { makePatternKeystream } from "../../crypto/keystream.ts";
import { patternFixtures } from "../../test/support/pattern-fixtures.ts";
import { SeededRandom } from "../../test/support/seeded-random.ts";
import { indexRecording } from "../container/index-recording.ts";
import { concat, mergeBytes, splitBytes } from "../split/split-bytes.ts";
import { peekSplitHeaderLength } from "../split/split-format.ts";
import { PatternDirectDecoder } from "./pattern-direct-decoder.ts";
import { PatternDirectEncoder } from "./pattern-direct-encoder.ts";
import { PATTERN_VERSION_CBCS_ES, patternHeaderVersionsOf } from "./pattern-header.ts";
import { ridingPatternPlanners } from "./riding-pattern-planners.ts";

const SESSION_KEY = new Uint8Array(32).map((_, i) => i * 7 + 1);
const SALT = new Uint8Array(16).map((_, i) => 200 - i);

async function run(feed: (c: Uint8Array) => Promise<Uint8Array[]>, chunks: Uint8Array[]) {
  const out: Uint8Array[] = [];
  for (const c of chunks) out.push(...(await feed(c)));
  return concat(out);
}

function plan(bytes: Uint8Array, esPlan: boolean) {
  const index = indexRecording(bytes);
  const riding = ridingPatternPlanners({ esPlan });
  riding.indexer.push(bytes);
  riding.indexer.finish();
  return { index, plan: riding.finish(index) };
}

async function encrypt(
  p: ReturnType<typeof plan>["plan"] & { handOverRuns?: boolean },
  direct: Uint8Array,
  seed: number,
) {
  const enc = new PatternDirectEncoder(p, SALT, {
    cbcs: await makeCbcsTransform(SESSION_KEY, SALT, "encrypt"),
  });
  const sent = await run((c) => enc.push(c), new SeededRandom(seed).chunks(direct.slice()));
  enc.finish();
  return { sent, added: enc.addedBytes };
}

const decoder = (bodyFrom = 0) =>
  new PatternDirectDecoder((salt) => makePatternKeystream(SESSION_KEY, salt), {
    cbcsFor: (salt) => makeCbcsTransform(SESSION_KEY, salt, "decrypt"),
    bodyFrom,
  });

const h264 = patternFixtures().filter(([name]) => name.includes("h264") && !name.endsWith(".mp4"));

describe("cbcs pattern mode, version 4 plan", () => {
  test("the fixtures include H.264 outside MP4", () => expect(h264.length).toBeGreaterThan(0));

  for (const [name, bytes] of h264) {
    test(`the version 4 plan encrypts to the version 2 plan's bytes and merges byte-exact: ${name}`, async () => {
      const v4 = plan(bytes, true);
      const v2 = plan(bytes, false);
      expect(v4.plan.es?.scheme.kind).toBe("cbcs");
      expect(patternHeaderVersionsOf(v4.plan)).toEqual([PATTERN_VERSION_CBCS_ES]);
      expect(v4.plan.encryptedBytes).toBe(v2.plan.encryptedBytes);
      expect(v4.plan.encryptedBytes).toBeGreaterThan(0);
      const parts = splitBytes(bytes, v4.index.protectedRanges, v4.index.container);
      const splitLength = peekSplitHeaderLength(parts.direct)!;
      const bodyLength = parts.direct.length - splitLength;
      for (const seed of [1, 2, 3, 4]) {
        const a = await encrypt(v4.plan, parts.direct, seed);
        const b = await encrypt(v2.plan, parts.direct, seed + 50);
        expect(a.sent[splitLength + 8]).toBe(PATTERN_VERSION_CBCS_ES);
        const bodyA = a.sent.subarray(a.sent.length - bodyLength);
        expect(bodyA).toEqual(b.sent.subarray(b.sent.length - bodyLength));
        expect(bodyA).not.toEqual(parts.direct.subarray(splitLength));
        const dec = decoder();
        const plain = await run((c) => dec.push(c), new SeededRandom(seed + 10).chunks(a.sent.slice()));
        const header = dec.finish();
        expect("plan" in header && header.plan.scheme.kind).toBe("cbcs");
        expect(plain).toEqual(parts.direct);
        expect(mergeBytes({ protected: parts.protected, direct: plain }).bytes).toEqual(bytes);
      }
    });
  }

  for (const [name, bytes] of h264) {
    test(`PatternDirectEncoder({ handOverRuns }) sends the same bytes, frees the plan's runs, refuses the plan again: ${name}`, async () => {
      const kept = plan(bytes, true);
      const given = plan(bytes, true);
      const parts = splitBytes(bytes, kept.index.protectedRanges, kept.index.container);
      const a = await encrypt(kept.plan, parts.direct, 1);
      const b = await encrypt({ ...given.plan, handOverRuns: true }, parts.direct, 1);
      expect(b.sent).toEqual(a.sent);
      expect((kept.plan.es!.runs as Float64Array).length).toBeGreaterThan(0);
      expect((given.plan.es!.runs as Float64Array).length).toBe(0);
      const cbcs = await makeCbcsTransform(SESSION_KEY, SALT, "encrypt");
      expect(() => new PatternDirectEncoder(given.plan, SALT, { cbcs })).toThrow(TypeError);
    });
  }

  for (const [name, bytes] of h264) {
    test(`PatternDirectEncoder.pushMany() sends what push() sends, in any grouping: ${name}`, async () => {
      const { index, plan: p } = plan(bytes, true);
      const parts = splitBytes(bytes, index.protectedRanges, index.container);
      const { sent } = await encrypt(p, parts.direct, 1);
      for (const seed of [2, 3]) {
        const enc = new PatternDirectEncoder(p, SALT, {
          cbcs: await makeCbcsTransform(SESSION_KEY, SALT, "encrypt"),
        });
        const chunks = new SeededRandom(seed).chunks(parts.direct.slice());
        const groups = new SeededRandom(seed + 20);
        const out: Uint8Array[] = [];
        for (let at = 0; at < chunks.length; ) {
          const n = 1 + groups.below(30);
          out.push(...(await enc.pushMany(chunks.slice(at, at + n))));
          at += n;
        }
        enc.finish();
        expect(concat(out)).toEqual(sent);
      }
    });
  }

  test("ridingPatternPlanners() leaves an H.264 MP4 unplanned in both versions (Mp4PatternPlanner plans it)", () => {
    const mp4 = patternFixtures().filter(([name]) => name.includes("h264") && name.endsWith(".mp4"));
    expect(mp4.length).toBeGreaterThan(0);
    for (const [, bytes] of mp4) {
      for (const esPlan of [true, false]) {
        const { plan: p } = plan(bytes, esPlan);
        expect({ esPlan, supported: p.supported, es: p.es }).toEqual({
          esPlan,
          supported: false,
          es: undefined,
        });
      }
    }
  });

  test("PatternDirectDecoder refuses to resume a version 4 part midway (ERR_PATTERN_RESUME)", async () => {
    const [, bytes] = h264[0]!;
    const { index, plan: p } = plan(bytes, true);
    const parts = splitBytes(bytes, index.protectedRanges, index.container);
    const { sent } = await encrypt(p, parts.direct, 1);
    await expect(decoder(16).push(sent)).rejects.toMatchObject({ code: "ERR_PATTERN_RESUME" });
  });

  test("PatternDirectDecoder refuses a version 4 part without a cbcs cipher (ERR_PATTERN_SCHEME)", async () => {
    const [, bytes] = h264[0]!;
    const { index, plan: p } = plan(bytes, true);
    const parts = splitBytes(bytes, index.protectedRanges, index.container);
    const { sent } = await encrypt(p, parts.direct, 1);
    const dec = new PatternDirectDecoder((salt) => makePatternKeystream(SESSION_KEY, salt));
    await expect(dec.push(sent)).rejects.toMatchObject({ code: "ERR_PATTERN_SCHEME" });
  });
});
