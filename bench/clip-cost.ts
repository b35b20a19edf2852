/** @module `bun bench/clip-cost.ts [KIND:ENTROPY ...] [--pairs N]`: H.264 cbcs 1:9 CPU against seed on leak clips alone (bench/leak-h264.ts's CONTENT, made as it makes them), without the leak views: each pair's ratio and the median per clip. */
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
  const picked = args.filter((a, i) => !a.startsWith("--") && args[i - 1] !== "--pairs");
  const clips = CONTENT.flatMap((c) => ENTROPIES.map((entropy) => ({ content: c, entropy })));
  for (const p of picked)
    if (!clips.some((c) => `${c.content.name}:${c.entropy}` === p))
      throw new RangeError(
        `Cannot pick clip: ${p} is not KIND:ENTROPY of ${CONTENT.map((c) => c.name).join(", ")}`,
      );
  await mkdir(OUT, { recursive: true });
  console.log(
    `clip-cost: cbcs 1:9 against seed, ${pairs} alternating pairs of own-process runs, load ${await loadAverage()}\n`,
  );
  console.log("| clip | pairs (cbcs / seed) | median |");
  console.log("|---|---|---|");
  const medians: number[] = [];
  for (const { content, entropy } of clips) {
    const name = `${content.name}:${entropy}`;
    if (picked.length > 0 && !picked.includes(name)) continue;
    const path = join(OUT, `${content.name}.${entropy}.h264`);
    const { ts } = await encodeH264Clip(content.source, entropy, { path, seconds: SECONDS });
    await Bun.write(path.replace(/\.h264$/, ".looped.ts"), loopedClip(ts));
    const cost = await h264ClipCost(ts, pairs);
    medians.push(cost.ratio);
    console.log(
      `| ${name} | ${cost.ratios.map((r) => r.toFixed(2)).join(" ")} | ${cost.ratio.toFixed(2)}× |`,
    );
  }
  console.log(
    `\n${medians.length} clips: ${Math.min(...medians).toFixed(2)}-${Math.max(...medians).toFixed(2)}×, median ${median(medians).toFixed(2)}×; load ${await loadAverage()} after`,
  );
}

if (import.meta.main) await main();
