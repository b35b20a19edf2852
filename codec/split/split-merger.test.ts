/** @module Tests of RangeRouter and SplitMerger on random data, random range tables, random chunkings and interleavings. */
import { heapStats } from "bun:jsc";
import { describe, expect, test } from "bun:test";
import { codecErrorCode as codeOf } from "../../test/support/header-corruption.ts";
import { randomBytes, seededInts } from "../../test/support/seeded-random.ts";
import type { ByteRange } from "../recording-index.ts";
import { RangeRouter } from "./range-router.ts";
import { concat, mergeBytes, splitBytes } from "./split-bytes.ts";
import type { SplitPartKind } from "./split-format.ts";
import { SplitMerger } from "./split-merger.ts";

function randomRanges(rand: (n: number) => number, total: number): ByteRange[] {
  const ranges: ByteRange[] = [];
  let at = rand(3) === 0 ? 0 : rand(Math.max(1, total >> 3));
  while (at < total && rand(8) !== 0) {
    const length = 1 + rand(Math.max(1, Math.min(total - at, 300)));
    ranges.push({ offset: at, length });
    at += length + 1 + rand(200);
  }
  return ranges;
}

/** The obvious per-byte reference split the streaming router must agree with. */
function referenceSplit(bytes: Uint8Array, ranges: ByteRange[]): { p: number[]; d: number[] } {
  const inside = new Uint8Array(bytes.length);
  for (const r of ranges) inside.fill(1, r.offset, r.offset + r.length);
  const p: number[] = [];
  const d: number[] = [];
  for (let i = 0; i < bytes.length; i++) (inside[i] ? p : d).push(bytes[i]!);
  return { p, d };
}

function chunked(bytes: Uint8Array, rand: (n: number) => number, max: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; ) {
    const n = Math.min(bytes.length - at, 1 + rand(max));
    out.push(bytes.subarray(at, at + n));
    at += n;
  }
  return out;
}

describe("RangeRouter", () => {
  test("push() routes 300 random tables and chunkings exactly like a per-byte reference", () => {
    for (let seed = 1; seed <= 300; seed++) {
      const rand = seededInts(seed);
      const bytes = randomBytes(rand, rand(3000));
      const ranges = randomRanges(rand, bytes.length);
      const router = new RangeRouter(ranges, bytes.length);
      const p: Uint8Array[] = [];
      const d: Uint8Array[] = [];
      for (const c of chunked(bytes, rand, rand(2) ? 7 : 1000)) {
        const out = router.push(c);
        p.push(...out.protected);
        d.push(...out.direct);
        // Views into the pushed chunk, never copies.
        for (const v of [...out.protected, ...out.direct]) expect(v.buffer).toBe(bytes.buffer);
      }
      router.finish();
      const ref = referenceSplit(bytes, ranges);
      expect([seed, Array.from(concat(p))]).toEqual([seed, ref.p]);
      expect([seed, Array.from(concat(d))]).toEqual([seed, ref.d]);
    }
  });

  test("push() rejects bytes past the indexed length with ERR_SPLIT_LENGTH", () => {
    const router = new RangeRouter([{ offset: 2, length: 2 }], 5);
    router.push(new Uint8Array(4));
    expect(codeOf(() => router.push(new Uint8Array(2)))).toBe("ERR_SPLIT_LENGTH");
  });

  test("finish() rejects a short original with ERR_SPLIT_LENGTH", () => {
    const router = new RangeRouter([], 5);
    router.push(new Uint8Array(4));
    expect(codeOf(() => router.finish())).toBe("ERR_SPLIT_LENGTH");
  });

  test("constructor rejects an overlapping table with ERR_SPLIT_RANGES", () => {
    expect(
      codeOf(
        () =>
          new RangeRouter(
            [
              { offset: 0, length: 3 },
              { offset: 2, length: 3 },
            ],
            10,
          ),
      ),
    ).toBe("ERR_SPLIT_RANGES");
  });
});

/** Feeds both parts to a merger in a random interleaving of random chunk sizes; returns the merged bytes. */
function streamMerge(p: Uint8Array, d: Uint8Array, rand: (n: number) => number, max: number): Uint8Array {
  const merger = new SplitMerger();
  const queues: Record<SplitPartKind, Uint8Array[]> = {
    protected: chunked(p, rand, max),
    direct: chunked(d, rand, max),
  };
  const out: Uint8Array[] = [];
  while (queues.protected.length > 0 || queues.direct.length > 0) {
    const part: SplitPartKind =
      queues.direct.length === 0
        ? "protected"
        : queues.protected.length === 0
          ? "direct"
          : rand(2)
            ? "protected"
            : "direct";
    out.push(...merger.push(part, queues[part].shift()!));
  }
  expect(merger.needs()).toBeUndefined();
  merger.finish();
  return concat(out);
}

