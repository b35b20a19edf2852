/** @module Tests of PatternDirectEncoder's `headerSpill`: a version 3/4 header written to a spill and sent from it a window at a time gives the same bytes as the header in memory, on every PS/TS and H.264 fixture; binding errors and a spill read error stay as they were. */
import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { makeCbcsTransform } from "../../crypto/cbcs-cipher.ts";
import { makePatternKeystream } from "../../crypto/keystream.ts";
import { patternFixtures } from "../../test/support/pattern-fixtures.ts";
import { SeededRandom } from "../../test/support/seeded-random.ts";
import { indexRecording } from "../container/index-recording.ts";
import { splitBytes } from "../split/split-bytes.ts";
import type { HeaderSpill } from "./header-spill.ts";
import { PatternDirectEncoder } from "./pattern-direct-encoder.ts";
import { PATTERN_VERSION_CBCS_ES, PATTERN_VERSION_ES } from "./pattern-header.ts";
import { DEFAULT_H264_PATTERN_SCHEME } from "./pattern-scheme.ts";
import { ridingPatternPlanners } from "./riding-pattern-planners.ts";
import type { RangeBlockStore } from "./stored-blocks.ts";

const KEY = new Uint8Array(32).map((_, i) => 7 * i + 1);
const SALT = new Uint8Array(16).map((_, i) => 3 * i);

/** A spill in memory, as a sender's plan file keeps it; `failAt`: a read reaching that byte throws. */
function memorySpill(failAt = Number.POSITIVE_INFINITY): HeaderSpill & { length(): number; closed: boolean } {
  let bytes = new Uint8Array(0);
  return {
    closed: false,
    length: () => bytes.length,
    write(b) {
      const grown = new Uint8Array(bytes.length + b.length);
      grown.set(bytes);
      grown.set(b, bytes.length);
      bytes = grown;
    },
    read(position, into) {
      if (position + into.length > failAt) throw new RangeError("Cannot read the spill: it broke");
      into.set(bytes.subarray(position, position + into.length));
    },
    close() {
      this.closed = true;
    },
  };
}

/** A fixture's version 3/4 plan and its direct part. */
function planOf(bytes: Uint8Array, store?: () => RangeBlockStore) {
  const index = indexRecording(bytes);
  const riding = ridingPatternPlanners({ h264: DEFAULT_H264_PATTERN_SCHEME, ...(store ? { store } : {}) });
  for (const c of new SeededRandom(1).chunks(bytes)) riding.indexer.push(c);
  riding.indexer.finish();
  const plan = riding.finish(index);
  return { plan, direct: splitBytes(bytes, index.protectedRanges, index.container).direct };
}

/** What an encoder sends for `direct`, pushed in seeded chunks through pushPieces(); each piece copied as taken. */
async function sent(
  bytes: Uint8Array,
  spill?: HeaderSpill,
  o: { reuse?: boolean; store?: () => RangeBlockStore } = {},
): Promise<{ digest: string; pieces: number[] }> {
  const { plan, direct } = planOf(bytes, o.store);
  const keys =
    plan.scheme.kind === "cbcs"
      ? { cbcs: await makeCbcsTransform(KEY, SALT, "encrypt") }
      : await makePatternKeystream(KEY, SALT);
  const enc = new PatternDirectEncoder(
    { ...plan, handOverRuns: true, ...(spill ? { headerSpill: () => spill } : {}) },
    SALT,
    keys,
  );
  const hash = createHash("sha256");
  const pieces: number[] = [];
  let total = 0;
  for (const c of new SeededRandom(2).chunks(direct.slice()))
    for (const p of enc.pushPieces(c, { reuse: o.reuse === true })) {
      hash.update(p);
      pieces.push(p.length);
      total += p.length;
    }
  enc.finish();
  expect(total).toBe(direct.length + enc.addedBytes);
  return { digest: hash.digest("hex"), pieces };
}

