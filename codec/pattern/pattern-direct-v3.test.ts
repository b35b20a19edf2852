/** @module Round trips of pattern mode with a version 3 header (slice-block in ES coordinates) on every PS/TS fixture: the same body bytes on the wire as version 1, byte-exact merges, resumes, damage. */
import { describe, expect, test } from "bun:test";
import { makePatternKeystream } from "../../crypto/keystream.ts";
import { patternFixtures } from "../../test/support/pattern-fixtures.ts";
import { SeededRandom } from "../../test/support/seeded-random.ts";
import { indexRecording } from "../container/index-recording.ts";
import { concat, mergeBytes, splitBytes } from "../split/split-bytes.ts";
import { peekSplitHeaderLength } from "../split/split-format.ts";
import { PatternDirectDecoder } from "./pattern-direct-decoder.ts";
import { PatternDirectEncoder } from "./pattern-direct-encoder.ts";
import { PATTERN_VERSION, PATTERN_VERSION_ES } from "./pattern-header.ts";
import type { PatternPlan } from "./pattern-planner.ts";
import { ridingPatternPlanners } from "./riding-pattern-planners.ts";

const SESSION_KEY = new Uint8Array(32).map((_, i) => i * 11 + 2);
const SALT = new Uint8Array(16).map((_, i) => 17 * i);

async function run(
  feed: (c: Uint8Array) => Promise<Uint8Array[]>,
  chunks: Uint8Array[],
): Promise<Uint8Array> {
  const out: Uint8Array[] = [];
  for (const c of chunks) out.push(...(await feed(c)));
  return concat(out);
}

/** The plan a sender makes (the planners riding pass 1, pushed in random chunks). */
function plan(bytes: Uint8Array, esPlan: boolean, seed: number): PatternPlan {
  const riding = ridingPatternPlanners({ esPlan });
  for (const c of new SeededRandom(seed).chunks(bytes)) riding.indexer.push(c);
  return riding.finish(indexRecording(bytes));
}

/** A fixture's direct part as sent under `p`, and the split. */
async function wire(bytes: Uint8Array, p: PatternPlan & { handOverRuns?: boolean }, seed: number) {
  const index = indexRecording(bytes);
  const parts = splitBytes(bytes, index.protectedRanges, index.container);
  // A plan in body offsets is compared as version 1, whose header is its whole table (version 5 sends it in
  // segments among the body).
  const version = p.es === undefined ? PATTERN_VERSION : undefined;
  const enc = new PatternDirectEncoder(
    version === undefined ? p : { ...p, version },
    SALT,
    await makePatternKeystream(SESSION_KEY, SALT),
  );
  const sent = await run((c) => enc.push(c), new SeededRandom(seed).chunks(parts.direct.slice()));
  enc.finish();
  return { parts, sent, added: enc.addedBytes, splitLength: peekSplitHeaderLength(parts.direct)! };
}

const decoder = (bodyFrom = 0) =>
  new PatternDirectDecoder((salt) => makePatternKeystream(SESSION_KEY, salt), { bodyFrom });

const fixtures = patternFixtures().filter(
  ([name]) => /\.(ts|m2ts|vob|mpg)$/.test(name) && !name.includes("h264"),
);

