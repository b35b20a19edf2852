import { describe, expect, test } from "bun:test";
import type { ByteRange } from "../recording-index.ts";
import { PatternRangeTable } from "./pattern-range-table.ts";

/** Ranges across block boundaries (64 Ki per block), with offsets and lengths past 32 bits. */
function ranges(n: number): ByteRange[] {
  const out: ByteRange[] = [];
  for (let i = 0; i < n; i++)
    out.push({ offset: i * 2 ** 33 + (i % 7), length: (i % 3) + 1 + (i === 5 ? 2 ** 40 : 0) });
  return out;
}

describe("PatternRangeTable", () => {
  test.each([0, 1, 65_535, 65_536, 65_537, 140_000])(
    "from() of %i ranges keeps every offset and length",
    (n) => {
      const want = ranges(n);
      const t = PatternRangeTable.from(want);
      expect(t.count).toBe(n);
      expect(t.toArray()).toEqual(want);
      for (const i of [0, n >> 1, n - 1].filter((i) => i >= 0 && i < n)) {
        expect(t.offsetAt(i)).toBe(want[i]!.offset);
        expect(t.lengthAt(i)).toBe(want[i]!.length);
      }
      const last = want[n - 1];
      expect(t.end()).toBe(last === undefined ? 0 : last.offset + last.length);
    },
  );

  test("forEach() visits ranges in order with their index", () => {
    const want = ranges(70_000);
    const seen: number[] = [];
    let ok = true;
    PatternRangeTable.from(want).forEach((offset, length, i) => {
      seen.push(i);
      if (want[i]!.offset !== offset || want[i]!.length !== length) ok = false;
    });
    expect(ok).toBe(true);
    expect(seen.length).toBe(70_000);
    expect(seen[69_999]).toBe(69_999);
  });

  test("from() returns a table as is", () => {
    const t = PatternRangeTable.from([{ offset: 3, length: 4 }]);
    expect(PatternRangeTable.from(t)).toBe(t);
  });
});
