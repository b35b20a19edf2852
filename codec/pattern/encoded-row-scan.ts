/** @module One pass over a pattern table's encoded rows: where to cut them into blocks, the checkpoints, and the last range's end, checked as it goes. */
import { codecError } from "../codec-error.ts";
import { longVarint, varintEnd } from "./long-varint.ts";

export interface EncodedRowScan {
  /** Byte offsets, at row boundaries, where each block but the last ends (each block at most blockBytes). */
  cuts: number[];
  /** Per checkpoint k (row k × checkpointRows): its position, block × blockBytes + byte, and the end before it. */
  checkPos: Float64Array<ArrayBuffer>;
  checkEnd: Float64Array<ArrayBuffer>;
  /** The end (offset + length) of the last range; 0 for no rows. */
  end: number;
}

/**
 * Reads `count` rows (the gap from the previous range's end and the length, two unsigned LEB128 numbers each)
 * of `encoded`, as the pattern header stores them (docs/split-format.md), without decoding them into anything:
 * PatternRangeTable.fromEncoded() keeps the rows where they are and needs only where its blocks and checkpoints
 * fall. Throws ERR_PATTERN_RANGES when the bytes end inside a row, a sum passes 2^53, or bytes follow the rows.
 */
export function scanEncodedRows(
  encoded: Uint8Array,
  count: number,
  o: { blockBytes: number; checkpointRows: number },
): EncodedRowScan {
  const checkpoints = Math.ceil(count / o.checkpointRows);
  const checkPos = new Float64Array(Math.max(64, checkpoints));
  const checkEnd = new Float64Array(Math.max(64, checkpoints));
  const cuts: number[] = [];
  let blockStart = 0;
  let at = 0;
  let end = 0;
  for (let i = 0; i < count; i++) {
    const rowStart = at;
    let gap = encoded[at]!;
    if (gap < 0x80) at++;
    else {
      gap = longVarint(encoded, at);
      at = varintEnd;
    }
    let len = encoded[at]!;
    if (len < 0x80) at++;
    else {
      len = longVarint(encoded, at);
      at = varintEnd;
    }
    if (!(at <= encoded.length) || !Number.isSafeInteger(end + gap + len))
      throw codecError("ERR_PATTERN_RANGES", `Cannot list pattern range ${i}: the table ends inside it`, at);
    // A block ends at the last row that fits it whole: the readers step to the next block at a row boundary.
    if (at - blockStart > o.blockBytes) {
      cuts.push(rowStart);
      blockStart = rowStart;
    }
    if (i % o.checkpointRows === 0) {
      const k = i / o.checkpointRows;
      checkPos[k] = cuts.length * o.blockBytes + (rowStart - blockStart);
      checkEnd[k] = end;
    }
    end += gap + len;
  }
  if (at !== encoded.length)
    throw codecError(
      "ERR_PATTERN_RANGES",
      `Cannot list pattern ranges: ${encoded.length - at} bytes follow the ${count} rows`,
      at,
    );
  return { cuts, checkPos, checkEnd, end };
}
