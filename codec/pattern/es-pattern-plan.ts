/** @module A slice-block pattern plan in elementary-stream coordinates (pattern header version 3): P/B slice spans, the ES-to-body unit runs, and the walk that turns them into the encrypted body pieces. */
import type { ByteRange } from "../recording-index.ts";
import { type PatternRangeTable, WINDOW_ROWS } from "./pattern-range-table.ts";
import { PATTERN_BLOCK_BYTES, type PatternScheme } from "./pattern-scheme.ts";

/** Fields per run row: ES offset, ES bytes per unit, body offset of the first unit's bytes, stride, unit count. */
export const RUN_FIELDS = 5;

/**
 * What a version 3 pattern header says, and what the planner makes: the bytes to encrypt are, for every slice
 * span (ES coordinates, slice data after its start code), the first `crypt` blocks of every `crypt + skip`
 * counted from the span's first byte, each ES byte moved to the body through the runs (ES bytes no run
 * carries are sealed in the protected part and not encrypted). Keystream position = ordinal among encrypted
 * bytes in body order, as for version 1: the ciphertext is the same as a version 1 plan listing those bytes.
 */
export interface EsPatternPlan {
  scheme: Extract<PatternScheme, { kind: "slice-block" }>;
  /** P/B slice data spans in ES offsets: sorted, disjoint, non-empty. */
  slices: PatternRangeTable;
  /** RUN_FIELDS numbers per run, in ES and body order (runs do not overlap in either). */
  runs: Float64Array;
  runCount: number;
  /** Bytes encrypted (the walk's Σ piece lengths). */
  encryptedBytes: number;
}

/**
 * Walks a plan's encrypted pieces in body order: `next()` moves to the next piece, then `body` and `length`
 * say where it is. No row per piece is made: the work is O(pieces + slices + runs) however the plan is built
 * (an ES gap between runs is jumped, not walked block by block), so a hostile header cannot make it hang.
 */
export class EsPatternWalk {
  readonly #crypt: number;
  readonly #period: number;
  readonly #slices: PatternRangeTable;
  readonly #runs: Float64Array;
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
  /** The current piece. */
  body = 0;
  length = 0;

  constructor(plan: Pick<EsPatternPlan, "scheme" | "slices" | "runs" | "runCount">) {
    this.#crypt = plan.scheme.crypt * PATTERN_BLOCK_BYTES;
    this.#period = (plan.scheme.crypt + plan.scheme.skip) * PATTERN_BLOCK_BYTES;
    this.#slices = plan.slices;
    this.#runs = plan.runs;
    this.#runCount = plan.runCount;
  }

