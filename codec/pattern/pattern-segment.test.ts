/** @module Tests of encodePatternSegment() and decodePatternSegment(): round trips of a segment's fields and rows, and what the encoder refuses to write. */
import { describe, expect, test } from "bun:test";
import { expectCodecError } from "../../test/support/expect-codec-error.ts";
import {
  decodePatternSegment,
  encodePatternSegment,
  PATTERN_SEGMENT_ROWS,
  type PatternSegmentFields,
  peekPatternSegmentLength,
} from "./pattern-segment.ts";

const DIGEST = new Uint8Array(32).fill(5);

function fields(rows: Array<[number, number]>, o: Partial<PatternSegmentFields> = {}): PatternSegmentFields {
  return {
    number: 3,
    bodyStart: 1000,
    bodyEnd: 5000,
    rows: Float64Array.from(rows.flat()),
    rowCount: rows.length,
    headerDigest: DIGEST,
    ...o,
  };
}

describe("pattern segments", () => {
  const valid: Array<[string, Array<[number, number]>, Partial<PatternSegmentFields>]> = [
    ["no rows", [], {}],
    ["a row at the stretch's start", [[1000, 10]], {}],
    [
      "rows up to the stretch's end",
      [
        [1000, 10],
        [1200, 3],
        [4990, 10],
      ],
      {},
    ],
    ["offsets past 2^32", [[2 ** 40 + 5, 100]], { bodyStart: 2 ** 40, bodyEnd: 2 ** 40 + 1000 }],
    [
      "a full segment",
      Array.from({ length: PATTERN_SEGMENT_ROWS }, (_, i): [number, number] => [1000 + i * 2, 1]),
      { bodyEnd: 1000 + 2 * PATTERN_SEGMENT_ROWS },
    ],
  ];
  for (const [name, rows, o] of valid) {
    test(`encodePatternSegment() round-trips ${name}`, () => {
      const f = fields(rows, o);
      const bytes = encodePatternSegment(f);
      expect(peekPatternSegmentLength(bytes.subarray(0, 8), f.number)).toBe(bytes.length);
      const seg = decodePatternSegment(bytes, {
        number: f.number,
        bodyStart: f.bodyStart,
        bodyLength: f.bodyEnd + 1,
        headerDigest: DIGEST,
      });
      expect(seg.bodyEnd).toBe(f.bodyEnd);
      expect(seg.ranges.toArray()).toEqual(rows.map(([offset, length]) => ({ offset, length })));
      expect(seg.rangeBytes).toBe(rows.reduce((n, [, l]) => n + l, 0));
    });
  }

  const invalid: Array<[string, Array<[number, number]>, Partial<PatternSegmentFields>, string]> = [
    ["a row before the stretch", [[999, 5]], {}, "ERR_PATTERN_RANGES"],
    ["a row past the stretch", [[4990, 11]], {}, "ERR_PATTERN_RANGES"],
    [
      "adjacent rows",
      [
        [1000, 10],
        [1010, 5],
      ],
      {},
      "ERR_PATTERN_RANGES",
    ],
    [
      "rows out of order",
      [
        [2000, 10],
        [1500, 5],
      ],
      {},
      "ERR_PATTERN_RANGES",
    ],
    ["an empty row", [[2000, 0]], {}, "ERR_PATTERN_RANGES"],
    [
      "more rows than a segment carries",
      [],
      { rowCount: PATTERN_SEGMENT_ROWS + 1 },
      "ERR_PATTERN_SEGMENT_LENGTH",
    ],
  ];
  for (const [name, rows, o, code] of invalid)
    test(`encodePatternSegment() rejects ${name} with ${code}`, () =>
      expectCodecError(() => encodePatternSegment(fields(rows, o)), code));

  test("peekPatternSegmentLength() waits for 8 bytes and checks the number first", () => {
    const bytes = encodePatternSegment(fields([[1000, 10]]));
    expect(peekPatternSegmentLength(bytes.subarray(0, 7), 3)).toBeUndefined();
    expectCodecError(() => peekPatternSegmentLength(bytes, 4), "ERR_PATTERN_SEGMENT_ORDER");
  });
});
