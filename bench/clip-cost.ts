/** @module `bun bench/clip-cost.ts [KIND:ENTROPY ...] [--pairs N] [--warm N]`: H.264 cbcs 1:9 CPU against seed on leak clips alone (bench/leak-h264.ts's CONTENT, made as it makes them), without the leak views: each pair's ratio and the median per clip, and the same without the JIT compiler threads' CPU. */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { CONTENT, SECONDS } from "./leak.ts";
import { encodeH264Clip } from "./lib/h264-clip.ts";
import { h264ClipCost, loopedClip } from "./lib/h264-clip-cost.ts";
import { median } from "./lib/own-process-pairs.ts";

// bench/leak-h264.ts prints the same ratio beside each clip's views, but builds and scores the views first
// (minutes); this is the ratio alone, for measuring a change to the cipher or the planner. Each clip's TS and
// its looped copy stay in OUT (NAME.ENTROPY.ts, NAME.ENTROPY.looped.ts) for bench/cbcs-cost-parts.ts and
// `bun --cpu-prof-md` on one clip.
//
// `--warm N` lets each child run N times unmeasured instead of 3, so the compiles are over before it measures.
// The last column takes JavaScriptCore's compiler threads out of both sides (bench/lib/jit-thread-cpu.ts): a
// child warms up 3 runs before it measures 2, but cbcs's per-slice and per-block code reaches the FTL tier
// later than seed's, and its compiles (50-170 ms of compiler-thread CPU in a run, on testsrc2 CABAC) land in
// the measured runs of some children and not others. The headline stays the ratio with them, as measured before.

const OUT = join(import.meta.dir, "out", "clip-cost");
const DEFAULT_PAIRS = 5;
const ENTROPIES = ["cabac", "cavlc"] as const;

async function loadAverage(): Promise<string> {
  return (await Bun.file("/proc/loadavg").text()).split(" ").slice(0, 3).join(" ");
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const at = args.indexOf("--pairs");
  const pairs = at >= 0 ? Number(args[at + 1]) : DEFAULT_PAIRS;
  if (!Number.isInteger(pairs) || pairs < 1)
    throw new RangeError(`Cannot run pairs: --pairs ${args[at + 1]}`);
  const warmAt = args.indexOf("--warm");
  const warm = warmAt >= 0 ? Number(args[warmAt + 1]) : undefined;
  if (warm !== undefined && (!Number.isInteger(warm) || warm < 0))
    throw new RangeError(`Cannot warm up: --warm ${args[warmAt + 1]}`);
  const picked = args.filter(
    (a, i) => !a.startsWith("--") && args[i - 1] !== "--pairs" && args[i - 1] !== "--warm",
  );
  const clips = CONTENT.flatMap((c) => ENTROPIES.map((entropy) => ({ content: c, entropy })));
  for (const p of picked)
    if (!clips.some((c) => `${c.content.name}:${c.entropy}` === p))
      throw new RangeError(
        `Cannot pick clip: ${p} is not KIND:ENTROPY of ${CONTENT.map((c) => c.name).join(", ")}`,
      );
  await mkdir(OUT, { recursive: true });
  console.log(
    `clip-cost: cbcs 1:9 against seed, ${pairs} alternating pairs of own-process runs (${warm ?? 3} warm-up runs each), load ${await loadAverage()}\n`,
  );
  console.log("| clip | pairs (cbcs / seed) | median | pairs, JIT threads left out | median |");
  console.log("|---|---|---|---|---|");
  const medians: number[] = [];
  const lessJit: number[] = [];
  for (const { content, entropy } of clips) {
    const name = `${content.name}:${entropy}`;
    if (picked.length > 0 && !picked.includes(name)) continue;
    const path = join(OUT, `${content.name}.${entropy}.h264`);
    const { ts } = await encodeH264Clip(content.source, entropy, { path, seconds: SECONDS });
    await Bun.write(path.replace(/\.h264$/, ".looped.ts"), loopedClip(ts));
    const cost = await h264ClipCost(ts, pairs, warm === undefined ? {} : { warm });
    medians.push(cost.ratio);
    lessJit.push(cost.ratioLessJit);
    const list = (rs: number[]) => rs.map((r) => r.toFixed(2)).join(" ");
    console.log(
      `| ${name} | ${list(cost.ratios)} | ${cost.ratio.toFixed(2)}× | ${list(cost.ratiosLessJit)} | ${cost.ratioLessJit.toFixed(2)}× |`,
    );
  }
  const range = (rs: number[]) =>
    `${Math.min(...rs).toFixed(2)}-${Math.max(...rs).toFixed(2)}×, median ${median(rs).toFixed(2)}×`;
  console.log(
    `\n${medians.length} clips: ${range(medians)}; JIT threads left out: ${range(lessJit)}; load ${await loadAverage()} after`,
  );
}

if (import.meta.main) await main();
