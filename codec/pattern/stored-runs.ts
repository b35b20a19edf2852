/** @module StoredRuns: a plan's unit runs kept as raw Float64 blocks in a RangeBlockStore (a sender's PlanSpillFiles), the last, partial block in memory; read back through RunWindow. */
import { RANGE_BLOCK_BYTES } from "./pattern-range-table.ts";
import type { RangeBlockStore } from "./stored-blocks.ts";

/** Numbers per run (RunWindow's RUN_FIELDS; repeated here to keep this file free of a cycle). */
const FIELDS = 5;

/**
 * Runs per stored block: as many 40-byte runs as fit in a store's block (RANGE_BLOCK_BYTES, 1 MiB: 26,214
 * runs). Raw numbers, not the header's varints: the indexer's file runs are not all in body order until
 * runsToBody() has made them so, and a block read back is copied, not decoded.
 */
export const STORED_RUN_BLOCK_RUNS = Math.floor(RANGE_BLOCK_BYTES / (8 * FIELDS));

/**
 * `count` runs: runs [b × STORED_RUN_BLOCK_RUNS, (b + 1) × STORED_RUN_BLOCK_RUNS) are block b of `store` for
 * every b below `storedBlocks`, the rest in `tail`. Handed to one plan: `release()` frees the tail, and the
 * runs cannot be read after (a plan's encoder hands them over, PatternDirectEncoder's `handOverRuns`).
 */
export class StoredRuns {
  /** Undefined when no block was stored (the tail holds every run). */
  readonly store: RangeBlockStore | undefined;
  readonly storedBlocks: number;
  readonly count: number;
  #tail: Float64Array;
  #released = false;

  constructor(o: {
    store: RangeBlockStore | undefined;
    storedBlocks: number;
    count: number;
    tail: Float64Array;
  }) {
    if (
      o.count < o.storedBlocks * STORED_RUN_BLOCK_RUNS ||
      o.tail.length < FIELDS * (o.count - o.storedBlocks * STORED_RUN_BLOCK_RUNS)
    )
      throw new RangeError(
        `Cannot keep ${o.count} runs: ${o.storedBlocks} stored blocks and the tail do not hold them`,
      );
    this.store = o.store;
    this.storedBlocks = o.storedBlocks;
    this.count = o.count;
    this.#tail = o.tail;
  }

  /** Whether release() has given the runs up. */
  get released(): boolean {
    return this.#released;
  }

  /**
   * Copies block `b`'s runs (the tail's, past the stored ones) into `into` at run `at`; returns how many. Throws
   * what the store throws (a RangeError for a short read from a spill file).
   */
  readBlock(b: number, into: Float64Array, at: number): number {
    if (this.#released)
      throw new TypeError("Cannot read the runs: they were handed over to an earlier encoder");
    const first = b * STORED_RUN_BLOCK_RUNS;
    if (b < 0 || first >= this.count)
      throw new RangeError(`Cannot read run block ${b}: there are ${this.count} runs`);
    const n = Math.min(STORED_RUN_BLOCK_RUNS, this.count - first);
    if (b < this.storedBlocks) {
      if (this.store === undefined) throw new TypeError(`Cannot read run block ${b}: the runs have no store`);
      const bytes = new Uint8Array(into.buffer, into.byteOffset + 8 * FIELDS * at, 8 * FIELDS * n);
      this.store.get(b, bytes);
    } else into.set(this.#tail.subarray(0, FIELDS * n), FIELDS * at);
    return n;
  }

  /** Frees the tail; reading again throws a TypeError. The stored blocks go with their store. */
  release(): void {
    this.#released = true;
    this.#tail = new Float64Array(0);
  }
}