describe("SplitMerger", () => {
  test("merges 300 random splits byte-exact in random interleavings", () => {
    for (let seed = 1; seed <= 300; seed++) {
      const rand = seededInts(seed);
      const bytes = randomBytes(rand, rand(4000));
      const ranges = randomRanges(rand, bytes.length);
      const parts = splitBytes(bytes, ranges, "es");
      const merged = streamMerge(parts.protected, parts.direct, rand, rand(2) ? 5 : 2000);
      expect([seed, Buffer.from(merged).equals(bytes)]).toEqual([seed, true]);
    }
  });

  test("needs() pulls from the right part so a reader only ever holds one chunk per part", () => {
    const rand = seededInts(7);
    const bytes = randomBytes(rand, 5000);
    const ranges = randomRanges(rand, bytes.length);
    const parts = splitBytes(bytes, ranges, "ts");
    const merger = new SplitMerger();
    const sources: Record<SplitPartKind, Uint8Array[]> = {
      protected: chunked(parts.protected, rand, 64),
      direct: chunked(parts.direct, rand, 64),
    };
    const out: Uint8Array[] = [];
    for (let want = merger.needs(); want !== undefined; want = merger.needs()) {
      const c = sources[want].shift();
      expect(c).toBeDefined();
      out.push(...merger.push(want, c!));
      // Pulling by needs() keeps at most one chunk's worth waiting inside the merger.
      expect(merger.buffered).toBeLessThanOrEqual(64);
    }
    merger.finish();
    expect(Buffer.from(concat(out)).equals(bytes)).toBe(true);
  });

  test("holds one range table for both parts, not one per part (issue 14)", () => {
    const n = 20_000;
    const bytes = new Uint8Array(n * 4);
    const parts = splitBytes(
      bytes,
      Array.from({ length: n }, (_, i) => ({ offset: i * 4, length: 2 })),
      "es",
    );
    const objects = () => {
      Bun.gc(true);
      return heapStats().objectTypeCounts.Object ?? 0;
    };
    const merger = new SplitMerger();
    const before = objects();
    merger.push("protected", parts.protected);
    merger.push("direct", parts.direct);
    merger.finish();
    // Each table is n range objects; two tables held would be 2n.
    expect(objects() - before).toBeLessThan(n * 1.5);
    expect(merger.position).toBe(bytes.length);
  });

  test("merges parts fed one byte at a time, headers included", () => {
    const rand = seededInts(3);
    const bytes = randomBytes(rand, 700);
    const parts = splitBytes(bytes, randomRanges(rand, bytes.length), "mp4");
    const merged = streamMerge(parts.protected, parts.direct, rand, 1);
    expect(Buffer.from(merged).equals(bytes)).toBe(true);
  });

  test("rejects a part that is not a part after its first wrong byte, not after a whole header", () => {
    const m = new SplitMerger();
    m.push("protected", new TextEncoder().encode("PVR"));
    expect(codeOf(() => m.push("protected", new TextEncoder().encode("X")))).toBe("ERR_SPLIT_MAGIC");
  });

  test("merges a recording with no protected range (protected part is a header only)", () => {
    const bytes = new TextEncoder().encode("no pictures here");
    const parts = splitBytes(bytes, [], "es");
    expect(Buffer.from(mergeBytes(parts).bytes).equals(bytes)).toBe(true);
  });

  test("merges an empty recording", () => {
    const parts = splitBytes(new Uint8Array(0), [], "es");
    expect(mergeBytes(parts).bytes.length).toBe(0);
  });

  const rand = seededInts(99);
  const bytes = randomBytes(rand, 2000);
  const ranges = [
    { offset: 0, length: 100 },
    { offset: 500, length: 700 },
  ];
  const good = splitBytes(bytes, ranges, "ps");
  const other = splitBytes(randomBytes(rand, 2000), ranges, "ps");
  const flip = (b: Uint8Array, at: number) => {
    const c = b.slice();
    c[at]! ^= 0x10;
    return c;
  };
  const hl = good.protected.length - 800;
  const damaged: [string, () => unknown, string][] = [
    [
      "a flipped protected body byte",
      () => mergeBytes({ ...good, protected: flip(good.protected, hl + 5) }),
      "ERR_SPLIT_INTEGRITY",
    ],
    [
      "a flipped direct body byte",
      () => mergeBytes({ ...good, direct: flip(good.direct, good.direct.length - 1) }),
      "ERR_SPLIT_INTEGRITY",
    ],
    [
      "a truncated protected part",
      () => mergeBytes({ ...good, protected: good.protected.subarray(0, -1) }),
      "ERR_SPLIT_TRUNCATED",
    ],
    [
      "a truncated direct part",
      () => mergeBytes({ ...good, direct: good.direct.subarray(0, 10) }),
      "ERR_SPLIT_TRUNCATED",
    ],
    ["an empty direct part", () => mergeBytes({ ...good, direct: new Uint8Array(0) }), "ERR_SPLIT_TRUNCATED"],
    [
      "a protected part with a byte appended",
      () => mergeBytes({ ...good, protected: concat([good.protected, new Uint8Array(1)]) }),
      "ERR_SPLIT_LENGTH",
    ],
    ["swapped parts", () => mergeBytes({ protected: good.direct, direct: good.protected }), "ERR_SPLIT_PAIR"],
    [
      "parts of two different splits",
      () => mergeBytes({ protected: good.protected, direct: other.direct }),
      "ERR_SPLIT_PAIR",
    ],
    [
      "a damaged header",
      () => mergeBytes({ ...good, direct: flip(good.direct, 40) }),
      "ERR_SPLIT_HEADER_DIGEST",
    ],
    ["a part that is not a part", () => mergeBytes({ ...good, direct: bytes }), "ERR_SPLIT_MAGIC"],
  ];
  for (const [name, run, code] of damaged) {
    test(`rejects ${name} with ${code}`, () => {
      expect(codeOf(run)).toBe(code);
    });
  }

  test("push() after finish() is ERR_SPLIT_LENGTH", () => {
    const m = new SplitMerger();
    m.push("protected", good.protected);
    m.push("direct", good.direct);
    m.finish();
    expect(codeOf(() => m.push("direct", new Uint8Array(1)))).toBe("ERR_SPLIT_LENGTH");
  });

  test("every single-byte corruption of either part is caught, never merged silently (seeded sample)", () => {
    const r = seededInts(5);
    for (let i = 0; i < 400; i++) {
      const which = r(2) ? "protected" : "direct";
      const part = good[which];
      const bad = flip(part, r(part.length));
      const code = codeOf(() => mergeBytes({ ...good, [which]: bad }));
      expect(code.startsWith("ERR_SPLIT_")).toBe(true);
    }
  });
});
