/** @module `bun bench/leak.ts`: what an eavesdropper on the direct channel can decode in seed and pattern mode, and (--cost) what each mode costs. */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { $ } from "bun";
import { indexRecording } from "../codec/container/recording-indexer.ts";
import { PatternDirectEncoder } from "../codec/pattern/pattern-direct-encoder.ts";
import { planPattern } from "../codec/pattern/pattern-planner.ts";
import { type PatternScheme, patternSchemeName } from "../codec/pattern/pattern-scheme.ts";
import type { RecordingIndex } from "../codec/recording-index.ts";
import { concat, splitBytes } from "../codec/split/split-bytes.ts";
import { generateSessionKeyBytes } from "../crypto/aead.ts";
import { makePatternKeystream } from "../crypto/keystream.ts";
import { randomBytes } from "../crypto/random-token.ts";
import { countFrames, type FrameScore, mean, scoreFrames } from "./lib/leak-metrics.ts";
import { greyIPicture, leakView } from "./lib/leak-view.ts";

const ROOT = join(import.meta.dir, "..");
const OUT = join(ROOT, "bench", "out", "leak");

export interface ContentKind {
  name: string;
  /** What it stands for, for the table. */
  kind: string;
  /** lavfi graph. */
  source: string;
}

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
export function encodeArgs(source: string, container: "mpeg2video"): string[] {
  return [
    "-v",
    "error",
    "-y",
    "-f",
    "lavfi",
    "-i",
    source,
    "-t",
    String(SECONDS),
    "-c:v",
    "mpeg2video",
    "-g",
    "12",
    "-bf",
    "2",
    "-b:v",
    "2M",
    "-f",
    container,
  ];
}

export const SCHEMES: readonly PatternScheme[] = [
  { kind: "slice-start", bytes: 4 },
  { kind: "slice-start", bytes: 16 },
  { kind: "slice-start", bytes: 64 },
  { kind: "block", crypt: 1, skip: 31 },
  { kind: "block", crypt: 1, skip: 9 },
  { kind: "full" },
];

export interface ModeResult {
  mode: string;
  frames: FrameScore[];
  encryptedShare: number;
  viewPath: string;
  /** Frames the view's decoder put out (before gaps are filled); fewer than the original's when it dropped some. */
  decodedFrames: number;
}

export interface ContentResult {
  content: ContentKind;
  path: string;
  frames: number;
  grey: FrameScore[];
  modes: ModeResult[];
}

async function wirePattern(
  bytes: Uint8Array,
  index: RecordingIndex,
  direct: Uint8Array,
  scheme: PatternScheme,
) {
  const plan = planPattern(bytes, index, scheme);
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
  schemes = SCHEMES,
): Promise<ContentResult> {
  await mkdir(outDir, { recursive: true });
  const path = join(outDir, `${content.name}.m2v`);
  await $`ffmpeg ${encodeArgs(content.source, "mpeg2video")} ${path}`.quiet();
  const bytes = new Uint8Array(await Bun.file(path).arrayBuffer());
  const index = indexRecording(bytes);
  const frames = await countFrames(path);
  const parts = splitBytes(bytes, index.protectedRanges, index.container);
  const grey = await greyIPicture(index.width, index.height, index.format === "mpeg1");
  const directBody = parts.direct.length; // header included; the share below is of the recording's bytes
  void directBody;
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
    views.push({ mode: `pattern ${patternSchemeName(s)}`, wire, share: plan.encryptedBytes / bytes.length });
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
    modes.push({ mode: v.mode, frames: scores, encryptedShare: v.share, viewPath, decodedFrames: n });
  }
  return { content, path, frames, grey: greyScores, modes };
}

function summary(r: ContentResult): void {
  const g = { psnr: mean(r.grey.map((f) => f.psnr)), ssim: mean(r.grey.map((f) => f.ssim)) };
  console.log(
    `${r.content.name} (${r.frames} frames): grey PSNR ${g.psnr.toFixed(2)} SSIM ${g.ssim.toFixed(3)}`,
  );
  for (const m of r.modes) {
    const d = m.frames.map((f, i) => f.ssim - r.grey[i]!.ssim);
    const better = [0.02, 0.05, 0.1].map((t) => d.filter((x) => x > t).length).join("/");
    const dp = m.frames.map((f, i) => f.psnr - r.grey[i]!.psnr);
    console.log(
      `  ${m.mode.padEnd(24)} PSNR ${mean(m.frames.map((f) => f.psnr)).toFixed(2)} SSIM ${mean(m.frames.map((f) => f.ssim)).toFixed(3)} max SSIM ${Math.max(...m.frames.map((f) => f.ssim)).toFixed(3)} d>.02/.05/.1 ${better} maxd ${Math.max(...d).toFixed(3)} maxdP ${Math.max(...dp).toFixed(2)} enc ${(m.encryptedShare * 100).toFixed(2)}%`,
    );
  }
}

async function main(): Promise<void> {
  for (const c of CONTENT) summary(await measureContent(c, OUT));
}

if (import.meta.main) await main();