describe("PatternDirectEncoder with a headerSpill", () => {
  const fixtures = patternFixtures().filter(([, bytes]) => {
    const { plan } = planOf(bytes);
    return plan.supported && plan.es !== undefined;
  });
  const mpeg2 = () => fixtures.find(([, b]) => planOf(b).plan.scheme.kind !== "cbcs")!;
  test("the fixtures include version 3 (MPEG-2 TS/PS) and version 4 (H.264) plans", () => {
    const versions = new Set(fixtures.map(([, b]) => (planOf(b).plan.scheme.kind === "cbcs" ? 4 : 3)));
    expect([...versions].sort()).toEqual([PATTERN_VERSION_ES, PATTERN_VERSION_CBCS_ES]);
  });
  for (const [name, bytes] of fixtures) {
    test(`pushPieces() sends the same bytes with the header spilled as in memory: ${name}`, async () => {
      const spill = memorySpill();
      const inMemory = await sent(bytes);
      const spilled = await sent(bytes, spill);
      expect(spilled.digest).toBe(inMemory.digest);
      // The header went to the spill whole, and was sent as more than one piece (head, table, digest).
      expect(spill.length()).toBeGreaterThan(120);
      expect(spilled.pieces.length).toBeGreaterThan(inMemory.pieces.length);
    });
  }

  const stores = () => {
    const blocks = new Map<number, Uint8Array>();
    const store: RangeBlockStore = {
      put: (i, b) => void blocks.set(i, b.slice()),
      get: (i, into) => into.set(blocks.get(i)!.subarray(0, into.length)),
    };
    return store;
  };
  for (const [name, bytes] of fixtures)
    test(`pushPieces({ reuse }) over a plan with stored runs sends the same bytes as in memory: ${name}`, async () => {
      const inMemory = await sent(bytes);
      const stored = await sent(bytes, memorySpill(), { reuse: true, store: stores });
      expect(stored.digest).toBe(inMemory.digest);
    });

  test("push() gives what pushPieces() does, the header whole in one array of pieces", async () => {
    const [, bytes] = mpeg2();
    const { plan, direct } = planOf(bytes);
    const ks = await makePatternKeystream(KEY, SALT);
    const a = new PatternDirectEncoder({ ...plan, headerSpill: () => memorySpill() }, SALT, ks);
    const b = new PatternDirectEncoder(plan, SALT, ks);
    const outA = Buffer.concat(await a.push(direct.slice()));
    const outB = Buffer.concat(await b.push(direct.slice()));
    expect(outA.equals(outB)).toBe(true);
  });

  const short: Array<[string, (direct: Uint8Array) => Uint8Array, string]> = [
    ["a part that ends inside its split header", (d) => d.subarray(0, 10), "ERR_PATTERN_TRUNCATED"],
    ["a part that ends inside its body", (d) => d.subarray(0, d.length - 1), "ERR_PATTERN_LENGTH"],
  ];
  for (const [name, cut, code] of short) {
    test(`finish() with a spilled header rejects ${name} as the header in memory does`, async () => {
      const [, bytes] = mpeg2();
      const { plan, direct } = planOf(bytes);
      const ks = await makePatternKeystream(KEY, SALT);
      const codeOf = (spill?: HeaderSpill) => {
        const enc = new PatternDirectEncoder(
          { ...plan, ...(spill ? { headerSpill: () => spill } : {}) },
          SALT,
          ks,
        );
        try {
          for (const _ of enc.pushPieces(cut(direct.slice())));
          enc.finish();
          return "no error";
        } catch (err) {
          return (err as { code?: string }).code ?? String(err);
        }
      };
      expect(codeOf()).toBe(code);
      expect(codeOf(memorySpill())).toBe(code);
    });
  }

  test("a spill read error while the header is sent fails the send with the spill's error", async () => {
    const [, bytes] = mpeg2();
    const { plan, direct } = planOf(bytes);
    const enc = new PatternDirectEncoder(
      { ...plan, headerSpill: () => memorySpill(500) },
      SALT,
      await makePatternKeystream(KEY, SALT),
    );
    expect(() => {
      for (const _ of enc.pushPieces(direct.slice()));
    }).toThrow("Cannot read the spill: it broke");
  });
});
