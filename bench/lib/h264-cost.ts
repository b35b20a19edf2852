/** @module The CPU of H.264 cbcs pattern mode against seed and whole-file sealing, each run in a process of its own. */
import { mkdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { $ } from "bun";
import { DEFAULT_H264_PATTERN_SCHEME } from "../../codec/pattern/pattern-scheme.ts";
import { type CostSpec, costInOwnProcess } from "./cost-in-own-process.ts";
import type { CostRun } from "./leak-cost.ts";

const OUT = join(import.meta.dir, "..", "out");

export const H264_COST_SEED = "seed (split + seal protected part)";
export const H264_COST_CBCS = "pattern cbcs 1:9 (seed + pattern)";

/**
 * The CPU of H.264 cbcs pattern mode (codec/pattern/h264-pattern-planner.ts) against seed and whole-file sealing
 * on an H.264 Transport Stream made here (libx264, GOP 12 with 2 B-frames as bench-recordings' MPEG-2),
 * interleaved rounds, best of `rounds` each: the runs by mode name (seed first) and the stream's size.
 */
export async function measureH264Cost(
  rounds: number,
): Promise<{ best: Map<string, CostRun>; bytes: number }> {
  const path = join(OUT, "h264-cost.ts");
  await mkdir(OUT, { recursive: true });
  if (!(await Bun.file(path).exists())) {
    await $`ffmpeg -v error -y -f lavfi -i testsrc2=size=720x576:rate=25 -t 120 -c:v libx264 -threads 1 -preset veryfast -b:v 4M -g 12 -bf 2 -f mpegts ${path}`.quiet();
  }
  // BENCH_HELD=chunks holds the file as 4 MiB arrays of their own instead of one (bench/lib/leak-cost.ts,
  // HeldRecording, says what that changes); the whole file's array is then left to the collector.
  const chunks = process.env.BENCH_HELD === "chunks";
  const length = (await stat(path)).size;
  // Each run in a process of its own (bench/lib/cost-in-own-process.ts says why).
  const run = (o: Omit<CostSpec, "path" | "chunks">) => () => costInOwnProcess({ path, chunks, ...o });
  const modes: Array<[string, () => Promise<CostRun>]> = [
    [H264_COST_SEED, run({})],
    [H264_COST_CBCS, run({ scheme: DEFAULT_H264_PATTERN_SCHEME })],
    [
      "pattern cbcs 1:9, version 2 plan (a row per block, for older receivers)",
      run({ scheme: DEFAULT_H264_PATTERN_SCHEME, esPlan: false }),
    ],
    [
      "pattern cbcs 1:9 without the slices' last blocks",
      run({ scheme: { kind: "cbcs", crypt: 1, skip: 9, tail: false } }),
    ],
    ["whole-file encryption (seal every byte)", run({ whole: true })],
  ];
  const best = new Map<string, CostRun>();
  for (let round = 0; round < rounds; round++) {
    for (const [name, fn] of modes) {
      const r = await fn();
      const b = best.get(name);
      if (b === undefined || r.cpu < b.cpu) best.set(name, r);
    }
  }
  return { best, bytes: length };
}
