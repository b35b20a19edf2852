/** @module tsLikeRuns(): random unit runs shaped like a TS's, for the pattern plan tests (run windows, spilled headers, stored runs). */
import { RUN_FIELDS } from "../../codec/pattern/run-window.ts";
import type { SeededRandom } from "./seeded-random.ts";

/**
 * `count` runs in ES and body order: units of 1-184 ES bytes (a TS packet's payload at most), strides a little
 * longer (the packet headers between), 1-5 units a run, and gaps in both coordinates. `esGap` draws the ES gap
 * before each run (default 0-3 bytes). Returns the runs and where the ES and the body end.
 */
export function tsLikeRuns(
  count: number,
  rnd: SeededRandom,
  o: { esGap?: (rnd: SeededRandom) => number } = {},
): { runs: Float64Array; esEnd: number; bodyEnd: number } {
  const esGap = o.esGap ?? ((r: SeededRandom) => r.below(4));
  const runs = new Float64Array(RUN_FIELDS * count);
  let es = 0;
  let body = 0;
  for (let i = 0; i < count; i++) {
    const l = 1 + rnd.below(184);
    const c = 1 + rnd.below(5);
    const stride = l + rnd.below(9);
    es += esGap(rnd);
    body += rnd.below(20);
    runs.set([es, l, body, stride, c], RUN_FIELDS * i);
    es += l * c;
    body += stride * (c - 1) + l;
  }
  return { runs, esEnd: es, bodyEnd: body };
}
