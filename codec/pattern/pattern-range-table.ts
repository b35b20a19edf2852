/** @module A compact table of pattern ranges: each range two varints in byte blocks, as the pattern header stores them, not an object per range. */
import { codecError } from "../codec-error.ts";
import type { ByteRange } from "../recording-index.ts";
import { type EncodedRowScan, scanEncodedRows } from "./encoded-row-scan.ts";
import { longVarint, varintEnd } from "./long-varint.ts";
import { type RangeBlockStore, StoredBlocks } from "./stored-blocks.ts";
import { writeVarint } from "./write-varint.ts";

/** Bytes of the largest storage block: 1 MiB, about 370 Ki ranges of a TS plan. Blocks start at 4 KiB and double. */
export const RANGE_BLOCK_BYTES = 1 << 20;
const BLOCK_BYTES = RANGE_BLOCK_BYTES;
const FIRST_BLOCK_BYTES = 4096;
/** A row is two varints of at most 8 bytes each (values ≤ 2^53 − 1): a block takes no row past this point. */
const MAX_ROW_BYTES = 16;
/** A checkpoint (block, byte, previous end) every this many rows: random access decodes at most this many. */
const CHECKPOINT_ROWS = 32;
/** The same with a block store: read in order, it needs few, and 16 bytes per 32 rows grew with the plan. */
const STORED_CHECKPOINT_ROWS = 8192;
/** Rows a sequential reader decodes at a time (readRows()). */
export const WINDOW_ROWS = 1024;
/** What a given-back block is replaced with (releaseBefore()). */
const RELEASED = new Uint8Array(0);

/**
 * The ranges of a pattern plan or header, in order. Each range is stored as the pattern header's table has it
 * (docs/security.md, pattern header): unsigned LEB128 varints of its gap from the previous range's end and of
 * its length, about 3 bytes a range. As `{offset, length}` objects ranges took ~40 bytes of heap each and as
 * many GC-traced objects; as two doubles 16 bytes, which on a TS (a range per 16-byte block, 1.8 M ranges for
 * 280 MB) made each table 28 MB of fresh memory, and touching fresh memory is what cost most: about 100 ms
 * per such table on this machine (page faults), against 5-10 ms for writing the same bytes again. Encoded,
 * the same table is 5 MB, and the header encoder copies it as it is.
 *
 * Ranges must come in order (offset ≥ the previous range's end), as every plan lists them. Reads in order
 * (offsetAt(i) after offsetAt(i − 1), or the same i again) decode one row; others start from a checkpoint.
 */
export class PatternRangeTable {
  readonly #blocks: Uint8Array[] = [];
  /** Bytes used of each block. */
  readonly #used: number[] = [];
  #count = 0;
  #end = 0;
  /** Write position: the current block and the next free byte in it. */
  #block: Uint8Array = new Uint8Array(0);
  #at = 0;
  /** Checkpoints: the position (block × BLOCK_BYTES + byte) of row k × CHECKPOINT_ROWS, and the end before it. */
  #checkPos = new Float64Array(64);
  #checkEnd = new Float64Array(64);
  /** Read cursor: row #row decoded (offset, length), the next row's position. */
  #row = -1;
  #rowOffset = 0;
  #rowLength = 0;
  #nextBlock = 0;
  #nextAt = 0;
  /** Blocks before this one were given back (releaseBefore()). */
  #released = 0;
  /** The blocks are views of a caller's bytes (fromEncoded()), not the table's own. */
  #adopted = false;
  /** Where full blocks go (the constructor's `store`). */
  readonly #stored: StoredBlocks | undefined;
  /** Rows per checkpoint: CHECKPOINT_ROWS, or STORED_CHECKPOINT_ROWS with a store. */
  readonly #checkRows: number;

  /**
   * `store`: each block goes there once the next is begun, so the table holds one block however many rows it
   * has (a sender's plan, issue 14); readers get them back one at a time: for tables read in order.
   */
  constructor(o: { store?: RangeBlockStore | undefined } = {}) {
    this.#stored = o.store === undefined ? undefined : new StoredBlocks(o.store);
    this.#checkRows = o.store === undefined ? CHECKPOINT_ROWS : STORED_CHECKPOINT_ROWS;
  }

  /** Block `b`'s bytes: its own, or read back from the store into one reused buffer. */
  #blockAt(b: number): Uint8Array {
    const stored = this.#stored;
    return stored?.has(b) ? stored.read(b, this.#used[b]!, BLOCK_BYTES) : this.#blocks[b]!;
  }

