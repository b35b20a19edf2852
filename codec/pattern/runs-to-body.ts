/** @module runsToBody(): a pattern plan's unit runs moved from file to direct-body offsets, split around the protected (sealed) ranges that leave the body. */
import type { ByteRange } from "../recording-index.ts";
import { RUN_FIELDS, RunWindow } from "./run-window.ts";
import type { RangeBlockStore } from "./stored-blocks.ts";
import type { StoredRuns } from "./stored-runs.ts";
import { UnitRunTable } from "./unit-run-table.ts";

/**
 * Moves unit runs from file to direct-body offsets: bytes inside `protectedRanges` (sorted, disjoint) leave
 * the body, so a run is split where they interrupt it, and units (or their parts) inside them are dropped.
 * `runs` hold RUN_FIELDS numbers per run with file offsets; returns the body runs and their count.
 * `o.inPlace`: the caller gives `runs` up, and the body runs are written over them while no body run would
 * land on a file run not yet read (then into a fresh array from there): the runs of a protected picture
 * leave room for the splits around it. A copy had put 0.6 MiB of a 32 MiB looped clip's 14 k runs on fresh
 * pages in every send's plan (~145 page faults, ~15 µs each on the shared 2-core machine).
 */
export function runsToBody(
  runs: Float64Array,
  runCount: number,
  protectedRanges: readonly ByteRange[],
  o?: { inPlace?: boolean },
): { runs: Float64Array; runCount: number };
export function runsToBody(
  runs: Float64Array | StoredRuns,
  runCount: number,
  protectedRanges: readonly ByteRange[],
  o: { inPlace?: boolean; store: () => RangeBlockStore },
): { runs: StoredRuns; runCount: number };
export function runsToBody(
  runs: Float64Array | StoredRuns,
  runCount: number,
  protectedRanges: readonly ByteRange[],
  o?: { inPlace?: boolean; store?: (() => RangeBlockStore) | undefined },
): { runs: Float64Array | StoredRuns; runCount: number };
/**
 * `o.store`: the runs are read a block at a time (RunWindow) and the body runs go to a UnitRunTable over that
 * store, as StoredRuns: nothing of the runs' size is held (a sender's plan, issue 14); `inPlace` is then moot.
 */
export function runsToBody(
  runs: Float64Array | StoredRuns,
  runCount: number,
  protectedRanges: readonly ByteRange[],
  o: { inPlace?: boolean; store?: (() => RangeBlockStore) | undefined } = {},
): { runs: Float64Array | StoredRuns; runCount: number } {
  if (o.store !== undefined || !(runs instanceof Float64Array)) {
    if (o.store === undefined)
      throw new TypeError("Cannot move stored runs to the body: no store for the body runs");
    const table = new UnitRunTable({ store: o.store });
    const window = RunWindow.over(runs, runCount);
    const n = moveRunsToBody(
      window.rows,
      (i) => window.at(i),
      runCount,
      protectedRanges,
      (a, b, c, d, e) => table.push(a, b, c, d, e),
    );
    // The caller gave them up: the file runs' tail (up to 1 MiB) goes now.
    if (o.inPlace === true && !(runs instanceof Float64Array)) runs.release();
    return { runs: table.take().runs, runCount: n };
  }
  let out = o.inPlace ? runs : new Float64Array(RUN_FIELDS * Math.max(16, runCount + protectedRanges.length));
  let n = 0;
  /** Runs read so far: in place, slots below it are free to write. */
  let read = 0;
  const push = (es: number, length: number, body: number, stride: number, count: number) => {
    if (out === runs && n >= read) {
      const fresh = new Float64Array(
        RUN_FIELDS * Math.max(16, n + 1 + runCount - read + protectedRanges.length),
      );
      fresh.set(out.subarray(0, RUN_FIELDS * n));
      out = fresh;
    }
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
  moveRunsToBody(
    runs,
    (i) => {
      read = i + 1;
      return RUN_FIELDS * i;
    },
    runCount,
    protectedRanges,
    push,
  );
  return { runs: out, runCount: n };
}

/**
 * runsToBody()'s walk: run i's fields are `rows[at(i)]` … (at(i) is called once per run, in order), and each
 * body run goes to `push`; returns how many were pushed.
 */
function moveRunsToBody(
  rows: Float64Array,
  at: (i: number) => number,
  runCount: number,
  protectedRanges: readonly ByteRange[],
  push: (es: number, length: number, body: number, stride: number, count: number) => void,
): number {
  let pushed = 0;
  const out = (es: number, length: number, body: number, stride: number, count: number) => {
    pushed++;
    push(es, length, body, stride, count);
  };
  let p = 0;
  let before = 0;
  for (let i = 0; i < runCount; i++) {
    const k = at(i);
    let es = rows[k]!;
    const l = rows[k + 1]!;
    let file = rows[k + 2]!;
    const stride = rows[k + 3]!;
    let count = rows[k + 4]!;
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
        out(es, l, file - before, stride, clear);
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
          out(es + (at2 - file), unitEnd - at2, at2 - before, unitEnd - at2, 1);
          break;
        }
        if (at2 < q.offset) out(es + (at2 - file), q.offset - at2, at2 - before, q.offset - at2, 1);
        at2 = Math.max(at2, q.offset + q.length);
      }
      es += l;
      file += stride;
      count--;
    }
  }
  return pushed;
}
