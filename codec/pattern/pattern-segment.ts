/** @module One segment of a version 5 pattern part: the rows of the range table that cover the next stretch of the direct body, sent just ahead of it. */

import { createHash } from "node:crypto";
import { codecError } from "../codec-error.ts";
import { PatternRangeTable } from "./pattern-range-table.ts";
import { TableVarintReader } from "./table-varint-reader.ts";
import { writeVarint } from "./write-varint.ts";

// Layout (docs/split-format.md, "Pattern header version 5: the table in segments"; integers big-endian, varints
// unsigned LEB128):
//
//   offset  size  field
//   0       4     segment number k: 0, 1, 2, … in body order
//   4       4     segment length S (this whole segment, digest included)
//   8       8     body end E_k: the segment covers direct-body bytes [E_(k−1), E_k) (E_(−1) = 0)
//   16      4     row count R (≤ PATTERN_SEGMENT_ROWS)
//   20      …     R × (gap varint, length varint): the first gap from E_(k−1), the others from the previous row's
//                 end; every row lies inside [E_(k−1), E_k)
//   S − 32  32    SHA-256 of the pattern header's digest, then of segment bytes [0, S − 32)
//
// The body bytes [E_(k−1), E_k) follow the segment; the last segment's E is the body length.

/** Bytes before a segment's rows. */
export const PATTERN_SEGMENT_FIXED_BYTES = 20;
/** Bytes of a segment's digest. */
export const PATTERN_SEGMENT_DIGEST_BYTES = 32;
/** Rows a segment carries at most: ~12 KiB of varints on an SD ES, so a receiver holds that much of the table. */
export const PATTERN_SEGMENT_ROWS = 4096;
/** A row is two varints of at most 8 bytes each (values ≤ 2^53 − 1). */
const MAX_ROW_BYTES = 16;
/** The largest segment a reader gathers (64 KiB of rows at most, and the fixed bytes and digest). */
export const MAX_PATTERN_SEGMENT_BYTES =
  PATTERN_SEGMENT_FIXED_BYTES + PATTERN_SEGMENT_ROWS * MAX_ROW_BYTES + PATTERN_SEGMENT_DIGEST_BYTES;
/** Bytes of a segment that say its length (number and length). */
export const PATTERN_SEGMENT_PEEK_BYTES = 8;

/** What a segment says. */
export interface PatternSegment {
  number: number;
  /** The body byte the segment's stretch ends at (exclusive). */
  bodyEnd: number;
  /** Its rows, in body offsets. */
  ranges: PatternRangeTable;
  /** Σ row lengths. */
  rangeBytes: number;
  length: number;
}

/** Where a segment is read: what it must follow. */
export interface PatternSegmentPlace {
  /** The number it must carry: one past the last segment's. */
  number: number;
  /** E_(k−1): where its stretch starts. */
  bodyStart: number;
  /** The direct body's length: no stretch ends past it. */
  bodyLength: number;
  /** The pattern header's digest (its last 32 bytes): binds the segment to this part. */
  headerDigest: Uint8Array;
}

function fail(code: string, message: string, offset: number): never {
  throw codecError(code, `Cannot read pattern segment: ${message}`, offset);
}

/**
 * The segment length announced by a segment's first 8 bytes, or undefined until they are in. Throws
 * ERR_PATTERN_SEGMENT_ORDER for another number than `number` and ERR_PATTERN_SEGMENT_LENGTH for a length outside
 * what a segment can be, so a reader never gathers toward a nonsense length.
 */
export function peekPatternSegmentLength(bytes: Uint8Array, number: number): number | undefined {
  if (bytes.length < PATTERN_SEGMENT_PEEK_BYTES) return undefined;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (v.getUint32(0) !== number)
    fail("ERR_PATTERN_SEGMENT_ORDER", `segment ${v.getUint32(0)} came where ${number} belongs`, 0);
  const length = v.getUint32(4);
  const least = PATTERN_SEGMENT_FIXED_BYTES + PATTERN_SEGMENT_DIGEST_BYTES;
  if (length < least || length > MAX_PATTERN_SEGMENT_BYTES)
    fail(
      "ERR_PATTERN_SEGMENT_LENGTH",
      `length ${length} is outside ${least}..${MAX_PATTERN_SEGMENT_BYTES}`,
      4,
    );
  return length;
}

function segmentDigest(headerDigest: Uint8Array, bytes: Uint8Array): Buffer {
  return createHash("sha256").update(headerDigest).update(bytes).digest();
}

/**
 * Decodes one whole segment (exactly its bytes) found at `place`. Throws ERR_PATTERN_SEGMENT_ORDER,
 * ERR_PATTERN_SEGMENT_LENGTH, ERR_PATTERN_SEGMENT_DIGEST (checked before any other field is believed) and
 * ERR_PATTERN_RANGES (a row outside the segment's stretch, a stretch past the body or not moving on).
 */
