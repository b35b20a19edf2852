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
  const rows = new EncodedRowCuts(count, o);
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
    rows.row(rowStart, at, end);
    end += gap + len;
  }
  if (at !== encoded.length)
    throw codecError(
      "ERR_PATTERN_RANGES",
      `Cannot list pattern ranges: ${encoded.length - at} bytes follow the ${count} rows`,
      at,
    );
  return { cuts: rows.cuts, checkPos: rows.checkPos, checkEnd: rows.checkEnd, end };
}

/**
 * Where a table's encoded rows are cut into blocks and where its checkpoints fall, fed one row at a time:
 * scanEncodedRows() feeds it from rows in memory, a receiver's spilled header (spilled-pattern-header.ts) from
 * its table walk. PatternRangeTable's readers step to the next block at exactly these cuts, so both must cut
 * alike.
 */
export class EncodedRowCuts {
  /** Byte offsets, at row boundaries, where each block but the last ends. */
  readonly cuts: number[] = [];
  /** Per checkpoint k (row k × checkpointRows): its position, block × blockBytes + byte, and the end before it. */
  readonly checkPos: Float64Array<ArrayBuffer>;
  readonly checkEnd: Float64Array<ArrayBuffer>;
  readonly #blockBytes: number;
  readonly #checkpointRows: number;
  #blockStart = 0;
  #rows = 0;

  /** For `count` rows, blocks of at most `blockBytes`, a checkpoint every `checkpointRows` rows. */
  constructor(count: number, o: { blockBytes: number; checkpointRows: number }) {
    const checkpoints = Math.max(64, Math.ceil(count / o.checkpointRows));
    this.checkPos = new Float64Array(checkpoints);
    this.checkEnd = new Float64Array(checkpoints);
    this.#blockBytes = o.blockBytes;
    this.#checkpointRows = o.checkpointRows;
  }

  /** The next row: its bytes [rowStart, rowEnd) in table offsets, and the end (offset + length) of the range before it. */
  row(rowStart: number, rowEnd: number, endBefore: number): void {
    // A block ends at the last row that fits it whole: the readers step to the next block at a row boundary.
    if (rowEnd - this.#blockStart > this.#blockBytes) {
      this.cuts.push(rowStart);
      this.#blockStart = rowStart;
    }
    const i = this.#rows++;
    if (i % this.#checkpointRows === 0) {
      const k = i / this.#checkpointRows;
      this.checkPos[k] = this.cuts.length * this.#blockBytes + (rowStart - this.#blockStart);
      this.checkEnd[k] = endBefore;
    }
  }
}
