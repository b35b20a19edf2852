/** @module Tests of PatternSegmentWriter: where it cuts a table into segments, and that totalBytes() is what it writes. */
import { describe, expect, test } from "bun:test";
import { PatternRangeTable } from "./pattern-range-table.ts";
import { decodePatternSegment, PATTERN_SEGMENT_ROWS } from "./pattern-segment.ts";
import { PatternSegmentWriter } from "./pattern-segment-writer.ts";

const DIGEST = new Uint8Array(32).fill(1);

function table(count: number, first = 0): PatternRangeTable {
  const t = new PatternRangeTable();
  for (let i = 0; i < count; i++) t.push(first + i * 300 + (i % 5), 100 + (i % 7) * 20);
  return t;
}

describe("PatternSegmentWriter", () => {
  const cases: Array<[string, PatternRangeTable, number, number]> = [
    ["an empty body", new PatternRangeTable(), 0, 1],
    ["a body with no rows", new PatternRangeTable(), 1000, 1],
    ["fewer rows than a segment", table(10, 50), 4000, 1],
    ["exactly a segment's rows", table(PATTERN_SEGMENT_ROWS), PATTERN_SEGMENT_ROWS * 300 + 10, 1],
    ["one row more", table(PATTERN_SEGMENT_ROWS + 1, 7), (PATTERN_SEGMENT_ROWS + 1) * 300 + 10, 2],
    [
      "three segments and a bit",
      table(3 * PATTERN_SEGMENT_ROWS + 17),
      (3 * PATTERN_SEGMENT_ROWS + 17) * 300,
      4,
    ],
  ];
  for (const [name, ranges, bodyLength, segments] of cases) {
    test(`PatternSegmentWriter cuts ${name} into ${segments} segment(s), each stretch at the next segment's first row`, () => {
      const w = new PatternSegmentWriter(ranges, bodyLength, DIGEST);
      let bodyStart = 0;
      let bytes = 0;
      const rows: Array<{ offset: number; length: number }> = [];
      let n = 0;
      while (w.nextAt !== undefined) {
        expect(w.nextAt).toBe(bodyStart);
        const next = w.next();
        const seg = decodePatternSegment(next.bytes, {
          number: n,
          bodyStart,
          bodyLength,
          headerDigest: DIGEST,
        });
        expect(seg.bodyEnd).toBe(next.bodyEnd);
        if (next.bodyEnd < bodyLength)
          expect(ranges.offsetAt(rows.length + seg.ranges.count)).toBe(next.bodyEnd);
        rows.push(...seg.ranges.toArray());
        bytes += next.bytes.length;
        bodyStart = next.bodyEnd;
        n++;
      }
      expect([n, bodyStart]).toEqual([segments, bodyLength]);
      expect(rows).toEqual(ranges.toArray());
      expect(PatternSegmentWriter.totalBytes(ranges)).toBe(bytes);
      expect(() => w.next()).toThrow(RangeError);
    });
  }
});
