/** @module The bench-only slice-ends candidate: each P/B slice's data span cut to its first and last bytes. */
import { planPattern } from "../../codec/pattern/pattern-planner.ts";
import type { PatternScheme } from "../../codec/pattern/pattern-scheme.ts";
import type { RecordingIndex } from "../../codec/recording-index.ts";

/**
 * A candidate measured here only: the first and last `bytes` of each P/B slice's data. Encrypting the end
 * removes the re-synchronising attacker's anchor (a parse that ends exactly at the slice's end fixes every
 * macroblock's column); it is not a product scheme.
 */
export interface SliceEnds {
  kind: "slice-ends";
  bytes: number;
}

/** Spans as the planner's range table gives them: (offset, length) in order. */
interface Spans {
  forEach(fn: (offset: number, length: number) => void): void;
}

/** Cuts each span to its first and last `bytes`; a span of at most twice that many bytes stays whole. */
export function sliceEndRanges(spans: Spans, bytes: number): Array<{ offset: number; length: number }> {
  if (!Number.isInteger(bytes) || bytes < 1)
    throw new RangeError(`Cannot cut slice ends: ${bytes} is not a positive whole number of bytes`);
  const ranges: Array<{ offset: number; length: number }> = [];
  spans.forEach((offset, length) => {
    if (length <= 2 * bytes) ranges.push({ offset, length });
    else ranges.push({ offset, length: bytes }, { offset: offset + length - bytes, length: bytes });
  });
  return ranges;
}

/** The slice-ends candidate's plan: each slice data span of `full` (one span a slice in an ES) cut to its two ends. */
export function sliceEndsPlan(bytes: Uint8Array, index: RecordingIndex, s: SliceEnds) {
  const spans = planPattern(bytes, index, { kind: "full" });
  const ranges = sliceEndRanges(spans.ranges, s.bytes);
  const encryptedBytes = ranges.reduce((a, r) => a + r.length, 0);
  return { scheme: { kind: "full" } as PatternScheme, ranges, encryptedBytes };
}