  /** Moves to the next piece; false when there is none. */
  next(): boolean {
    const runs = this.#runs;
    const runCount = this.#runCount;
    let r = this.#run;
    let es = this.#es;
    for (;;) {
      if (es >= this.#blockEnd) {
        const b = this.#blockStart + this.#period;
        if (b < this.#sliceEnd) this.#setBlock(b);
        else if (!this.#openSlice()) return this.#stop(r);
        es = this.#blockStart;
      }
      let at = RUN_FIELDS * r;
      while (r < runCount && runs[at]! + runs[at + 1]! * runs[at + 4]! <= es) {
        r++;
        at += RUN_FIELDS;
      }
      if (r >= runCount) return this.#stop(r);
      const runEs = runs[at]!;
      if (runEs > es) {
        // ES bytes no run carries (sealed): jump to the block holding the run's first byte.
        if (runEs >= this.#sliceEnd) {
          es = this.#blockEnd = this.#blockStart = this.#sliceEnd;
          continue;
        }
        if (runEs >= this.#blockEnd) {
          const k = Math.floor((runEs - this.#sliceStart) / this.#period);
          this.#setBlock(this.#sliceStart + k * this.#period);
          if (runEs >= this.#blockEnd) {
            es = this.#blockEnd;
            continue;
          }
        }
        es = runEs;
      }
      const l = runs[at + 1]!;
      const stride = runs[at + 3]!;
      const rel = es - runEs;
      const k = Math.floor(rel / l);
      // Units of nothing but ES bytes lie back to back: the piece may run on to the run's end.
      const unitEnd = l === stride ? runEs + l * runs[at + 4]! : runEs + (k + 1) * l;
      const end = Math.min(this.#blockEnd, unitEnd);
      this.body = runs[at + 2]! + k * stride + (rel - k * l);
      this.length = end - es;
      this.#es = end;
      this.#run = r;
      return true;
    }
  }

  #stop(r: number): boolean {
    this.#run = r;
    this.#es = this.#blockEnd = this.#sliceEnd = this.#blockStart;
    this.#slice = this.#slices.count;
    return false;
  }

  #setBlock(b: number): void {
    this.#blockStart = b;
    this.#blockEnd = Math.min(b + this.#crypt, this.#sliceEnd);
  }

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
    this.#setBlock(this.#sliceStart);
    return true;
  }
}

/** Σ piece lengths of a plan: its encrypted bytes. */
export function esPatternEncryptedBytes(
  plan: Pick<EsPatternPlan, "scheme" | "slices" | "runs" | "runCount">,
): number {
  const walk = new EsPatternWalk(plan);
  let sum = 0;
  while (walk.next()) sum += walk.length;
  return sum;
}

/**
 * Moves unit runs from file to direct-body offsets: bytes inside `protectedRanges` (sorted, disjoint) leave
 * the body, so a run is split where they interrupt it, and units (or their parts) inside them are dropped.
 * `runs` hold RUN_FIELDS numbers per run with file offsets; returns the body runs and their count.
 */
export function runsToBody(
  runs: Float64Array,
  runCount: number,
  protectedRanges: readonly ByteRange[],
): { runs: Float64Array; runCount: number } {
  let out = new Float64Array(RUN_FIELDS * Math.max(16, runCount + protectedRanges.length));
  let n = 0;
  const push = (es: number, length: number, body: number, stride: number, count: number) => {
    if (RUN_FIELDS * (n + 1) > out.length) {
      const grown = new Float64Array(2 * out.length);
      grown.set(out);
      out = grown;
    }
    const at = RUN_FIELDS * n++;
    out[at] = es;
    out[at + 1] = length;
    out[at + 2] = body;
    out[at + 3] = stride;
    out[at + 4] = count;
  };
  let p = 0;
  let before = 0;
  for (let i = 0; i < runCount; i++) {
    const at = RUN_FIELDS * i;
    let es = runs[at]!;
    const l = runs[at + 1]!;
    let file = runs[at + 2]!;
    const stride = runs[at + 3]!;
    let count = runs[at + 4]!;
    while (count > 0) {
      while (p < protectedRanges.length && protectedRanges[p]!.offset + protectedRanges[p]!.length <= file) {
        before += protectedRanges[p]!.length;
        p++;
      }
      const pr = protectedRanges[p];
      // Units wholly before the next protected range go as one run.
      const clear =
        pr === undefined
          ? count
          : Math.min(count, Math.max(0, Math.floor((pr.offset - file - l) / stride) + 1));
      if (clear > 0) {
        push(es, l, file - before, stride, clear);
        es += clear * l;
        file += clear * stride;
        count -= clear;
        continue;
      }
      if (pr!.offset <= file) {
        // Units wholly inside the protected range are dropped at once (a sealed I picture spans many).
        const inside = Math.min(count, Math.floor((pr!.offset + pr!.length - file - l) / stride) + 1);
        if (inside > 0) {
          es += inside * l;
          file += inside * stride;
          count -= inside;
          continue;
        }
      }
      // This unit's bytes meet a protected range: keep its parts outside every one.
      const unitEnd = file + l;
      let at2 = file;
      while (at2 < unitEnd) {
        while (p < protectedRanges.length && protectedRanges[p]!.offset + protectedRanges[p]!.length <= at2) {
          before += protectedRanges[p]!.length;
          p++;
        }
        const q = protectedRanges[p];
        if (q === undefined || q.offset >= unitEnd) {
          push(es + (at2 - file), unitEnd - at2, at2 - before, unitEnd - at2, 1);
          break;
        }
        if (at2 < q.offset) push(es + (at2 - file), q.offset - at2, at2 - before, q.offset - at2, 1);
        at2 = Math.max(at2, q.offset + q.length);
      }
      es += l;
      file += stride;
      count--;
    }
  }
  return { runs: out, runCount: n };
}
