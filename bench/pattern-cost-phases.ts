/** @module `bun bench/pattern-cost-phases.ts FILE [--cbcs] [--v1v2]`: seed and pattern (slice-block 1:9, or H.264 cbcs 1:9; `--v1v2` with the plan of header version 1/2) as `bench/leak.ts --cost`/`--cost-h264` run them (splitCost), phase by phase, best and median of interleaved rounds. */

import { DEFAULT_H264_PATTERN_SCHEME, DEFAULT_PATTERN_SCHEME } from "../codec/pattern/pattern-scheme.ts";
import { type CostLaps, splitCost } from "./lib/leak-cost.ts";
import { lowMedianHigh } from "./lib/measure.ts";

// pattern-stages.ts times pattern's own stages alone; this times the whole --cost run of each mode with its
// phases (CostLaps: CPU ms and minor page faults), so pattern's extra over seed can be read phase by phase:
// an extra pass, a second hash or fresh memory would show in the phase that pays it. Best is the least
// disturbed run of each phase; the median shows what a neighbour on the shared machine does to it.

const ROUNDS = Number(process.env.BENCH_RUNS ?? 7);
const PHASES = ["pass 1", "plan", "copy", "hash", "route", "seal", "cipher"] as const;

async function main(): Promise<void> {
  const path = process.argv[2];
  if (path === undefined)
    throw new TypeError("usage: bun bench/pattern-cost-phases.ts RECORDING [--cbcs] [--v1v2]");
  const cbcs = process.argv.includes("--cbcs");
  const esPlan = !process.argv.includes("--v1v2");
  const name = `${cbcs ? "cbcs 1:9" : "slice-block 1:9"}${esPlan ? "" : " (v1/v2 plan)"}`;
  const bytes = new Uint8Array(await Bun.file(path).arrayBuffer());
  const key = crypto.getRandomValues(new Uint8Array(32));
  const modes = [
    ["seed", undefined],
    [name, cbcs ? DEFAULT_H264_PATTERN_SCHEME : DEFAULT_PATTERN_SCHEME],
  ] as const;
  const runs = modes.map(() => [] as CostLaps[]);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, [, scheme]] of modes.entries()) {
      const laps: CostLaps = {};
      const { cpu } = await splitCost(bytes, key, scheme, { laps, esPlan });
      runs[i]!.push({ ...laps, total: cpu * 1e3 });
    }
  }
  const load = (await Bun.file("/proc/loadavg").text()).split(" ").slice(0, 3).join(" ");
  console.log(
    `${path.split("/").pop()} (${(bytes.length / 2 ** 20).toFixed(0)} MiB), ${ROUNDS} interleaved rounds (the first warms up), load ${load}\n`,
  );
  console.log(
    `| phase | seed CPU ms best / median | ${name} CPU ms best / median | extra best / median | page faults seed / ${name} (median) |`,
  );
  console.log("|---|---|---|---|---|");
  // The first round compiles the code: left out of best and median.
  const stat = (i: number, k: string) => {
    const [low, median] = lowMedianHigh(runs[i]!.slice(1).map((r) => r[k] ?? 0));
    return { low: low!, median: median! };
  };
  for (const k of [...PHASES, "total"]) {
    const s = stat(0, k);
    const p = stat(1, k);
    const faults = k === "total" ? "" : `${stat(0, `pf:${k}`).median} / ${stat(1, `pf:${k}`).median}`;
    console.log(
      `| ${k} | ${s.low.toFixed(0)} / ${s.median.toFixed(0)} | ${p.low.toFixed(0)} / ${p.median.toFixed(0)} | ${(p.low - s.low).toFixed(0)} / ${(p.median - s.median).toFixed(0)} | ${faults} |`,
    );
  }
}

if (import.meta.main) await main();
