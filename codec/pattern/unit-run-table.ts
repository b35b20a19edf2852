/** @module The ES-to-file unit runs a riding pattern planner collects during pass 1: RUN_FIELDS numbers a run, joined into one array when read, or each full part handed to a block store. */
import { RUN_FIELDS } from "./run-window.ts";
import type { RangeBlockStore } from "./stored-blocks.ts";
import { STORED_RUN_BLOCK_RUNS, StoredRuns } from "./stored-runs.ts";

/**
 * Runs per part: 2.5 MiB of Float64Array, whose pages are touched only as runs fill them (a fresh array's pages
 * are mapped as they are first written: allocating it costs a page fault or two whatever its size). Parts of
 * 16384 runs (640 KiB) had four of the eight 32 MiB looped leak clips (bench/clip-cost.ts; life and testsrc2,
 * 16.7-20.1 k runs) joined into a fresh ~0.8 MiB copy in every send's plan: ~200 page faults, ~15 µs each on
 * the shared 2-core machine. 65536 runs hold a TS of ~100 MiB of such small-picture packets, or ~480 MiB of
 * the 60 MiB H.264 TS's kind (8,223 runs).
 */
const PART_RUNS = 65536;

/**
 * What the indexer's `unitRun()` reports, kept as EsPatternPlan's `runs`/`runCount` want them (ES offset, ES
 * bytes per unit, file offset of the first unit's bytes, stride, unit count). A TS has tens of thousands of
 * runs: they are kept in parts of PART_RUNS and, when there are several, joined into one Float64Array when
 * `runs` is read (the plan reads it once, at the end of pass 1); or, given a store (a sender's), each full part
 * goes there and take() gives StoredRuns, read back a block at a time (RunWindow.stored). An array doubling as it filled had allocated and copied twice the
 * table, in fresh zeroed pages: ~1 ms of pass 1 on a 60 MiB TS (8,000 runs).
 */
export class UnitRunTable {
  /** Where full parts go (a sender's PlanSpillFiles), made at the first full part; undefined: kept in memory. */
  readonly store: (() => RangeBlockStore) | undefined;
  #store: RangeBlockStore | undefined;
  #storedBlocks = 0;
  readonly #parts: Float64Array[] = [];
  #part = new Float64Array(0);
  #at = 0;
  #count = 0;
  /** The joined runs, until the next push. */
  #joined: Float64Array | undefined;
  /** take() has given the runs away. */
  #taken = false;

  /**
   * `o.store`: each part of STORED_RUN_BLOCK_RUNS runs (1 MiB) is handed to a store once full and its array
   * reused, so the table holds one part however long the recording (16.2 MB of runs at a 4.38 GB TS, issue 14);
   * take() then gives StoredRuns.
   */
  constructor(o: { store?: (() => RangeBlockStore) | undefined } = {}) {
    this.store = o.store;
  }

  /** The runs so far, RUN_FIELDS numbers each (the array may be longer than count × RUN_FIELDS); not with a store. */
  get runs(): Float64Array {
    this.#refuseTaken();
    if (this.store !== undefined)
      throw new TypeError("Cannot join the unit runs: they are in a store (take() them)");
    // One part (up to ~100-480 MiB of TS, PART_RUNS above) is given as it is: nothing to join.
    if (this.#parts.length === 1) return this.#part;
    this.#joined ??= this.#join({ freeParts: false });
    return this.#joined;
  }

  get count(): number {
    return this.#count;
  }

  /**
   * The runs and their count, given up to one plan, which may overwrite them (runsToBody() in place): the
   * table is spent, and reading or pushing again throws a TypeError.
   */
  take(): { runs: Float64Array | StoredRuns; count: number } {
    this.#refuseTaken();
    if (this.store !== undefined) {
      const tail = this.#part;
      this.#part = new Float64Array(0);
      this.#parts.length = 0;
      this.#taken = true;
      const runs = new StoredRuns({
        store: this.#store,
        storedBlocks: this.#storedBlocks,
        count: this.#count,
        tail: this.#count === this.#storedBlocks * STORED_RUN_BLOCK_RUNS ? new Float64Array(0) : tail,
      });
      return { runs, count: this.#count };
    }
    const parts = this.#parts;
    let runs: Float64Array;
    if (parts.length <= 1 || this.#joined !== undefined) runs = this.runs;
    else {
      runs = this.#join({ freeParts: true });
      parts.length = 0;
      this.#part = new Float64Array(0);
    }
    this.#taken = true;
    return { runs, count: this.#count };
  }

  push(es: number, length: number, file: number, unitLength: number, count: number): void {
    this.#refuseTaken();
    let at = this.#at;
    if (at === this.#part.length) {
      if (this.store !== undefined && at > 0) {
        this.#store ??= this.store();
        this.#store.put(this.#storedBlocks++, new Uint8Array(this.#part.buffer, 0, 8 * at));
      } else {
        this.#part = new Float64Array(
          RUN_FIELDS * (this.store === undefined ? PART_RUNS : STORED_RUN_BLOCK_RUNS),
        );
        this.#parts.push(this.#part);
      }
      at = 0;
    }
    const runs = this.#part;
    runs[at] = es;
    runs[at + 1] = length;
    runs[at + 2] = file;
    runs[at + 3] = unitLength;
    runs[at + 4] = count;
    this.#at = at + RUN_FIELDS;
    this.#count++;
    this.#joined = undefined;
  }

  /**
   * The parts' runs in one fresh array. `freeParts`: each part is freed (detached) as soon as it is copied; a
   * fresh array's pages are mapped only as they are written, so the runs are resident about once while they are
   * joined, not twice (16 MB of runs in a 4 GiB TS had both copies at the end of pass 1, issue 14).
   */
  #join(o: { freeParts: boolean }): Float64Array {
    const all = new Float64Array(RUN_FIELDS * this.#count);
    let at = 0;
    for (const part of this.#parts) {
      const n = Math.min(part.length, all.length - at);
      all.set(n === part.length ? part : part.subarray(0, n), at);
      at += n;
      if (o.freeParts) (part.buffer as ArrayBuffer).transfer?.(0);
    }
    return all;
  }

  #refuseTaken(): void {
    if (this.#taken) throw new TypeError("Cannot use unit runs: a plan has taken them");
  }
}
