/** @module Tests of sliceEndRanges() and sliceEndsPlan(): spans cut to their two ends, short spans whole, bad widths refused. */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { indexRecording } from "../../codec/container/index-recording.ts";
import { PatternRangeTable } from "../../codec/pattern/pattern-range-table.ts";
import { sliceEndRanges, sliceEndsPlan } from "./slice-ends-plan.ts";

const ES = new Uint8Array(readFileSync(join(import.meta.dir, "../../testdata/es/mpeg2-gop12.m2v")));

function table(spans: Array<[number, number]>): PatternRangeTable {
  return PatternRangeTable.from(spans.map(([offset, length]) => ({ offset, length })));
}

describe("sliceEndRanges()", () => {
  const cases: Array<{
    name: string;
    spans: Array<[number, number]>;
    bytes: number;
    want: Array<[number, number]>;
  }> = [
    { name: "keeps a span of exactly twice the width whole", spans: [[10, 8]], bytes: 4, want: [[10, 8]] },
    { name: "keeps a shorter span whole", spans: [[0, 3]], bytes: 4, want: [[0, 3]] },
    {
      name: "cuts a longer span to its first and last bytes",
      spans: [[100, 9]],
      bytes: 4,
      want: [
        [100, 4],
        [105, 4],
      ],
    },
    {
      name: "cuts each span on its own, in order",
      spans: [
        [0, 2],
        [50, 100],
      ],
      bytes: 8,
      want: [
        [0, 2],
        [50, 8],
        [142, 8],
      ],
    },
    { name: "gives nothing for no spans", spans: [], bytes: 4, want: [] },
  ];
  for (const c of cases) {
    test(`sliceEndRanges() ${c.name}`, () => {
      const got = sliceEndRanges(table(c.spans), c.bytes).map((r) => [r.offset, r.length]);
      expect(got).toEqual(c.want);
    });
  }

  for (const bytes of [0, -1, 1.5, Number.NaN]) {
    test(`sliceEndRanges() rejects a width of ${bytes}`, () => {
      expect(() => sliceEndRanges(table([[0, 10]]), bytes)).toThrow(RangeError);
    });
  }
});

describe("sliceEndsPlan()", () => {
  test("sliceEndsPlan() encrypts at most twice the width per slice, and counts what it encrypts", () => {
    const index = indexRecording(ES);
    const plan = sliceEndsPlan(ES, index, { kind: "slice-ends", bytes: 32 });
    expect(plan.ranges.length).toBeGreaterThan(0);
    expect(plan.encryptedBytes).toBe(plan.ranges.reduce((a, r) => a + r.length, 0));
    for (const r of plan.ranges) expect(r.length).toBeLessThanOrEqual(64);
  });
});
