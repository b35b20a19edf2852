/** @module Cuts a range table into version 5 segments (pattern-segment.ts) in body order, for the sender to put each ahead of the stretch it covers. */

import { type PatternRanges, PatternRangeTable } from "./pattern-range-table.ts";
import {
  encodePatternSegment,
  PATTERN_SEGMENT_DIGEST_BYTES,
  PATTERN_SEGMENT_FIXED_BYTES,
  PATTERN_SEGMENT_ROWS,
} from "./pattern-segment.ts";
import { varintBytes } from "./write-varint.ts";

/**
 * Segment k carries rows [k·PATTERN_SEGMENT_ROWS, (k + 1)·PATTERN_SEGMENT_ROWS) and covers the body up to the next
 * segment's first row (the body's end for the last): every stretch boundary falls in a gap between rows, so no
 * row is cut. There is always at least one segment, even for an empty body or a table without rows.
 */
export class PatternSegmentWriter {
  readonly #ranges: PatternRangeTable;
  readonly #bodyLength: number;
  readonly #headerDigest: Uint8Array;
  /** The next segment's number, and its first row. */
  #number = 0;
  #row = 0;
  /** Where the next segment's stretch starts (E_(k−1)); undefined once the last has gone. */
  #at: number | undefined = 0;
  /** The current segment's rows, one more to see where the next starts. */
  readonly #rows = new Float64Array(2 * (PATTERN_SEGMENT_ROWS + 1));

  constructor(ranges: PatternRanges, bodyLength: number, headerDigest: Uint8Array) {
    this.#ranges = PatternRangeTable.from(ranges);
    this.#bodyLength = bodyLength;
    this.#headerDigest = headerDigest;
  }

  /** The body position the next segment goes ahead of, or undefined when every segment has gone. */
  get nextAt(): number | undefined {
    return this.#at;
  }

  /**
   * The next segment, the end of the stretch it covers, and its rows as a table of their own (what the sender's
   * cipher takes for the stretch: only this writer reads the plan, in order). Throws RangeError after the last.
   */
  next(): { bytes: Uint8Array; bodyEnd: number; ranges: PatternRangeTable } {
    const bodyStart = this.#at;
    if (bodyStart === undefined)
      throw new RangeError("Cannot write a pattern segment: the last one has gone");
    const { rows, count, bodyEnd } = this.#read();
    const bytes = encodePatternSegment({
      number: this.#number,
      bodyStart,
      bodyEnd,
      rows,
      rowCount: count,
      headerDigest: this.#headerDigest,
    });
    const ranges = new PatternRangeTable();
    for (let r = 0; r < 2 * count; r += 2) ranges.push(rows[r]!, rows[r + 1]!);
    this.#number++;
    this.#row += count;
    this.#at = bodyEnd === this.#bodyLength ? undefined : bodyEnd;
    return { bytes, bodyEnd, ranges };
  }

  /** The current segment's rows and where its stretch ends. */
  #read(): { rows: Float64Array; count: number; bodyEnd: number } {
    const rows = this.#rows;
    const n = this.#ranges.readRows(this.#row, rows);
    const count = Math.min(n, PATTERN_SEGMENT_ROWS);
    return { rows, count, bodyEnd: n > count ? rows[2 * count]! : this.#bodyLength };
  }

  /**
   * The bytes every segment of `ranges` takes together, without encoding them (a sender says its part's length
   * before it sends): the first row of each segment after the first has gap 0, the others keep the table's gaps.
   */
  static totalBytes(ranges: PatternRanges): number {
    const table = PatternRangeTable.from(ranges);
    const segments = Math.max(1, Math.ceil(table.count / PATTERN_SEGMENT_ROWS));
    let bytes = segments * (PATTERN_SEGMENT_FIXED_BYTES + PATTERN_SEGMENT_DIGEST_BYTES);
    let prev = 0;
    table.forEach((offset, length, i) => {
      // A segment's first gap is from its own start, which for every segment but the first is that row's offset.
      const gap = i === 0 ? offset : i % PATTERN_SEGMENT_ROWS === 0 ? 0 : offset - prev;
      bytes += varintBytes(gap) + varintBytes(length);
      prev = offset + length;
    });
    return bytes;
  }
}
