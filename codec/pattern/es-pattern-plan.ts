/** @module A pattern plan in elementary-stream coordinates (pattern header version 3 for slice-block, 4 for cbcs): slice spans, the ES-to-body unit runs, and the slice-block walk that turns them into the encrypted body pieces. */
import { type PatternRangeTable, WINDOW_ROWS } from "./pattern-range-table.ts";
import { PATTERN_BLOCK_BYTES, type PatternScheme } from "./pattern-scheme.ts";

import { type EncodedRuns, RUN_FIELDS, RunWindow } from "./run-window.ts";
import type { StoredRuns } from "./stored-runs.ts";

export { RUN_FIELDS };

/**
 * What a version 3 pattern header says, and what the planner makes: the bytes to encrypt are, for every slice
 * span (ES coordinates, slice data after its start code), the first `crypt` blocks of every `crypt + skip`
 * counted from the span's first byte, each ES byte moved to the body through the runs (ES bytes no run
 * carries are sealed in the protected part and not encrypted). Keystream position = ordinal among encrypted
 * bytes in body order, as for version 1: the ciphertext is the same as a version 1 plan listing those bytes.
 */
export interface EsPatternPlan {
  /** slice-block (version 3: EsPatternWalk) or cbcs (version 4: codec/pattern/cbcs-es-walk.ts gives its blocks). */
  scheme: Extract<PatternScheme, { kind: "slice-block" | "cbcs" }>;
  /** Slice data spans in ES offsets (slice-block: P/B slices after the start code; cbcs: every slice's data after its header): sorted, disjoint, non-empty. */
  slices: PatternRangeTable;
  /**
   * RUN_FIELDS numbers per run, in ES and body order (runs do not overlap in either): in memory, or in a
   * sender's block store (StoredRuns), read through RunWindow.
   */
  runs: Float64Array | StoredRuns;
  runCount: number;
  /** Bytes encrypted (the walk's Σ piece lengths). */
  encryptedBytes: number;
}

/**
 * Walks a plan's encrypted pieces in body order, a batch at a time: `fill(out)` writes the next pieces as (body
 * offset, length) pairs. No row per piece is kept: the work is O(pieces + slices + runs) however the plan is
 * built (an ES gap between runs is jumped, not walked block by block), so a hostile header cannot make it spin.
 * Batches, with the state in locals, because a TS has a piece per 16-byte block (1.79 M in 279 MiB): a call per
 * piece cost more than the XOR.
 */
export class EsPatternWalk {
  readonly #crypt: number;
  readonly #period: number;
  readonly #slices: PatternRangeTable;
  readonly #runs: RunWindow;
  readonly #runCount: number;
  readonly #rows = new Float64Array(2 * WINDOW_ROWS);
  #wFrom = 0;
  #wEnd = 0;
  /** Next slice to open. */
  #slice = 0;
  #sliceStart = 0;
  #sliceEnd = 0;
  #blockStart = 0;
  #blockEnd = 0;
  /** ES offset of the next byte to place; ≥ #blockEnd when the block is done. */
  #es = 0;
  #run = 0;
  #done = false;

  /** `plan.runs`: the planner's array, or a received header's run varints (read a window at a time). */
  constructor(
    plan: Pick<EsPatternPlan, "scheme" | "slices" | "runCount"> & {
      runs: Float64Array | StoredRuns | EncodedRuns;
    },
  ) {
    this.#crypt = plan.scheme.crypt * PATTERN_BLOCK_BYTES;
    this.#period = (plan.scheme.crypt + plan.scheme.skip) * PATTERN_BLOCK_BYTES;
    this.#slices = plan.slices;
    this.#runs = RunWindow.over(plan.runs, plan.runCount);
    this.#runCount = plan.runCount;
  }