  /** Block `b`'s written bytes as an array of their own or a view the table keeps (encodedViews()). */
  #written(b: number): Uint8Array {
    const used = this.#used[b]!;
    const stored = this.#stored;
    return stored?.has(b) ? stored.copy(b, used) : this.#blocks[b]!.subarray(0, used);
  }

  /** A table holding `ranges`, or `ranges` itself when it is a table already. */
  static from(ranges: PatternRanges): PatternRangeTable {
    if (ranges instanceof PatternRangeTable) return ranges;
    const table = new PatternRangeTable();
    for (const r of ranges) table.push(r.offset, r.length);
    return table;
  }

  /**
   * A table over `count` rows already encoded as the pattern header stores them (a decoded header's table bytes,
   * whose varints the caller has read once and found well formed): the rows stay where they are, as views of
   * `encoded`, cut at row boundaries into blocks of at most 1 MiB, instead of being decoded and encoded again
   * into a second copy (a receiver held both, ~3.3 MB a GiB of SD video each, issue 14). Throws
   * ERR_PATTERN_RANGES when the bytes do not hold exactly `count` rows.
   */
  static fromEncoded(encoded: Uint8Array, count: number): PatternRangeTable {
    const scan = scanEncodedRows(encoded, count, {
      blockBytes: BLOCK_BYTES,
      checkpointRows: CHECKPOINT_ROWS,
    });
    const t = new PatternRangeTable();
    t.#adopted = true;
    t.#checkPos = scan.checkPos;
    t.#checkEnd = scan.checkEnd;
    let start = 0;
    for (const cut of scan.cuts) {
      t.#blocks.push(encoded.subarray(start, cut));
      t.#used.push(cut - start);
      start = cut;
    }
    if (count > 0) {
      // The last block is a view exactly as long as its rows: a later push() starts a block of its own.
      t.#block = encoded.subarray(start);
      t.#blocks.push(t.#block);
      t.#used.push(encoded.length - start);
      t.#at = encoded.length - start;
    }
    t.#count = count;
    t.#end = scan.end;
    return t;
  }

  /**
   * A table over `count` rows already in `store` (a receiver's spilled header, codec/pattern/spilled-pattern-header.ts),
   * block i being `blockBytes[i]` bytes, cut at row boundaries, with the checkpoints of every
   * STORED_CHECKPOINT_ROWS rows and the last range's end (`scan`, as scanEncodedRows() gives them for that
   * spacing): the rows are read back one block at a time, in order, so the table holds one block however long it
   * is. Nothing may be pushed to it.
   */
  static fromStored(
    store: RangeBlockStore,
    o: { blockBytes: readonly number[]; scan: Omit<EncodedRowScan, "cuts">; count: number },
  ): PatternRangeTable {
    const t = new PatternRangeTable({ store });
    const stored = t.#stored!;
    t.#adopted = true;
    t.#checkPos = o.scan.checkPos;
    t.#checkEnd = o.scan.checkEnd;
    o.blockBytes.forEach((used, b) => {
      t.#blocks.push(RELEASED);
      t.#used.push(used);
      stored.adopt(b);
    });
    t.#block = RELEASED;
    t.#at = o.blockBytes.at(-1) ?? 0;
    t.#count = o.count;
    t.#end = o.scan.end;
    return t;
  }

  /** Rows between the checkpoints of a table with a store (fromStored()'s `scan`). */
  static readonly STORED_CHECKPOINT_ROWS = STORED_CHECKPOINT_ROWS;

  /** Number of ranges. */
  get count(): number {
    return this.#count;
  }

  /** Bytes the ranges take encoded: the pattern header's table without its chain list. */
  get encodedBytes(): number {
    this.#sync();
    let n = 0;
    for (const u of this.#used) n += u;
    return n;
  }

  /**
   * Appends a range. Throws ERR_PATTERN_RANGES when it starts before the previous one ends or is not made of
   * sizes; checkPatternRanges() checks the rest (empty or adjacent ranges, the body's end).
   */
  push(offset: number, length: number): void {
    const gap = offset - this.#end;
    if (!(gap >= 0) || !(length >= 0) || !Number.isSafeInteger(offset) || !Number.isSafeInteger(length)) {
      throw codecError(
        "ERR_PATTERN_RANGES",
        `Cannot list pattern range ${this.#count} (${offset}+${length}): it is out of order or not a size`,
        0,
      );
    }
    let b = this.#block;
    let at = this.#at;
    if (at + MAX_ROW_BYTES > b.length) {
      this.#sync();
      const size = Math.min(BLOCK_BYTES, Math.max(FIRST_BLOCK_BYTES, 2 * b.length));
      const last = this.#blocks.length - 1;
      if (this.#stored !== undefined && last >= 0 && this.#blocks[last] === b) {
        this.#stored.keep(last, b.subarray(0, this.#used[last]!));
        this.#blocks[last] = RELEASED;
        (b.buffer as ArrayBuffer).transfer?.(0);
      }
      b = new Uint8Array(size);
      this.#blocks.push(b);
      this.#used.push(0);
      this.#block = b;
      at = 0;
    }
    const i = this.#count;
    if ((i & (this.#checkRows - 1)) === 0) this.#checkpoint(i / this.#checkRows, at);
    at = writeVarint(b, at, gap);
    this.#at = writeVarint(b, at, length);
    this.#end = offset + length;
    this.#count = i + 1;
  }

  /** Notes the bytes used of the block being written (kept in #at while pushing, not stored per row). */
  #sync(): void {
    if (this.#blocks.length > 0) this.#used[this.#blocks.length - 1] = this.#at;
  }

  #checkpoint(k: number, at: number): void {
    if (k === this.#checkPos.length) {
      const pos = new Float64Array(2 * k);
      pos.set(this.#checkPos);
      this.#checkPos = pos;
      const end = new Float64Array(2 * k);
      end.set(this.#checkEnd);
      this.#checkEnd = end;
    }
    this.#checkPos[k] = (this.#blocks.length - 1) * BLOCK_BYTES + at;
    this.#checkEnd[k] = this.#end;
  }

  /** Moves the read cursor to row i (0 ≤ i < count). */
  #seek(i: number): void {
    if (i === this.#row) return;
    this.#sync();
    let row = this.#row;
    if (i !== row + 1 || row < 0) {
      // Not the next row: start from the checkpoint at or before it.
      const k = Math.floor(i / this.#checkRows);
      const pos = this.#checkPos[k]!;
      this.#nextBlock = Math.floor(pos / BLOCK_BYTES);
      this.#nextAt = pos - this.#nextBlock * BLOCK_BYTES;
      row = k * this.#checkRows - 1;
      this.#rowOffset = this.#checkEnd[k]!;
      this.#rowLength = 0;
    }
    let b = this.#nextBlock;
    let at = this.#nextAt;
    let block = this.#blockAt(b);
    let offset = this.#rowOffset;
    let length = this.#rowLength;
    while (row < i) {
      if (at === this.#used[b]) {
        block = this.#blockAt(++b);
        at = 0;
      }
      // Two varints, the usual one-byte case inline.
      let gap = block[at]!;
      if (gap < 0x80) at++;
      else {
        gap = longVarint(block, at);
        at = varintEnd;
      }
      let len = block[at]!;
      if (len < 0x80) at++;
      else {
        len = longVarint(block, at);
        at = varintEnd;
      }
      offset = offset + length + gap;
      length = len;
      row++;
    }
    this.#row = row;
    this.#rowOffset = offset;
    this.#rowLength = length;
    this.#nextBlock = b;
    this.#nextAt = at;
  }

  /**
   * Decodes rows from `from` into `out` as (offset, length) pairs, as many as fit or remain; returns how many.
   * The sequential readers (cipher, planner, header) take rows in windows like this: a plain array read per
   * row, the decoding in one tight loop.
   */
  readRows(from: number, out: Float64Array): number {
    const n = Math.min(out.length >>> 1, this.#count - from);
    if (n <= 0) return 0;
    this.#seek(from);
    this.#sync();
    out[0] = this.#rowOffset;
    out[1] = this.#rowLength;
    const used = this.#used;
    let b = this.#nextBlock;
    let at = this.#nextAt;
    let block = this.#blockAt(b);
    let limit = used[b]!;
    let end = this.#rowOffset + this.#rowLength;
    for (let r = 2; r < 2 * n; r += 2) {
      if (at === limit) {
        block = this.#blockAt(++b);
        limit = used[b]!;
        at = 0;
      }
      // Two varints, the usual one-byte case inline.
      let gap = block[at]!;
      if (gap < 0x80) at++;
      else {
        gap = longVarint(block, at);
        at = varintEnd;
      }
      let len = block[at]!;
      if (len < 0x80) at++;
      else {
        len = longVarint(block, at);
        at = varintEnd;
      }
      const offset = end + gap;
      out[r] = offset;
      out[r + 1] = len;
      end = offset + len;
    }
    this.#row = from + n - 1;
    this.#rowOffset = out[2 * n - 2]!;
    this.#rowLength = out[2 * n - 1]!;
    this.#nextBlock = b;
    this.#nextAt = at;
    return n;
  }

  /** Offset of range `i` (0 ≤ i < count; undefined behaviour past it: NaN or a throw). */
  offsetAt(i: number): number {
    this.#seek(i);
    return this.#rowOffset;
  }

  /** Length of range `i` (0 ≤ i < count). */
  lengthAt(i: number): number {
    this.#seek(i);
    return this.#rowLength;
  }

  /** Where the last range ends, 0 for an empty table. */
  end(): number {
    return this.#end;
  }

  /** Calls `fn(offset, length, i)` for every range in order: the walk without an object per range. */
  forEach(fn: (offset: number, length: number, i: number) => void): void {
    const rows = new Float64Array(2 * WINDOW_ROWS);
    for (let i = 0; i < this.#count; ) {
      const n = this.readRows(i, rows);
      for (let r = 0; r < 2 * n; r += 2) fn(rows[r]!, rows[r + 1]!, i++);
    }
  }

  /** Copies the encoded table (what the pattern header's range table holds) into `out` at `at`; returns the end. */
  copyEncoded(out: Uint8Array, at: number): number {
    this.#sync();
    // A stored block is read back into the one reused buffer: a copy of each would be the whole table again
    // in garbage while the header is made (12.8 MB for a 4 GiB TS, issue 14).
    for (let b = 0; b < this.#blocks.length; b++) {
      const used = this.#used[b]!;
      out.set(this.#blockAt(b).subarray(0, used), at);
      at += used;
    }
    return at;
  }

  /**
   * Calls `fn` with each block's encoded rows in order (what copyEncoded() copies): a stored block read back into
   * the one reused buffer, valid during the call only. A header can be written out a block at a time from it.
   */
  forEachEncoded(fn: (bytes: Uint8Array) => void): void {
    this.#sync();
    for (let b = 0; b < this.#blocks.length; b++) fn(this.#blockAt(b).subarray(0, this.#used[b]!));
  }

  /**
   * The encoded table as views of its storage blocks (what copyEncoded() would copy), valid until the next
   * push(): a header can be sent from them without a copy of the whole table.
   */
  encodedViews(): Uint8Array[] {
    this.#sync();
    // A stored block comes back as a copy of its own: the views stay whole while others are read back.
    return this.#blocks.map((_, i) => this.#written(i));
  }

  /**
   * Gives back the storage blocks that hold only rows before `row`, for a reader that walks the table once and
   * is done with them (the planner's pieces, moved to a second table as they are read: both whole at once were
   * twice the plan's memory at the end of pass 1). Rows before `row` must not be read afterwards. A block the
   * table allocated itself is freed now (detached), not at the next collection; views of a caller's bytes
   * (fromEncoded()) are only dropped.
   */
  releaseBefore(row: number): void {
    if (row <= 0 || row > this.#count) return;
    const k = Math.floor(row / this.#checkRows);
    const block = Math.floor(this.#checkPos[k]! / BLOCK_BYTES);
    for (let b = this.#released; b < block; b++) {
      const old = this.#blocks[b]!;
      // A stored block is in the store already; a block released twice has nothing left to free.
      if (old === RELEASED) continue;
      this.#blocks[b] = RELEASED;
      // Only a block that is a whole buffer of its own (push() made it) can be freed without touching other bytes.
      if (!this.#adopted && old.byteOffset === 0 && old.buffer.byteLength === old.byteLength)
        (old.buffer as ArrayBuffer).transfer?.(0);
    }
    this.#released = Math.max(this.#released, block);
  }

  /** The ranges as objects: for tests and small tables only (this is the cost the table avoids). */
  toArray(): ByteRange[] {
    const out: ByteRange[] = [];
    this.forEach((offset, length) => {
      out.push({ offset, length });
    });
    return out;
  }
}

/** What callers may pass where ranges are read: a table, or (small tables, tests) an array of ranges. */
export type PatternRanges = PatternRangeTable | readonly ByteRange[];
