/** @module The cbcs blocks of a version 4 plan (slice data spans in ES coordinates, ES-to-body unit runs), walked in body order a batch at a time, with where each CBC chain restarts. */
import { CBCS_TAIL_MIN_DATA_BYTES } from "../container/cbcs-slice-blocks.ts";
import { type PatternRangeTable, WINDOW_ROWS } from "./pattern-range-table.ts";
import { PATTERN_BLOCK_BYTES } from "./pattern-scheme.ts";
import { type EncodedRuns, RunWindow } from "./run-window.ts";
import type { StoredRuns } from "./stored-runs.ts";

/** Piece flags: the first piece of a block; the first block of a CBC chain (ISO/IEC 23001-7:2016 10.4.2). */
export const CBCS_FIRST_PIECE = 1;
export const CBCS_CHAIN_START = 2;
/** A block is cut into at most this many pieces (each at least a byte): room a batch keeps for one. */
const MAX_BLOCK_PIECES = PATTERN_BLOCK_BYTES;

/** What the walk needs of a version 4 plan (EsPatternPlan with scheme cbcs). */
export interface CbcsEsPlan {
  scheme: { kind: "cbcs"; crypt: number; skip: number; tail?: boolean };
  /** Slice data spans [dataStart, nalEnd) in ES offsets: sorted, disjoint, non-empty. */
  slices: PatternRangeTable;
  runs: Float64Array | StoredRuns;
  runCount: number;
}

/**
 * The blocks of cbcsSliceBlocks() for every slice span (the pattern from the span's first byte over all but its
 * last 16 bytes, then those as a chain of their own, or the plain pattern for spans under 32 bytes or `tail:
 * false`), each mapped to the body through the runs. A block with an ES byte no run carries (sealed in the
 * protected part) is dropped whole, as the version 2 planner drops a block touching a protected range (CBC
 * needs a block whole on one side), and the first kept block of each chain (a slice's pattern, or its tail)
 * restarts the chain: exactly the blocks and chains of the version 2 plan, so the same ciphertext.
 *
 * fill() writes whole blocks only: (body offset, length) pairs and a flag byte per piece. O(pieces + slices +
 * runs): an ES gap between runs is jumped, not walked a block at a time, so a hostile header cannot make it spin.
 */
export class CbcsEsWalk {
  readonly #crypt: number;
  readonly #period: number;
  readonly #tail: boolean;
  readonly #slices: PatternRangeTable;
  readonly #runs: RunWindow;
  readonly #runCount: number;
  readonly #rows = new Float64Array(2 * WINDOW_ROWS);
  #wFrom = 0;
  #wEnd = 0;
  #slice = 0;
  /** The open slice: its span, where its pattern stops, and whether a tail block follows. */
  #sliceEnd = 0;
  #patternEnd = 0;
  #sliceStart = 0;
  #hasTail = false;
  /** ES offset of the period holding the next rule block. */
  #periodStart = 0;
  /** ES offset of the next rule block (≥ #patternEnd: the tail, or the slice is done). */
  #block = 0;
  #inTail = false;
  /** The open chain has not yet kept a block. */
  #chainFresh = true;
  #run = 0;
  #open = false;
  #done = false;
  /** Blocks given out so far. */
  blocks = 0;

  /** `plan.runs`: the planner's array, or a received header's run varints (read a window at a time). */
  constructor(plan: Omit<CbcsEsPlan, "runs"> & { runs: Float64Array | StoredRuns | EncodedRuns }) {
    this.#crypt = plan.scheme.crypt * PATTERN_BLOCK_BYTES;
    this.#period = (plan.scheme.crypt + plan.scheme.skip) * PATTERN_BLOCK_BYTES;
    this.#tail = plan.scheme.tail !== false;
    this.#slices = plan.slices;
    this.#runs = RunWindow.over(plan.runs, plan.runCount);
    this.#runCount = plan.runCount;
  }

