/** @module RunWindow: a forward cursor over a version 3/4 plan's unit runs: a whole Float64Array, a sender's StoredRuns read back a block at a time, or decoded a window at a time from the header's run varints (the receiver), so no array of 40 bytes a run is held. */
import type { HeaderSpill } from "./header-spill.ts";
import { SpilledVarintReader } from "./spilled-varint-reader.ts";
import { STORED_RUN_BLOCK_RUNS, StoredRuns } from "./stored-runs.ts";
import { TableVarintReader } from "./table-varint-reader.ts";

/** Fields per run row: ES offset, ES bytes per unit, body offset of the first unit's bytes, stride, unit count. */
export const RUN_FIELDS = 5;

/** Runs decoded at once, and the runs before the one asked for that a slide keeps (a walk looks ahead at most 16). */
const WINDOW_RUNS = 4096;
const KEEP_RUNS = 32;

/**
 * A header's run table as it crossed the wire: `count` runs of five varints each, already checked by the header's
 * decode; in memory (`bytes`), or header bytes [from, to) of a spill (a receiver's header kept out of memory).
 */
export type EncodedRuns = HeldRuns | { spill: HeaderSpill; from: number; to: number; count: number };

/** EncodedRuns in memory. */
export interface HeldRuns {
  bytes: Uint8Array;
  count: number;
}

/**
 * Run i's fields are `rows[at(i)]` … `rows[at(i) + 4]` (ES offset, L, body offset, stride, unit count), valid
 * until the next at() of a run outside the window. Reads are meant to move forward: a run before the window
 * restarts the decode from the first run (correct, but O(runs)).
 */
export class RunWindow {
  readonly rows: Float64Array;
  readonly #encoded: EncodedRuns | undefined;
  readonly #stored: StoredRuns | undefined;
  /** The stored block the window holds (-1: none yet). */
  #block = -1;
  #reader: TableVarintReader | SpilledVarintReader | undefined;
  #base = 0;
  #end = 0;
  #decoded = 0;
  #esEnd = 0;
  #bodyEnd = 0;

  private constructor(
    rows: Float64Array,
    encoded: EncodedRuns | undefined,
    end: number,
    stored?: StoredRuns,
  ) {
    this.rows = rows;
    this.#encoded = encoded;
    this.#end = end;
    this.#stored = stored;
  }

  /** Over runs already in memory (the planner's). */
  static whole(runs: Float64Array, count: number): RunWindow {
    return new RunWindow(runs, undefined, count);
  }

  /** Over a header's run varints, decoded WINDOW_RUNS at a time. */
  static encoded(runs: EncodedRuns): RunWindow {
    return new RunWindow(new Float64Array(RUN_FIELDS * Math.min(WINDOW_RUNS, runs.count)), runs, 0);
  }

  /**
   * Over a sender's runs kept in a block store (StoredRuns), a block (26,214 runs, 1 MiB) read back at a time
   * with KEEP_RUNS before it: the planner's walks and the header writer hold that much however long the plan.
   */
  static stored(runs: StoredRuns): RunWindow {
    const rows = new Float64Array(RUN_FIELDS * (Math.min(STORED_RUN_BLOCK_RUNS, runs.count) + KEEP_RUNS));
    return new RunWindow(rows, undefined, 0, runs);
  }

  /** Any of the three, for a plan's `runs`. */
  static over(runs: Float64Array | StoredRuns | EncodedRuns, count: number): RunWindow {
    if (runs instanceof Float64Array) return RunWindow.whole(runs, count);
    return runs instanceof StoredRuns ? RunWindow.stored(runs) : RunWindow.encoded(runs);
  }

  /** Where run `i` (below the run count) starts in `rows`. */
  at(i: number): number {
    if (i >= this.#base && i < this.#end) return RUN_FIELDS * (i - this.#base);
    return this.#seek(i);
  }

  #seek(i: number): number {
    if (this.#stored !== undefined) return this.#seekStored(this.#stored, i);
    const encoded = this.#encoded;
    if (encoded === undefined || i >= encoded.count || i < 0)
      throw new RangeError(`Cannot read run ${i}: the plan has ${encoded?.count ?? this.#end} runs`);
    if (i < this.#base || this.#reader === undefined) {
      this.#reader =
        "bytes" in encoded
          ? new TableVarintReader(encoded.bytes, 0, encoded.bytes.length)
          : new SpilledVarintReader(encoded.spill, encoded.from, encoded.to);
      this.#base = this.#end = this.#decoded = this.#esEnd = this.#bodyEnd = 0;
    }
    const rows = this.rows;
    const cap = rows.length / RUN_FIELDS;
    while (i >= this.#end) {
      const keep = Math.min(KEEP_RUNS, this.#end - this.#base);
      rows.copyWithin(0, RUN_FIELDS * (this.#end - this.#base - keep), RUN_FIELDS * (this.#end - this.#base));
      this.#base = this.#end - keep;
      let n = keep;
      for (; n < cap && this.#decoded < encoded.count; n++, this.#decoded++) this.#decodeInto(RUN_FIELDS * n);
      this.#end = this.#base + n;
    }
    return RUN_FIELDS * (i - this.#base);
  }

  /** Reads the stored block holding run `i`, keeping the window's last KEEP_RUNS runs when it is the next block. */
  #seekStored(stored: StoredRuns, i: number): number {
    if (i < 0 || i >= stored.count)
      throw new RangeError(`Cannot read run ${i}: the plan has ${stored.count} runs`);
    const b = Math.floor(i / STORED_RUN_BLOCK_RUNS);
    const keep = b === this.#block + 1 ? Math.min(KEEP_RUNS, this.#end - this.#base) : 0;
    const rows = this.rows;
    rows.copyWithin(0, RUN_FIELDS * (this.#end - this.#base - keep), RUN_FIELDS * (this.#end - this.#base));
    // Marked empty first: a failed read leaves no stale rows behind.
    this.#base = this.#end = 0;
    this.#block = -1;
    const n = stored.readBlock(b, rows, keep);
    this.#block = b;
    this.#base = b * STORED_RUN_BLOCK_RUNS - keep;
    this.#end = b * STORED_RUN_BLOCK_RUNS + n;
    return RUN_FIELDS * (i - this.#base);
  }

  /** The next run, its deltas made absolute as decodePatternHeaderV3() does (which checked them all). */
  #decodeInto(at: number): void {
    const reader = this.#reader!;
    const es = this.#esEnd + reader.next();
    const l = reader.next();
    const body = this.#bodyEnd + reader.next();
    const stride = l + reader.next();
    const c = reader.next();
    const rows = this.rows;
    rows[at] = es;
    rows[at + 1] = l;
    rows[at + 2] = body;
    rows[at + 3] = stride;
    rows[at + 4] = c;
    this.#esEnd = es + l * c;
    this.#bodyEnd = body + stride * (c - 1) + l;
  }
}
