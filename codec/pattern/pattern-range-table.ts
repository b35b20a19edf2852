/** @module A compact table of pattern ranges: two doubles a range in fixed typed-array blocks, not an object per range. */
import type { ByteRange } from "../recording-index.ts";

/** Ranges per block: 64 Ki ranges of two doubles, 1 MiB. */
const BLOCK_SHIFT = 16;
const BLOCK_RANGES = 1 << BLOCK_SHIFT;
const BLOCK_MASK = BLOCK_RANGES - 1;

/**
 * The ranges of a pattern plan or header, in order. A recording has one range per P/B slice (about 1.3 M per
 * GiB of MPEG-2): as `{offset, length}` objects they took ~40 bytes of heap each (50 MiB a GiB, measured with
 * process.memoryUsage() after Bun.gc(true)) and as many GC-traced objects; here they take 16 bytes, in blocks
 * that grow without copying. Offsets and lengths are doubles, so any safe-integer body size fits.
 */
export class PatternRangeTable {
  readonly #blocks: Float64Array[] = [];
  #count = 0;

  /** A table holding `ranges`, or `ranges` itself when it is a table already. */
  static from(ranges: PatternRanges): PatternRangeTable {
    if (ranges instanceof PatternRangeTable) return ranges;
    const table = new PatternRangeTable();
    for (const r of ranges) table.push(r.offset, r.length);
    return table;
  }

  /** Number of ranges. */
  get count(): number {
    return this.#count;
  }

  /** Appends a range; the table does not check it (checkPatternRanges() does). */
  push(offset: number, length: number): void {
    const i = this.#count;
    const b = i >>> BLOCK_SHIFT;
    if (b === this.#blocks.length) this.#blocks.push(new Float64Array(2 * BLOCK_RANGES));
    const block = this.#blocks[b]!;
    const at = (i & BLOCK_MASK) << 1;
    block[at] = offset;
    block[at + 1] = length;
    this.#count = i + 1;
  }

  /** Offset of range `i` (0 ≤ i < count; undefined behaviour past it: NaN or a throw). */
  offsetAt(i: number): number {
    return this.#blocks[i >>> BLOCK_SHIFT]![(i & BLOCK_MASK) << 1]!;
  }

  /** Length of range `i` (0 ≤ i < count). */
  lengthAt(i: number): number {
    return this.#blocks[i >>> BLOCK_SHIFT]![((i & BLOCK_MASK) << 1) + 1]!;
  }

  /** Where the last range ends, 0 for an empty table. */
  end(): number {
    const n = this.#count;
    return n === 0 ? 0 : this.offsetAt(n - 1) + this.lengthAt(n - 1);
  }

  /** Calls `fn(offset, length, i)` for every range in order: the walk without an object per range. */
  forEach(fn: (offset: number, length: number, i: number) => void): void {
    let left = this.#count;
    let i = 0;
    for (const block of this.#blocks) {
      const n = Math.min(left, BLOCK_RANGES) << 1;
      for (let k = 0; k < n; k += 2) fn(block[k]!, block[k + 1]!, i++);
      left -= n >>> 1;
    }
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