  /**
   * Writes the next whole blocks' pieces into `pieces` ((body offset, length) pairs) and their flags into
   * `flags`; returns the pieces written (0: no block left). `flags` holds at least `pieces.length / 2` entries,
   * which must be at least 16.
   */
  fill(pieces: Float64Array, flags: Uint8Array): number {
    if (this.#done) return 0;
    const max = pieces.length >>> 1;
    const B = PATTERN_BLOCK_BYTES;
    const window = this.#runs;
    const runs = window.rows;
    const runCount = this.#runCount;
    const crypt = this.#crypt;
    const period = this.#period;
    let r = this.#run;
    let b = this.#block;
    let inTail = this.#inTail;
    let fresh = this.#chainFresh;
    let sliceStart = this.#sliceStart;
    let patternEnd = this.#patternEnd;
    let hasTail = this.#hasTail;
    let sliceEnd = this.#sliceEnd;
    let at = r < runCount ? window.at(r) : 0;
    let runEs = r < runCount ? runs[at]! : 0;
    let runL = r < runCount ? runs[at + 1]! : 1;
    let runBody = r < runCount ? runs[at + 2]! : 0;
    let stride = r < runCount ? runs[at + 3]! : 1;
    let runEnd = r < runCount ? runEs + runL * runs[at + 4]! : 0;
    /** The unit of run r holding the last block placed: its first ES byte and its first body byte. */
    let uEs = runEs;
    let uBody = runBody;
    let periodStart = this.#periodStart;
    let n = 0;
    let kept = 0;
    while (n + MAX_BLOCK_PIECES <= max) {
      // The next rule block [b, b + 16): in the pattern, the tail, or the next slice.
      if (!this.#open || (inTail ? b >= sliceEnd : b + B > patternEnd)) {
        if (this.#open && !inTail && hasTail) {
          inTail = true;
          fresh = true;
          b = sliceEnd - B;
        } else {
          if (!this.#openSlice()) {
            this.#done = true;
            break;
          }
          sliceStart = this.#sliceStart;
          sliceEnd = this.#sliceEnd;
          patternEnd = this.#patternEnd;
          hasTail = this.#hasTail;
          inTail = false;
          fresh = true;
          b = periodStart = sliceStart;
          if (b + B > patternEnd) continue;
        }
      }
      const blockEnd = b + B;
      // The run holding b, or the first after it.
      if (b >= runEnd) {
        while (r < runCount) {
          at = window.at(r);
          if (runs[at]! + runs[at + 1]! * runs[at + 4]! > b) break;
          r++;
        }
        if (r >= runCount) {
          // No run carries anything from here on: every block left is dropped.
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
      if (runEs >= blockEnd) {
        // Blocks wholly before the run are sealed: jump to the first rule block ending past its start.
        b = this.#nextBlockEndingAfter(runEs, b, inTail);
        periodStart = sliceStart + Math.floor((b - sliceStart) / period) * period;
        continue;
      }
      // Most blocks lie in one unit of the current run, usually the unit of the block before or the next one
      // (a unit is a TS packet's payload, a period 160 bytes): one piece, no division.
      if (runEs <= b && blockEnd <= runEnd) {
        let rel = b - uEs;
        if (rel < 0 || rel >= 2 * runL) {
          const k = Math.floor((b - runEs) / runL);
          uEs = runEs + k * runL;
          uBody = runBody + k * stride;
          rel = b - uEs;
        } else if (rel >= runL) {
          uEs += runL;
          uBody += stride;
          rel -= runL;
        }
        if (rel + B <= runL || runL === stride) {
          pieces[2 * n] = uBody + rel;
          pieces[2 * n + 1] = B;
          flags[n++] = fresh ? CBCS_FIRST_PIECE | CBCS_CHAIN_START : CBCS_FIRST_PIECE;
          fresh = false;
          kept++;
          if (inTail) b = sliceEnd;
          else if (b + B - periodStart < crypt) b += B;
          else b = periodStart += period;
          continue;
        }
      }
      // Map [b, blockEnd) run by run; drop the block at the first byte no run carries.
      const first = n;
      let es = b;
      let j = r;
      let jEs = runEs;
      let jL = runL;
      let jBody = runBody;
      let jStride = stride;
      let jEnd = runEnd;
      let whole = jEs <= es;
      while (whole) {
        const k = Math.floor((es - jEs) / jL);
        const uEs = jEs + k * jL;
        // Units of nothing but ES bytes lie back to back: the piece may run on to the run's end.
        const unitEnd = jL === jStride ? jEnd : uEs + jL;
        const end = Math.min(blockEnd, unitEnd);
        pieces[2 * n] = jBody + k * jStride + (es - uEs);
        pieces[2 * n + 1] = end - es;
        flags[n] = 0;
        n++;
        es = end;
        if (es >= blockEnd) break;
        if (es >= jEnd) {
          j++;
          if (j >= runCount) {
            whole = false;
            break;
          }
          // At most 16 runs past r (each carries an ES byte of this block): r stays in the window.
          const ja = window.at(j);
          jEs = runs[ja]!;
          jL = runs[ja + 1]!;
          jBody = runs[ja + 2]!;
          jStride = runs[ja + 3]!;
          jEnd = jEs + jL * runs[ja + 4]!;
          if (jEs > es) whole = false;
        }
      }
      if (whole) {
        flags[first] = fresh ? CBCS_FIRST_PIECE | CBCS_CHAIN_START : CBCS_FIRST_PIECE;
        fresh = false;
        kept++;
      } else n = first;
      if (inTail) b = sliceEnd;
      else if (b + B - periodStart < crypt) b += B;
      else b = periodStart += period;
    }
    this.#run = r;
    this.#periodStart = periodStart;
    this.#block = b;
    this.#inTail = inTail;
    this.#chainFresh = fresh;
    this.#sliceStart = sliceStart;
    this.#patternEnd = patternEnd;
    this.#hasTail = hasTail;
    this.#sliceEnd = sliceEnd;
    this.blocks += kept;
    return n;
  }

  /** The first rule block of the open slice (from `b` on) whose end is past `es`; #patternEnd or the slice's end if none. */
  #nextBlockEndingAfter(es: number, b: number, inTail: boolean): number {
    if (inTail) return this.#sliceEnd;
    const start = this.#sliceStart;
    const B = PATTERN_BLOCK_BYTES;
    // A block [x, x + 16) ends past es when x > es − 16: the first rule block at or after es − 15.
    const target = Math.max(b, es - B + 1);
    const k = Math.floor((target - start) / this.#period);
    const base = start + k * this.#period;
    const inRun = target - base;
    let next: number;
    if (inRun <= this.#crypt - B) next = base + Math.ceil(inRun / B) * B;
    else next = base + this.#period;
    if (next < b) next = b;
    // Past the pattern: the caller moves to the tail (or the next slice).
    return next + B > this.#patternEnd ? this.#patternEnd : next;
  }

  #openSlice(): boolean {
    const i = this.#slice;
    if (i >= this.#slices.count) return false;
    if (i >= this.#wEnd) {
      this.#wFrom = i;
      this.#wEnd = i + this.#slices.readRows(i, this.#rows);
    }
    const w = 2 * (i - this.#wFrom);
    const start = this.#rows[w]!;
    const end = start + this.#rows[w + 1]!;
    const tail = this.#tail && end - start >= CBCS_TAIL_MIN_DATA_BYTES;
    this.#sliceStart = start;
    this.#sliceEnd = end;
    this.#hasTail = tail;
    this.#patternEnd = tail ? end - PATTERN_BLOCK_BYTES : end;
    this.#slice = i + 1;
    this.#open = true;
    return true;
  }
}

/**
 * Bytes a version 4 plan encrypts (16 per kept block), counted without walking the blocks: per slice, the rule
 * blocks wholly inside each stretch of ES bytes that runs carry (back-to-back runs make one stretch; a block
 * across two of them is carried whole). O(slices + runs), state in locals: the planner's finish() and the header
 * need it before any body byte, and a walk of every block cost about as much as the rest of finish().
 */
export function cbcsEsEncryptedBytes(plan: CbcsEsPlan): number {
  const B = PATTERN_BLOCK_BYTES;
  const c = plan.scheme.crypt;
  const period = (plan.scheme.crypt + plan.scheme.skip) * B;
  const tailRule = plan.scheme.tail !== false;
  const runCount = plan.runCount;
  const slices = plan.slices;
  // Two forward cursors, r's and rr's (rr restarts at r, never behind where it was), so runs in a store are
  // read back a block at a time by each.
  const rw = RunWindow.over(plan.runs, runCount);
  const rrw = RunWindow.over(plan.runs, runCount);
  const esOf = (w: RunWindow, i: number): number => w.rows[w.at(i)]!;
  const bytesOf = (w: RunWindow, i: number): number => {
    const at = w.at(i);
    return w.rows[at + 1]! * w.rows[at + 4]!;
  };
  /** Rule blocks of a pattern starting at 0 whose start is below x (x ≥ 0). */
  const below = (x: number): number => {
    const r = x % period;
    return ((x - r) / period) * c + Math.min(Math.ceil(r / B), c);
  };
  // Stretches are found from run r on; sStart/sEnd the stretch holding or after the current position.
  let r = 0;
  let sStart = 0;
  let sEnd = 0;
  const nextStretch = (): boolean => {
    if (r >= runCount) return false;
    sStart = esOf(rw, r);
    sEnd = sStart + bytesOf(rw, r);
    r++;
    while (r < runCount && esOf(rw, r) === sEnd) {
      sEnd += bytesOf(rw, r);
      r++;
    }
    return true;
  };
  let more = nextStretch();
  const rows = new Float64Array(2 * WINDOW_ROWS);
  let blocks = 0;
  for (let i = 0; i < slices.count && more; ) {
    const n = slices.readRows(i, rows);
    i += n;
    for (let w = 0; w < 2 * n && more; w += 2) {
      const start = rows[w]!;
      const end = start + rows[w + 1]!;
      const tail = tailRule && end - start >= CBCS_TAIL_MIN_DATA_BYTES;
      const patternEnd = tail ? end - B : end;
      while (more && sEnd <= start) more = nextStretch();
      // Every stretch that meets the slice; the last one may reach into the next slice, so it is kept.
      let s0 = sStart;
      let s1 = sEnd;
      let m = more;
      let rr = r;
      while (m && s0 < end) {
        const a = Math.max(s0, start) - start;
        const b = Math.min(s1, patternEnd) - start;
        if (b - B >= a) blocks += Math.max(0, below(b - B + 1) - below(a));
        if (tail && s0 <= end - B && s1 >= end) blocks++;
        if (s1 >= end) break;
        // The next stretch, without losing the one the next slice starts in.
        if (rr >= runCount) {
          m = false;
          break;
        }
        s0 = esOf(rrw, rr);
        s1 = s0 + bytesOf(rrw, rr);
        rr++;
        while (rr < runCount && esOf(rrw, rr) === s1) {
          s1 += bytesOf(rrw, rr);
          rr++;
        }
      }
    }
  }
  return blocks * B;
}
