/** @module `bun bench/leak.ts`: what an eavesdropper on the direct channel can decode in seed and pattern mode, and (--cost) what each mode costs. */
import { mkdir, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { $ } from "bun";
import { indexRecording } from "../codec/container/index-recording.ts";
import { PatternDirectEncoder } from "../codec/pattern/pattern-direct-encoder.ts";
import { planPattern } from "../codec/pattern/pattern-planner.ts";
import {
  DEFAULT_PATTERN_SCHEME,
  type PatternScheme,
  patternSchemeName,
} from "../codec/pattern/pattern-scheme.ts";
import type { RecordingIndex } from "../codec/recording-index.ts";
import { concat, splitBytes } from "../codec/split/split-bytes.ts";
import { generateSessionKeyBytes } from "../crypto/aead.ts";
import { makePatternKeystream } from "../crypto/keystream.ts";
import { randomBytes } from "../crypto/random-token.ts";
import { mpeg2RecordingArgs } from "../demo/mpeg2-recipe.ts";
import { resyncAttack } from "./lib/attack/resync-attack.ts";
import { benchRecordings } from "./lib/bench-recordings.ts";
import { costInOwnProcess } from "./lib/cost-in-own-process.ts";
import { H264_COST_SEED, measureH264Cost } from "./lib/h264-cost.ts";
import { type CostRun, splitCost } from "./lib/leak-cost.ts";
import {
  countFrames,
  MAX_VISIBLE_SHARE,
  scoreFrames,
  VISIBLE_SSIM_MARGIN,
  visibleFrames,
} from "./lib/leak-metrics.ts";
import { contactSheet, table } from "./lib/leak-report.ts";
import type { ContentKind, ContentResult, ModeResult } from "./lib/leak-results.ts";
import { greyIPicture, leakView } from "./lib/leak-view.ts";
import { lowMedianHigh } from "./lib/measure.ts";
import { type SliceEnds, sliceEndsPlan } from "./lib/slice-ends-plan.ts";
import { type SliceSizeLeak, sliceSizeLeak } from "./lib/slice-size-leak.ts";

export type { ContentKind, ContentResult, ModeResult } from "./lib/leak-results.ts";

const ROOT = join(import.meta.dir, "..");
const OUT = join(ROOT, "bench", "out", "leak");
const IMAGES = join(ROOT, "docs", "images");
const COST_ROUNDS = Number(process.env.BENCH_RUNS ?? 5);
/** What the clip-level CPU ratio runs on: the clip repeated to this size. */
const CLIP_COST_BYTES = 32 * 1024 * 1024;

export const WIDTH = 320;
export const HEIGHT = 240;
export const SECONDS = 4;
export const FPS = 25;

/** Content kinds of the issue: synthetic moving pattern, natural-looking, a mostly static scene, plus busy texture. */
export const CONTENT: readonly ContentKind[] = [
  {
    name: "testsrc2",
    kind: "synthetic test pattern, moving",
    source: `testsrc2=size=${WIDTH}x${HEIGHT}:rate=${FPS}`,
  },
  {
    name: "mandelbrot",
    kind: "natural-looking (zooming fractal)",
    source: `mandelbrot=size=${WIDTH}x${HEIGHT}:rate=${FPS}`,
  },
  {
    name: "life",
    kind: "busy texture (cellular automaton)",
    source: `life=size=${WIDTH}x${HEIGHT}:rate=${FPS}:mold=10:ratio=0.5:death_color=#202020:life_color=#ffdd40`,
  },
  {
    name: "static",
    kind: "mostly static scene (still + sensor noise)",
    source: `mandelbrot=size=${WIDTH}x${HEIGHT}:rate=${FPS},trim=end_frame=1,loop=loop=${SECONDS * FPS}:size=1,setpts=N/${FPS}/TB,noise=alls=6:allf=t`,
  },
];

/** A broadcast-like GOP (12, two B-pictures), as the quick check and bench/lib/bench-recordings.ts. */
export function encodeArgs(source: string, container: "mpeg2video", seconds = SECONDS): string[] {
  return mpeg2RecordingArgs({ source, format: container, seconds, bitrate: "2M", overwrite: true });
}

/** The schemes measured here: the product's, and the bench-only slice-ends candidate. */
export type BenchScheme = PatternScheme | SliceEnds;

export function benchSchemeName(s: BenchScheme): string {
  return s.kind === "slice-ends" ? `slice-ends ${s.bytes}` : patternSchemeName(s);
}

export const SCHEMES: readonly BenchScheme[] = [
  { kind: "slice-start", bytes: 4 },
  { kind: "slice-start", bytes: 16 },
  { kind: "slice-start", bytes: 64 },
  { kind: "slice-ends", bytes: 32 },
  { kind: "block", crypt: 1, skip: 9 },
  { kind: "slice-block", crypt: 1, skip: 9 },
  { kind: "full" },
];

async function wirePattern(
  bytes: Uint8Array,
  index: RecordingIndex,
  direct: Uint8Array,
  scheme: BenchScheme,
) {
  const plan =
    scheme.kind === "slice-ends" ? sliceEndsPlan(bytes, index, scheme) : planPattern(bytes, index, scheme);
  const salt = randomBytes(16);
  const keystream = await makePatternKeystream(generateSessionKeyBytes(), salt);
  const enc = new PatternDirectEncoder(plan, salt, keystream);
  const out = await enc.push(direct.slice());
  enc.finish();
  return { wire: concat(out), plan };
}

/** Encodes one content kind, builds every mode's eavesdropper view and scores it against the original. */
export async function measureContent(
  content: ContentKind,
  outDir: string,
  options: { schemes?: readonly BenchScheme[]; seconds?: number } = {},
): Promise<ContentResult> {
  const schemes = options.schemes ?? SCHEMES;
  await mkdir(outDir, { recursive: true });
  const path = join(outDir, `${content.name}.m2v`);
  await $`ffmpeg ${encodeArgs(content.source, "mpeg2video", options.seconds)} ${path}`.quiet();
  const bytes = new Uint8Array(await Bun.file(path).arrayBuffer());
  const index = indexRecording(bytes);
  const frames = await countFrames(path);
  const parts = splitBytes(bytes, index.protectedRanges, index.container);
  const grey = await greyIPicture(index.width, index.height, index.format === "mpeg1");
  const greyScores = await scoreFrames(
    path,
    [
      "-f",
      "lavfi",
      "-i",
      `color=c=0x808080:size=${index.width}x${index.height}:rate=${FPS},trim=end_frame=${frames}`,
    ],
    FPS,
  );
  const modes: ModeResult[] = [];
  const views: Array<{ mode: string; wire: Uint8Array; share: number }> = [
    { mode: "seed", wire: parts.direct, share: 0 },
  ];
  for (const s of schemes) {
    const { wire, plan } = await wirePattern(bytes, index, parts.direct, s);
    views.push({ mode: `pattern ${benchSchemeName(s)}`, wire, share: plan.encryptedBytes / bytes.length });
  }
  for (const v of views) {
    const built = leakView(v.wire, index.pictures, grey);
    if (built.zeroed > 0)
      console.warn(`  ${content.name} ${v.mode}: ${built.zeroed} I-pictures too short for grey`);
    const viewPath = join(outDir, `${content.name}.${v.mode.replaceAll(/[ :]/g, "-")}.m2v`);
    await writeFile(viewPath, built.view);
    const n = await countFrames(viewPath);
    const scores = await scoreFrames(path, ["-i", viewPath], FPS);
    if (scores.length !== frames)
      throw new Error(`leak: ${viewPath} scored ${scores.length} frames, not ${frames}`);
    const { view: rebuilt, ...attack } = resyncAttack(built.view, built.encrypted);
    const attackViewPath = viewPath.replace(/\.m2v$/, ".attack.m2v");
    await writeFile(attackViewPath, rebuilt);
    const attackFrames = await scoreFrames(path, ["-i", attackViewPath], FPS);
    if (attackFrames.length !== frames)
      throw new Error(`leak: ${attackViewPath} scored ${attackFrames.length} frames, not ${frames}`);
    modes.push({
      mode: v.mode,
      frames: scores,
      attackFrames,
      attackViewPath,
      attack,
      encryptedShare: v.share,
      viewPath,
      decodedFrames: n,
    });
  }
  return { content, path, frames, grey: greyScores, modes };
}

/**
 * CPU of each mode's send path on the clip itself (looped) (seed split + seal, plus the pattern on top), as a ratio to
 * seed's from the same interleaved rounds, best of COST_ROUNDS each: the clip is small, so `--cost` on the
 * 256 MiB recordings is the figure to quote; this one shows the ordering next to the leak.
 */
async function clipCpuRatios(
  r: ContentResult,
  schemes: readonly BenchScheme[],
  out: Map<string, number>,
): Promise<void> {
  // The clip looped to CLIP_COST_BYTES (an ES may simply be repeated: each copy opens with its sequence header),
  // so each run takes tens of milliseconds rather than one, above the timer's and the neighbours' noise.
  const clip = new Uint8Array(await Bun.file(r.path).arrayBuffer());
  const bytes = concat(Array.from({ length: Math.ceil(CLIP_COST_BYTES / clip.length) }, () => clip));
  const key = generateSessionKeyBytes();
  const runs: Array<[string, PatternScheme | undefined]> = [
    ["seed", undefined],
    // Bench-only candidates have no send path to time.
    ...schemes.flatMap(
      (s): Array<[string, PatternScheme]> =>
        s.kind === "slice-ends" ? [] : [[`pattern ${patternSchemeName(s)}`, s]],
    ),
  ];
  const best = new Map<string, number>();
  for (let round = 0; round < COST_ROUNDS; round++) {
    for (const [mode, scheme] of runs) {
      const { cpu } = await splitCost(bytes, key, scheme);
      best.set(mode, Math.min(best.get(mode) ?? Infinity, cpu));
    }
  }
  for (const [mode] of runs) out.set(`${r.content.name} ${mode}`, best.get(mode)! / best.get("seed")!);
}

async function leak(): Promise<void> {
  console.log(
    `leak: ${CONTENT.length} recordings, ${WIDTH}x${HEIGHT}, ${SECONDS} s, MPEG-2 ES GOP 12; views in ${OUT}`,
  );
  const results: ContentResult[] = [];
  const cpu = new Map<string, number>();
  const sliceSizes = new Map<string, SliceSizeLeak>();
  for (const c of CONTENT) {
    const r = await measureContent(c, OUT);
    results.push(r);
    await clipCpuRatios(r, SCHEMES, cpu);
    const sizes = await sliceSizeLeak(r.path, { width: WIDTH, height: HEIGHT });
    sliceSizes.set(c.name, sizes);
    console.log(
      `  ${c.name.padEnd(10)} slice sizes vs motion per row, every mode: Pearson r median ${sizes.median.toFixed(2)} (${sizes.low.toFixed(2)} to ${sizes.high.toFixed(2)}) over ${sizes.pictures} P/B pictures`,
    );
    const sheet = join(IMAGES, `leak-${c.name}.png`);
    await contactSheet(r, sheet);
    for (const m of r.modes) {
      console.log(
        `  ${c.name.padEnd(10)} ${m.mode.padEnd(22)} visible: ffmpeg ${visibleFrames(m.frames, r.grey)}/${r.frames} (decoded ${m.decodedFrames}), attacker ${visibleFrames(m.attackFrames, r.grey)}/${r.frames} (${m.attack.recoveredSlices}/${m.attack.attackedSlices} slices)`,
      );
    }
  }
  console.log(
    `\nVisible: luma SSIM above flat grey's by > ${VISIBLE_SSIM_MARGIN}; pass: <= ${MAX_VISIBLE_SHARE * 100} % of frames.\n`,
  );
  console.log(table(results, cpu));
  const json = results.map((r) => ({
    content: r.content.name,
    frames: r.frames,
    grey: r.grey,
    sliceSizeVsMotion: sliceSizes.get(r.content.name),
    modes: r.modes.map((m) => ({
      mode: m.mode,
      share: m.encryptedShare,
      cpuVsSeed: cpu.get(`${r.content.name} ${m.mode}`),
      frames: m.frames,
      attackFrames: m.attackFrames,
      attack: m.attack,
    })),
  }));
  await writeFile(join(OUT, "results.json"), JSON.stringify(json));
}

async function cost(): Promise<void> {
  const rec = await benchRecordings(join(ROOT, "bench", "out"));
  const schemes: PatternScheme[] = [
    DEFAULT_PATTERN_SCHEME,
    { kind: "slice-start", bytes: 64 },
    { kind: "block", crypt: 1, skip: 9 },
  ];
  for (const path of [rec.es, rec.ts]) {
    const gib = (await stat(path)).size / 2 ** 30;
    // Each run in a process of its own (bench/lib/cost-in-own-process.ts says why).
    const modes: Array<[string, () => Promise<CostRun>]> = [
      ["seed (split + seal protected part)", () => costInOwnProcess({ path })],
      ...schemes.map((scheme): [string, () => Promise<CostRun>] => [
        `pattern ${patternSchemeName(scheme)} (seed + pattern)`,
        () => costInOwnProcess({ path, scheme }),
      ]),
      // The default scheme planned as before pattern header version 3 (a row per crypt block on a TS), for the
      // before/after in the same rounds; on an ES both plans are version 1.
      [
        `pattern ${patternSchemeName(DEFAULT_PATTERN_SCHEME)}, version 1 plan (seed + pattern)`,
        () => costInOwnProcess({ path, scheme: DEFAULT_PATTERN_SCHEME, esPlan: false }),
      ],
      ["whole-file encryption (seal every byte)", () => costInOwnProcess({ path, whole: true })],
    ];
    // Interleaved rounds, best of each: neighbours on the shared 2-core machine disturb all modes alike, and
    // each round's own ratio to its seed run shows how far one lucky or unlucky round can move the figure.
    const best = new Map<string, CostRun>();
    const perRound = new Map<string, number[]>();
    for (let round = 0; round < COST_ROUNDS; round++) {
      let seedCpu = 0;
      for (const [name, fn] of modes) {
        const r = await fn();
        if (name === modes[0]![0]) seedCpu = r.cpu;
        const ratios = perRound.get(name) ?? [];
        ratios.push(r.cpu / seedCpu);
        perRound.set(name, ratios);
        const b = best.get(name);
        if (b === undefined || r.cpu < b.cpu) best.set(name, r);
      }
    }
    const seed = best.get(modes[0]![0])!;
    console.log(
      `\n${path.split("/").pop()} (${(gib * 1024).toFixed(0)} MiB), best of ${COST_ROUNDS} interleaved rounds, each run in a process of its own, load ${await loadAverage()}\n`,
    );
    console.log(
      "| mode | CPU s/GiB | wall s/GiB | CPU vs seed | rounds vs their seed (low / median / high) |",
    );
    console.log("|---|---|---|---|---|");
    for (const [name] of modes) {
      const r = best.get(name)!;
      const spread = lowMedianHigh(perRound.get(name)!);
      console.log(
        `| ${name} | ${(r.cpu / gib).toFixed(2)} | ${(r.wall / gib).toFixed(2)} | ${(r.cpu / seed.cpu).toFixed(2)}× | ${spread.map((x) => x.toFixed(2)).join(" / ")} |`,
      );
    }
  }
}

/** The 1, 5 and 15 minute load averages, as the tables print them. */
async function loadAverage(): Promise<string> {
  return (await Bun.file("/proc/loadavg").text()).split(" ").slice(0, 3).join(" ");
}

/** `--cost-h264`: measureH264Cost() as a table. */
async function costH264(): Promise<void> {
  const { best, bytes } = await measureH264Cost(COST_ROUNDS);
  const gib = bytes / 2 ** 30;
  const seed = best.get(H264_COST_SEED)!;
  console.log(
    `\nh264-cost.ts (${(bytes / 2 ** 20).toFixed(0)} MiB H.264 TS, held ${process.env.BENCH_HELD === "chunks" ? "in 4 MiB chunks" : "whole"}), best of ${COST_ROUNDS} interleaved rounds, each run in a process of its own, load ${await loadAverage()}\n`,
  );
  console.log("| mode | CPU s/GiB | wall s/GiB | CPU vs seed |");
  console.log("|---|---|---|---|");
  for (const [name, r] of best) {
    console.log(
      `| ${name} | ${(r.cpu / gib).toFixed(2)} | ${(r.wall / gib).toFixed(2)} | ${(r.cpu / seed.cpu).toFixed(2)}× |`,
    );
  }
}

async function main(): Promise<void> {
  await mkdir(IMAGES, { recursive: true });
  if (process.argv.includes("--cost-h264")) await costH264();
  else if (process.argv.includes("--cost")) await cost();
  else await leak();
}

if (import.meta.main) await main();