export function decodePatternSegment(bytes: Uint8Array, place: PatternSegmentPlace): PatternSegment {
  const length = peekPatternSegmentLength(bytes, place.number);
  if (length === undefined || bytes.length !== length)
    fail("ERR_PATTERN_SEGMENT_LENGTH", `given ${bytes.length} bytes, the segment says ${length ?? "?"}`, 4);
  const digestAt = length - PATTERN_SEGMENT_DIGEST_BYTES;
  if (!segmentDigest(place.headerDigest, bytes.subarray(0, digestAt)).equals(bytes.subarray(digestAt)))
    fail("ERR_PATTERN_SEGMENT_DIGEST", "the segment digest does not match", digestAt);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = v.getBigUint64(8);
  const { bodyStart, bodyLength } = place;
  // Only an empty body has a segment that covers nothing: every other segment moves the stretch on.
  if (end > BigInt(bodyLength) || Number(end) < bodyStart || (Number(end) === bodyStart && bodyLength > 0))
    fail("ERR_PATTERN_RANGES", `body end ${end} is not after ${bodyStart} and inside ${bodyLength}`, 8);
  const bodyEnd = Number(end);
  const count = v.getUint32(16);
  if (count > PATTERN_SEGMENT_ROWS || count * 2 > digestAt - PATTERN_SEGMENT_FIXED_BYTES)
    fail("ERR_PATTERN_SEGMENT_LENGTH", `${count} rows cannot fit the segment`, 16);
  const table = new TableVarintReader(bytes, PATTERN_SEGMENT_FIXED_BYTES, digestAt);
  const ranges = new PatternRangeTable();
  let at = bodyStart;
  let sum = 0;
  for (let i = 0; i < count; i++) {
    const offset = at + table.next();
    const rowLength = table.next();
    // The first row may start at E_(k−1); the others leave a gap (rows are non-adjacent, as in version 1).
    if (rowLength < 1 || (i > 0 && offset === at) || offset + rowLength > bodyEnd)
      fail(
        "ERR_PATTERN_RANGES",
        `row ${i} (${offset}+${rowLength}) is empty, adjacent or past ${bodyEnd}`,
        table.at,
      );
    ranges.push(offset, rowLength);
    at = offset + rowLength;
    sum += rowLength;
  }
  if (table.at !== digestAt)
    fail("ERR_PATTERN_RANGES", `${digestAt - table.at} bytes follow the segment's rows`, table.at);
  return { number: place.number, bodyEnd, ranges, rangeBytes: sum, length };
}

/** What a segment is made from. */
export interface PatternSegmentFields {
  number: number;
  bodyStart: number;
  bodyEnd: number;
  /** Rows as (offset, length) pairs, in order, inside [bodyStart, bodyEnd); `rowCount` of them are used. */
  rows: Float64Array;
  rowCount: number;
  headerDigest: Uint8Array;
}

/** Encodes one segment. Throws ERR_PATTERN_RANGES on rows it could not decode back, ERR_PATTERN_SEGMENT_LENGTH on too many. */
export function encodePatternSegment(s: PatternSegmentFields): Uint8Array {
  if (s.rowCount > PATTERN_SEGMENT_ROWS)
    throw codecError(
      "ERR_PATTERN_SEGMENT_LENGTH",
      `Cannot write pattern segment: ${s.rowCount} rows are over ${PATTERN_SEGMENT_ROWS}`,
      16,
    );
  const out = new Uint8Array(
    PATTERN_SEGMENT_FIXED_BYTES + s.rowCount * MAX_ROW_BYTES + PATTERN_SEGMENT_DIGEST_BYTES,
  );
  let at = PATTERN_SEGMENT_FIXED_BYTES;
  let prev = s.bodyStart;
  for (let r = 0; r < 2 * s.rowCount; r += 2) {
    const offset = s.rows[r]!;
    const rowLength = s.rows[r + 1]!;
    if (offset < prev || (r > 0 && offset === prev) || rowLength < 1 || offset + rowLength > s.bodyEnd)
      throw codecError(
        "ERR_PATTERN_RANGES",
        `Cannot write pattern segment: row ${r / 2} (${offset}+${rowLength}) is out of order or outside ${s.bodyStart}..${s.bodyEnd}`,
        at,
      );
    at = writeVarint(out, at, offset - prev);
    at = writeVarint(out, at, rowLength);
    prev = offset + rowLength;
  }
  const length = at + PATTERN_SEGMENT_DIGEST_BYTES;
  const v = new DataView(out.buffer);
  v.setUint32(0, s.number);
  v.setUint32(4, length);
  v.setBigUint64(8, BigInt(s.bodyEnd));
  v.setUint32(16, s.rowCount);
  out.set(segmentDigest(s.headerDigest, out.subarray(0, at)), at);
  return out.subarray(0, length);
}