describe("pattern mode version 3 on every MPEG-1/2 PS/TS fixture", () => {
  test("the fixtures include a TS, an M2TS and a PS", () => {
    expect(fixtures.map(([n]) => n.split(".").pop()).sort()).toEqual(["m2ts", "mpg", "mpg", "ts", "vob"]);
  });

  for (const [name, bytes] of fixtures) {
    test(`a sender's plan is version 3 and its body on the wire equals version 1's: ${name}`, async () => {
      const v3 = plan(bytes, true, 1);
      const v1 = plan(bytes, false, 2);
      expect(v3.es).toBeDefined();
      expect(v1.es).toBeUndefined();
      expect(v3.encryptedBytes).toBe(v1.encryptedBytes);
      expect(v3.encryptedBytes).toBeGreaterThan(0);
      const a = await wire(bytes, v3, 3);
      const b = await wire(bytes, v1, 4);
      expect(a.sent[a.splitLength + 8]).toBe(PATTERN_VERSION_ES);
      expect(b.sent[b.splitLength + 8]).toBe(PATTERN_VERSION);
      // Packet headers cut slices: version 1 lists each crypt block of a cut slice, version 3 a row per slice
      // and per unit run (a TS fixture: 288 + 96 rows against 840). A PS (2 KiB packs) cuts few, and its run
      // per PES packet (5 varints) may make the header a few bytes longer than version 1's.
      expect(v3.es!.slices.count + v3.es!.runCount).toBeLessThan(v1.ranges.count);
      if (/ts$/.test(name)) expect(a.added).toBeLessThan(b.added);
      else expect(a.added).toBeLessThan(b.added + 64);
      const bodyA = a.sent.subarray(a.splitLength + a.added);
      const bodyB = b.sent.subarray(b.splitLength + b.added);
      expect(Buffer.from(bodyA).equals(Buffer.from(bodyB))).toBe(true);
      expect(Buffer.from(bodyA).equals(Buffer.from(a.parts.direct.subarray(a.splitLength)))).toBe(false);
    });

    test(`version 3 merges byte-exact after decrypt in random chunkings: ${name}`, async () => {
      for (const seed of [5, 6, 7]) {
        const { parts, sent } = await wire(bytes, plan(bytes, true, seed), seed + 10);
        const dec = decoder();
        const plain = await run((c) => dec.push(c), new SeededRandom(seed + 20).chunks(sent.slice()));
        expect("plan" in dec.finish()).toBe(true);
        expect(Buffer.from(plain).equals(Buffer.from(parts.direct))).toBe(true);
        expect(
          Buffer.from(mergeBytes({ protected: parts.protected, direct: plain }).bytes).equals(
            Buffer.from(bytes),
          ),
        ).toBe(true);
      }
    });
  }

  const [name, bytes] = fixtures.find(([n]) => n.endsWith(".ts"))!;
  test(`PatternDirectEncoder({ handOverRuns }) sends the same bytes, frees the plan's runs, refuses the plan again: ${name}`, async () => {
    const kept = plan(bytes, true, 1);
    const given = plan(bytes, true, 1);
    const a = await wire(bytes, kept, 5);
    const b = await wire(bytes, { ...given, handOverRuns: true }, 5);
    expect(b.sent).toEqual(a.sent);
    expect((kept.es!.runs as Float64Array).length).toBeGreaterThan(0);
    expect((given.es!.runs as Float64Array).length).toBe(0);
    expect(() => new PatternDirectEncoder(given, SALT, () => new Uint8Array(0))).toThrow(TypeError);
  });

  test(`version 3 resumes at any body byte (bodyFrom): ${name}`, async () => {
    const { parts, sent, added, splitLength } = await wire(bytes, plan(bytes, true, 8), 9);
    const body = parts.direct.length - splitLength;
    for (const from of [0, 1, 1000, body >> 1, body - 1, body]) {
      const resumed = concat([
        sent.subarray(0, splitLength + added),
        sent.subarray(splitLength + added + from),
      ]);
      const dec = decoder(from);
      const plain = await run((c) => dec.push(c), new SeededRandom(from + 3).chunks(resumed.slice()));
      dec.finish();
      expect([
        from,
        Buffer.from(plain.subarray(splitLength)).equals(parts.direct.subarray(splitLength + from)),
      ]).toEqual([from, true]);
    }
  });

  test(`version 3 refuses a body cut short with ERR_PATTERN_LENGTH: ${name}`, async () => {
    const { sent } = await wire(bytes, plan(bytes, true, 8), 9);
    const dec = decoder();
    await run((c) => dec.push(c), [sent.slice(0, sent.length - 1)]);
    expect(() => dec.finish()).toThrow(expect.objectContaining({ code: "ERR_PATTERN_LENGTH" }));
  });

  test(`version 3 refuses a damaged pattern header with ERR_PATTERN_HEADER_DIGEST: ${name}`, async () => {
    const { sent, splitLength } = await wire(bytes, plan(bytes, true, 8), 9);
    const bad = sent.slice();
    bad[splitLength + 100]! ^= 1;
    await expect(decoder().push(bad)).rejects.toMatchObject({ code: "ERR_PATTERN_HEADER_DIGEST" });
  });
});
