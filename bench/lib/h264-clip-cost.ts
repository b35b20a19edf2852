/** @module The CPU of H.264 cbcs pattern mode against seed on one leak clip, as a Transport Stream looped to tens of MiB: the ratio bench/leak-h264.ts prints beside that clip's views. */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_H264_PATTERN_SCHEME } from "../../codec/pattern/pattern-scheme.ts";
import type { CostRun } from "./leak-cost.ts";
import { costPairs, median } from "./own-process-pairs.ts";

/** The clip repeated to about this size: each run then takes tens of milliseconds, above the timer's noise. */
export const CLIP_COST_BYTES = 32 * 1024 * 1024;

export interface H264ClipCost {
  /** The pair whose ratio is the median (the lower middle one for an even count). */
  seed: CostRun;
  cbcs: CostRun;
  /** The median of the pairs' cbcs CPU / seed CPU. */
  ratio: number;
  /** Every pair's ratio, in the order run. */
  ratios: number[];
  /** The median and every pair's ratio with the JIT compiler threads' CPU taken out of both sides (CostPair's `ratioLessJit`). */
  ratioLessJit: number;
  ratiosLessJit: number[];
  /** Bytes of the looped stream. */
  bytes: number;
}

/** `ts` repeated byte for byte to at least CLIP_COST_BYTES (once if it is larger). */
export function loopedClip(ts: Uint8Array): Uint8Array {
  const copies = Math.max(1, Math.ceil(CLIP_COST_BYTES / ts.length));
  const bytes = new Uint8Array(copies * ts.length);
  for (let i = 0; i < copies; i++) bytes.set(ts, i * ts.length);
  return bytes;
}

/**
 * Seed (split + seal) and cbcs 1:9 (seed + plan + AES-CBC) on `ts` repeated to CLIP_COST_BYTES, in `pairs`
 * alternating pairs of runs each in a process of its own (bench/lib/cost-in-own-process.ts: in one process a
 * mode pays for the heap the other left). A TS repeated byte for byte restarts its continuity counters and
 * timestamps at each copy; the indexer takes each copy's pictures as they come, so the plan is the clip's,
 * once per copy. `o.warm`: unmeasured runs per child before the measured ones (cost-in-own-process.ts's WARM_RUNS
 * when absent).
 */
export async function h264ClipCost(
  ts: Uint8Array,
  pairs: number,
  o: { warm?: number } = {},
): Promise<H264ClipCost> {
  const bytes = loopedClip(ts);
  const dir = await mkdtemp(join(tmpdir(), "pvrlink-clip-cost-"));
  try {
    const path = join(dir, "clip.ts");
    await writeFile(path, bytes);
    const warm = o.warm === undefined ? {} : { warm: o.warm };
    const runs = await costPairs(
      { path, ...warm },
      { path, scheme: DEFAULT_H264_PATTERN_SCHEME, ...warm },
      pairs,
    );
    const ratios = runs.map((r) => r.ratio);
    const ratio = median(ratios);
    const ratiosLessJit = runs.map((r) => r.ratioLessJit);
    const middle = [...runs].sort((a, b) => a.ratio - b.ratio)[(runs.length - 1) >> 1]!;
    return {
      seed: middle.seed,
      cbcs: middle.pattern,
      ratio,
      ratios,
      ratioLessJit: median(ratiosLessJit),
      ratiosLessJit,
      bytes: bytes.length,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
