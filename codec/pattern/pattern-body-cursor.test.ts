/** @module Tests of the body position the pattern ciphers share: claims past the body, the end check, skip(). */
import { describe, expect, test } from "bun:test";
import { PatternBodyCursor, SKIP_SCRATCH_BYTES } from "./pattern-body-cursor.ts";

describe("PatternBodyCursor", () => {
  const claims: Array<[string, number, number[], number | "ERR_PATTERN_LENGTH"]> = [
    ["the whole body in one claim", 10, [10], 10],
    ["the body in pieces, empty ones too", 10, [3, 0, 7], 10],
    ["a claim past the body's end", 10, [6, 5], "ERR_PATTERN_LENGTH"],
    ["any claim of an empty body but an empty one", 0, [0, 1], "ERR_PATTERN_LENGTH"],
  ];
  for (const [name, length, takes, want] of claims) {
    test(`PatternBodyCursor.take() with ${name}`, () => {
      const c = new PatternBodyCursor(length);
      const run = () => {
        const starts = takes.map((n) => c.take(n));
        return starts;
      };
      if (want === "ERR_PATTERN_LENGTH") {
        expect(run).toThrow(expect.objectContaining({ code: "ERR_PATTERN_LENGTH" }));
        // A refused claim moves nothing: the position is where the last accepted claim left it.
        expect(c.position).toBe(takes.slice(0, -1).reduce((a, b) => a + b, 0));
        return;
      }
      const starts = run();
      expect(starts).toEqual(takes.map((_, i) => takes.slice(0, i).reduce((a, b) => a + b, 0)));
      expect(c.position).toBe(want);
      c.finish();
    });
  }

  const ends: Array<[string, number, number, number]> = [
    ["a short body", 10, 9, 0],
    ["a whole body with bytes still held back", 10, 10, 3],
  ];
  for (const [name, length, taken, held] of ends) {
    test(`PatternBodyCursor.finish() rejects ${name}`, () => {
      const c = new PatternBodyCursor(length);
      c.take(taken);
      expect(() => c.finish(held)).toThrow(expect.objectContaining({ code: "ERR_PATTERN_LENGTH" }));
    });
  }

  for (const n of [0, 5, SKIP_SCRATCH_BYTES, 2 * SKIP_SCRATCH_BYTES + 7]) {
    test(`PatternBodyCursor.skip() hands over ${n} scratch bytes in pieces of at most SKIP_SCRATCH_BYTES`, () => {
      const sizes: number[] = [];
      PatternBodyCursor.skip(n, (c) => sizes.push(c.length));
      expect(sizes.reduce((a, b) => a + b, 0)).toBe(n);
      expect(sizes.every((s) => s > 0 && s <= SKIP_SCRATCH_BYTES)).toBe(true);
    });
  }
});