  /** Writes the next pieces into `out` as (body offset, length) pairs, as many as fit; returns how many (0: none left). */
  fill(out: Float64Array): number {
    if (this.#done) return 0;
    const max = out.length >>> 1;
    const window = this.#runs;
    const runs = window.rows;
    const runCount = this.#runCount;
    const crypt = this.#crypt;
    const period = this.#period;
    let r = this.#run;
    let es = this.#es;
    let blockStart = this.#blockStart;
    let blockEnd = this.#blockEnd;
    let sliceStart = this.#sliceStart;
    let sliceEnd = this.#sliceEnd;
    // The current run's fields, reloaded when r moves, and the unit holding the last piece (uEs its first ES
    // byte, uBody its first body byte): the next block is usually in that unit or the next, so a piece costs a
    // compare or a step instead of a division (bench.ts, 1.79 M pieces, best of 15: 21.6 -> 17.9 ms, load 22).
    let at = r < runCount ? window.at(r) : 0;
    let runEs = r < runCount ? runs[at]! : 0;
    let runL = r < runCount ? runs[at + 1]! : 1;
    let runBody = r < runCount ? runs[at + 2]! : 0;
    let stride = r < runCount ? runs[at + 3]! : 1;
    let runEnd = r < runCount ? runEs + runL * runs[at + 4]! : 0;
    let uEs = runEs;
    let uBody = runBody;
    let n = 0;
    while (n < max) {
      if (es >= blockEnd) {
        const b = blockStart + period;
        if (b < sliceEnd) {
          blockStart = b;
          blockEnd = Math.min(b + crypt, sliceEnd);
        } else {
          if (!this.#openSlice()) {
            this.#done = true;
            break;
          }
          sliceStart = this.#sliceStart;
          sliceEnd = this.#sliceEnd;
          blockStart = sliceStart;
          blockEnd = Math.min(sliceStart + crypt, sliceEnd);
        }
        es = blockStart;
      }
      if (es >= runEnd) {
        while (r < runCount) {
          at = window.at(r);
          if (runs[at]! + runs[at + 1]! * runs[at + 4]! > es) break;
          r++;
        }
        if (r >= runCount) {
          this.#done = true;
          break;
        }
        runEs = runs[at]!;
        runL = runs[at + 1]!;
        runBody = runs[at + 2]!;
        stride = runs[at + 3]!;
        runEnd = runEs + runL * runs[at + 4]!;
        uEs = runEs;
        uBody = runBody;
      }
      if (runEs > es) {
        // ES bytes no run carries (sealed): jump to the block holding the run's first byte.
        if (runEs >= sliceEnd) {
          es = blockEnd = blockStart = sliceEnd;
          continue;
        }
        if (runEs >= blockEnd) {
          blockStart = sliceStart + Math.floor((runEs - sliceStart) / period) * period;
          blockEnd = Math.min(blockStart + crypt, sliceEnd);
          if (runEs >= blockEnd) {
            es = blockEnd;
            continue;
          }
        }
        es = runEs;
      }
      // The unit holding es: this one, the next, or found by division after a jump.
      let rel = es - uEs;
      if (rel < 0 || rel >= 2 * runL) {
        const k = Math.floor((es - runEs) / runL);
        uEs = runEs + k * runL;
        uBody = runBody + k * stride;
        rel = es - uEs;
      } else if (rel >= runL) {
        uEs += runL;
        uBody += stride;
        rel -= runL;
      }
      // Units of nothing but ES bytes lie back to back: the piece may run on to the run's end.
      const unitEnd = runL === stride ? runEnd : uEs + runL;
      const end = Math.min(blockEnd, unitEnd);
      out[2 * n] = uBody + rel;
      out[2 * n + 1] = end - es;
      n++;
      es = end;
    }
    this.#run = r;
    this.#es = es;
    this.#blockStart = blockStart;
    this.#blockEnd = blockEnd;
    this.#sliceStart = sliceStart;
    this.#sliceEnd = sliceEnd;
    return n;
  }

  /** Opens the next slice into #sliceStart/#sliceEnd; false when there is none. */
  #openSlice(): boolean {
    const i = this.#slice;
    if (i >= this.#slices.count) return false;
    if (i >= this.#wEnd) {
      this.#wFrom = i;
      this.#wEnd = i + this.#slices.readRows(i, this.#rows);
    }
    const w = 2 * (i - this.#wFrom);
    this.#sliceStart = this.#rows[w]!;
    this.#sliceEnd = this.#sliceStart + this.#rows[w + 1]!;
    this.#slice = i + 1;
    return true;
  }
}

/**
 * Σ piece lengths of a plan, its encrypted bytes, without walking the pieces: for each slice, the rule's bytes
 * in each stretch of it that runs carry (every ES byte of a run is carried). O(slices + runs). The slices come
 * decoded a window at a time and the loop holds its state in locals: a callback per slice cost 20 ms on a
 * 279 MiB TS (324 k slices), more than the rest of the plan's finish.
 */
export function esPatternEncryptedBytes(
  plan: Pick<EsPatternPlan, "scheme" | "slices" | "runs" | "runCount">,
): number {
  const crypt = plan.scheme.crypt * PATTERN_BLOCK_BYTES;
  const period = (plan.scheme.crypt + plan.scheme.skip) * PATTERN_BLOCK_BYTES;
  const runCount = plan.runCount;
  const slices = plan.slices;
  const rows = new Float64Array(2 * WINDOW_ROWS);
  // Two forward cursors (r, and j from r on), so runs in a store are read back a block at a time by each:
  // one cursor going back from j to r could be a whole block behind.
  const rw = RunWindow.over(plan.runs, runCount);
  const jw = RunWindow.over(plan.runs, runCount);
  const rr = rw.rows;
  const jr = jw.rows;
  const endOf = (i: number): number => {
    const at = rw.at(i);
    return rr[at]! + rr[at + 1]! * rr[at + 4]!;
  };
  let r = 0;
  /** ES end of run r (or 0 past the last). */
  let rEnd = runCount > 0 ? endOf(0) : 0;
  let sum = 0;
  for (let i = 0; i < slices.count; ) {
    const n = slices.readRows(i, rows);
    i += n;
    for (let w = 0; w < 2 * n; w += 2) {
      const s = rows[w]!;
      const e = s + rows[w + 1]!;
      while (r < runCount && rEnd <= s) {
        r++;
        rEnd = r < runCount ? endOf(r) : 0;
      }
      for (let j = r; j < runCount; j++) {
        const at = jw.at(j);
        const runEs = jr[at]!;
        if (runEs >= e) break;
        const a = Math.max(runEs, s) - s;
        const jEnd = j === r ? rEnd : runEs + jr[at + 1]! * jr[at + 4]!;
        const b = Math.min(jEnd, e) - s;
        // Rule bytes among the slice's first b bytes minus those among its first a.
        if (b > a) {
          const pb = b % period;
          const pa = a % period;
          sum +=
            ((b - pb) / period) * crypt +
            Math.min(pb, crypt) -
            (((a - pa) / period) * crypt + Math.min(pa, crypt));
        }
      }
    }
  }
  return sum;
}
