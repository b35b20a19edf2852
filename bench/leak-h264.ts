/** @module `bun bench/leak-h264.ts`: what an eavesdropper on the direct channel decodes of H.264 (CABAC and CAVLC) in seed and cbcs pattern mode, by ffmpeg and by the re-synchronising attempt (`--resync`). */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { cbcsSliceBlocks } from "../codec/container/cbcs-slice-blocks.ts";
import { DEFAULT_H264_PATTERN_SCHEME, PATTERN_BLOCK_BYTES } from "../codec/pattern/pattern-scheme.ts";
import { generateSessionKeyBytes } from "../crypto/aead.ts";
import { makeCbcsTransform } from "../crypto/cbcs-cipher.ts";
import { randomBytes } from "../crypto/random-token.ts";
import { CONTENT, FPS, HEIGHT, SECONDS, WIDTH } from "./leak.ts";
import { h264ContextAttack, type NeighbourReading } from "./lib/attack/h264-context-attack.ts";
import type { H264ResyncResult } from "./lib/attack/h264-resync-attack.ts";
import { h264ResyncAttack } from "./lib/attack/h264-resync-attack.ts";
import { encodeH264Clip } from "./lib/h264-clip.ts";
import { CLIP_COST_BYTES, type H264ClipCost, h264ClipCost } from "./lib/h264-clip-cost.ts";
import { h264ContactSheet } from "./lib/h264-contact-sheet.ts";
import { H264_COST_CBCS, H264_COST_SEED, measureH264Cost } from "./lib/h264-cost.ts";
import { h264EsLayout, h264LeakView } from "./lib/h264-leak-view.ts";
import { countFrames, type FrameScore, mean, scoreFrames, visibleFrames } from "./lib/leak-metrics.ts";
import type { ContentKind } from "./lib/leak-results.ts";

/** Pixels per macroblock side. */
const MB_SIZE = 16;
const OUT = join(import.meta.dir, "out", "leak-h264");
const IMAGES = join(import.meta.dir, "..", "docs", "images");

/** One content kind and entropy coder: each mode's frames decoded, scores, visible frames and encrypted share. */
export interface H264LeakResult {
  frames: number;
  /** The original ES. */
  path: string;
  grey: FrameScore[];
  /** With `costRounds`: cbcs CPU against seed on this clip's TS, looped (h264ClipCost). */
  cost?: H264ClipCost;
  modes: Array<{
    mode: string;
    share: number;
    decoded: number;
    scores: FrameScore[];
    visible: number;
    /** The re-synchronising attempt's view, scored the same way (seed: ffmpeg's, nothing is encrypted). */
    viewPath: string;
    resync?: AttackScore;
    /** The stronger, context-carrying attempt (CAVLC only), scored the same way. */
    context?: AttackScore & { byReading: Record<NeighbourReading, number> };
  }>;
}

/** An attempt's rebuilt view, scored as ffmpeg's. */
export interface AttackScore {
  viewPath: string;
  scores: FrameScore[];
  visible: number;
  stats: Omit<H264ResyncResult, "view" | "movedViews">;
  /** The largest SSIM-Y over grey's in any frame; and with the recovered slices moved by PLACEMENT_SHIFTS. */
  gain: number;
  movedGain: number[];
}

/** Writes an attempt's view (and its placement control's) beside the clip and scores them against the original. */
async function scoreAttack(
  attacked: H264ResyncResult,
  o: { viewPath: string; src: string; greyScores: FrameScore[] },
): Promise<AttackScore> {
  const { view, movedViews, ...stats } = attacked;
  await Bun.write(o.viewPath, view);
  const scores = await scoreFrames(o.src, ["-i", o.viewPath], FPS);
  // The placement control: the same recovered slices moved by a macroblock. A gain that is content placed
  // right vanishes there; a gain the metric gives any texture does not.
  const movedGain: number[] = [];
  for (const [k, moved] of movedViews.entries()) {
    const movedPath = o.viewPath.replace(/\.h264$/, `-moved${PLACEMENT_SHIFTS[k]}.h264`);
    await Bun.write(movedPath, moved);
    movedGain.push(largestGain(await scoreFrames(o.src, ["-i", movedPath], FPS), o.greyScores));
  }
  return {
    viewPath: o.viewPath,
    scores,
    visible: visibleFrames(scores, o.greyScores),
    stats,
    gain: largestGain(scores, o.greyScores),
    movedGain,
  };
}

/** Encodes one content kind as H.264, builds the seed and cbcs views and scores them against the original. */
export async function measureH264Content(
  content: ContentKind,
  entropy: "cabac" | "cavlc",
  options: {
    dir: string;
    seconds?: number;
    /** context: also the stronger, context-carrying attempt on CAVLC (h264-context-attack.ts; ~10× the time). */
    resync?: { probeBytes?: number; context?: boolean };
    costRounds?: number;
    /** false: the layout before each slice's last block was encrypted (`--no-tail`). */
    tail?: boolean;
  },
): Promise<H264LeakResult> {
  const seconds = options.seconds ?? SECONDS;
  await mkdir(options.dir, { recursive: true });
  const src = join(options.dir, `${content.name}.${entropy}.h264`);
  const { es, ts } = await encodeH264Clip(content.source, entropy, { path: src, seconds });
  const greySource = `color=c=0x808080:size=${WIDTH}x${HEIGHT}:rate=${FPS}`;
  const { es: grey } = await encodeH264Clip(greySource, entropy, {
    path: join(options.dir, `grey.${entropy}.h264`),
    seconds: 1,
  });
  const first = h264EsLayout(grey).pictures[0]!;
  const greyAu = grey.slice(first.offset, first.offset + first.length);
  const layout = h264EsLayout(es);
  const frames = await countFrames(src);
  const greyScores = await scoreFrames(
    src,
    ["-f", "lavfi", "-i", `${greySource},trim=end_frame=${frames}`],
    FPS,
  );
  const cbcs = await makeCbcsTransform(generateSessionKeyBytes(), randomBytes(16), "encrypt");
  const modes: H264LeakResult["modes"] = [];
  for (const mode of ["seed", "pattern cbcs 1:9"] as const) {
    const tail = options.tail !== false;
    const built = h264LeakView(es, layout, { greyAu, tail, ...(mode === "seed" ? {} : { cbcs }) });
    const viewPath = join(options.dir, `${content.name}.${entropy}.${mode.replaceAll(/[ :]/g, "-")}.h264`);
    await Bun.write(viewPath, built.view);
    const scores = await scoreFrames(src, ["-i", viewPath], FPS);
    const visible = visibleFrames(scores, greyScores);
    let resync: AttackScore | undefined;
    let context: (AttackScore & { byReading: Record<NeighbourReading, number> }) | undefined;
    if (options.resync && mode === "seed") {
      // Seed encrypts nothing: the attempt has no run to re-synchronise in, its view is ffmpeg's.
      const none = { runs: 0, candidates: 0, validCandidates: 0, recoveredRuns: 0, macroblocks: 0 };
      const control = { candidates: 0, valid: 0 };
      resync = {
        viewPath,
        scores,
        visible,
        stats: { ...none, control, placedExactly: 0, placedBeforeTail: 0, placedByEstimate: 0 },
        gain: largestGain(scores, greyScores),
        movedGain: [],
      };
    } else if (options.resync) {
      const attack = { entropy, greyAu, dir: options.dir, tail, shifts: PLACEMENT_SHIFTS };
      const probe = options.resync.probeBytes !== undefined ? { probeBytes: options.resync.probeBytes } : {};
      resync = await scoreAttack(await h264ResyncAttack(built.view, { ...attack, ...probe }), {
        viewPath: viewPath.replace(/\.h264$/, ".resync.h264"),
        src,
        greyScores,
      });
      // The stronger attempt carries a neighbour context into each run: CAVLC only (CABAC's state is no VLC).
      if (entropy === "cavlc" && options.resync.context) {
        const { byReading, ...result } = await h264ContextAttack(built.view, {
          ...attack,
          ...probe,
          widthMbs: WIDTH / MB_SIZE,
        });
        context = {
          ...(await scoreAttack(result, {
            viewPath: viewPath.replace(/\.h264$/, ".context.h264"),
            src,
            greyScores,
          })),
          byReading,
        };
      }
    }
    modes.push({
      mode,
      share: mode === "seed" ? 0 : encryptedShare(es, layout),
      decoded: await countFrames(viewPath),
      scores,
      visible,
      viewPath,
      ...(resync ? { resync } : {}),
      ...(context ? { context } : {}),
    });
  }
  const cost = options.costRounds ? await h264ClipCost(ts, options.costRounds) : undefined;
  return { frames, path: src, grey: greyScores, modes, ...(cost ? { cost } : {}) };
}

/** The placement control's moves, in macroblocks. */
const PLACEMENT_SHIFTS = [-1, 1] as const;

function largestGain(view: readonly FrameScore[], grey: readonly FrameScore[]): number {
  let best = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < view.length; i++) best = Math.max(best, view[i]!.ssim - grey[i]!.ssim);
  return best;
}

/** Own-process pairs of the clip's CPU measurement (h264ClipCost), seed and cbcs alternating; the median ratio. */
const COST_ROUNDS = Number(process.env.BENCH_RUNS ?? 5);

/** `--resync` clips are 1 s: the attempt decodes every candidate offset of every clear run (~1 ms each). */
const RESYNC_SECONDS = 1;

async function main(): Promise<void> {
  const resync = process.argv.includes("--resync");
  // --no-tail: the layout before each slice's last block was encrypted; --only KIND:ENTROPY: one clip; --no-context:
  // --resync without the stronger attempt (h264-context-attack.ts), which takes most of the time.
  const tail = !process.argv.includes("--no-tail");
  const only = process.argv[process.argv.indexOf("--only") + 1];
  const picked = process.argv.includes("--only") ? only : undefined;
  const seconds = resync ? RESYNC_SECONDS : SECONDS;
  console.log(
    `leak-h264: ${CONTENT.length} recordings, ${WIDTH}x${HEIGHT}, ${seconds} s, H.264 GOP 12 (2 B), views in ${OUT}${resync ? ", with the re-synchronising attempt" : ""}${tail ? "" : ", without the slices' last blocks (--no-tail)"}\n`,
  );
  console.log(
    `| content | entropy | mode | encrypted share | CPU vs seed | frames decoded | SSIM-Y (grey) | visible (ffmpeg) |${resync ? " SSIM-Y (attempt) | visible (attempt) | largest gain over grey in a frame (slices moved −1 / +1 macroblock) | runs | offsets passing the check (random bytes) | runs recovered | macroblocks (exact / before the tail block / estimated runs) | visible (context attempt, CAVLC) |" : ""}`,
  );
  console.log(`|---|---|---|---|---|---|---|---|${resync ? "---|---|---|---|---|---|---|---|" : ""}`);
  const contextRows: string[] = [];
  const ratios: number[] = [];
  for (const c of CONTENT) {
    for (const entropy of ["cabac", "cavlc"] as const) {
      if (picked !== undefined && picked !== `${c.name}:${entropy}`) continue;
      const r = await measureH264Content(c, entropy, {
        tail,
        dir: OUT,
        seconds,
        ...(resync ? { resync: { context: !process.argv.includes("--no-context") } } : {}),
        costRounds: COST_ROUNDS,
      });
      // The docs' contact sheets come from full runs of the senders' layout only.
      if (resync && tail && picked === undefined) {
        const [seed, cbcs] = r.modes;
        await h264ContactSheet(
          r.path,
          [seed!.viewPath, cbcs!.viewPath, cbcs!.resync!.viewPath],
          join(IMAGES, `leak-h264-${c.name}-${entropy}.png`),
        );
      }
      ratios.push(r.cost!.ratio);
      for (const m of r.modes) {
        let extra = "";
        if (m.resync) {
          const st = m.resync.stats;
          const moved = m.resync.movedGain.map((g) => signed(g)).join(" / ") || "–";
          extra = ` ${mean(m.resync.scores.map((s) => s.ssim)).toFixed(3)} | ${m.resync.visible}/${m.resync.scores.length} | ${signed(m.resync.gain)} (${moved}) | ${st.runs} | ${pct(st.validCandidates, st.candidates)} (${pct(st.control.valid, st.control.candidates)}) | ${st.recoveredRuns} | ${st.macroblocks} (${st.placedExactly} / ${st.placedBeforeTail} / ${st.placedByEstimate}) | ${m.context ? `${m.context.visible}/${m.context.scores.length}` : "–"} |`;
          if (m.context) contextRows.push(contextRow(`${c.name} | ${entropy}`, m.resync, m.context));
        }
        console.log(
          `| ${c.name} | ${entropy} | ${m.mode} | ${(m.share * 100).toFixed(1)} % | ${(m.mode === "seed" ? 1 : r.cost!.ratio).toFixed(2)}× | ${m.decoded}/${r.frames} | ${mean(m.scores.map((s) => s.ssim)).toFixed(3)} (${mean(r.grey.map((s) => s.ssim)).toFixed(3)}) | ${m.visible}/${m.scores.length} |${extra}`,
        );
      }
    }
  }
  if (contextRows.length > 0) {
    console.log(
      "\nThe stronger attempt (CAVLC, h264-context-attack.ts): each offset under three readings of the hidden neighbours\n",
    );
    console.log(
      "| content | entropy | visible (attempt) | visible (context attempt) | SSIM-Y (context attempt) | largest gain over grey in a frame (moved −1 / +1) | offsets passing under any reading (random bytes) | runs recovered: attempt → context (unavailable / quiet / busy) | macroblocks (exact / before the tail block / estimated runs) |",
    );
    console.log("|---|---|---|---|---|---|---|---|---|");
    for (const row of contextRows) console.log(row);
  }
  const sorted = ratios.toSorted((a, b) => a - b);
  console.log(
    `\nCPU vs seed: each clip's TS looped to ${CLIP_COST_BYTES / 2 ** 20} MiB, seed (split + seal) against cbcs 1:9 (plan + AES-CBC on top), the median of ${COST_ROUNDS} alternating pairs of runs each in a process of its own; cbcs ${sorted[0]!.toFixed(2)}–${sorted.at(-1)!.toFixed(2)}× (median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(2)}×)`,
  );
  if (process.argv.includes("--cost")) {
    // The CPU ratio of the same run: bench/leak.ts --cost-h264's measurement (a 60 MiB H.264 TS, made once).
    const { best } = await measureH264Cost(COST_ROUNDS);
    const ratio = best.get(H264_COST_CBCS)!.cpu / best.get(H264_COST_SEED)!.cpu;
    console.log(
      `\nCPU vs seed (bench/leak.ts --cost-h264's measurement, this run): cbcs 1:9 ${ratio.toFixed(2)}×`,
    );
  }
}

/** One row of the stronger attempt's table, beside the attempt it extends. */
function contextRow(
  clip: string,
  base: AttackScore,
  ctx: AttackScore & { byReading: Record<NeighbourReading, number> },
): string {
  const st = ctx.stats;
  const by = ctx.byReading;
  const moved = ctx.movedGain.map((g) => signed(g)).join(" / ") || "–";
  return `| ${clip} | ${base.visible}/${base.scores.length} | ${ctx.visible}/${ctx.scores.length} | ${mean(ctx.scores.map((s) => s.ssim)).toFixed(3)} | ${signed(ctx.gain)} (${moved}) | ${pct(st.validCandidates, st.candidates)} (${pct(st.control.valid, st.control.candidates)}) | ${base.stats.recoveredRuns} → ${st.recoveredRuns} (${by.unavailable} / ${by.quiet} / ${by.busy}) | ${st.macroblocks} (${st.placedExactly} / ${st.placedBeforeTail} / ${st.placedByEstimate}) |`;
}

function signed(x: number): string {
  return `${x >= 0 ? "+" : ""}${x.toFixed(4)}`;
}

function pct(n: number, of: number): string {
  return of === 0 ? "–" : `${((100 * n) / of).toFixed(1)} % of ${of}`;
}

/** Bytes the cbcs mode encrypts in the P/B slices, as a share of the stream. */
function encryptedShare(es: Uint8Array, layout: ReturnType<typeof h264EsLayout>): number {
  const scheme = DEFAULT_H264_PATTERN_SCHEME as { crypt: number; skip: number };
  let bytes = 0;
  let s = 0;
  for (const p of layout.pictures) {
    const end = p.offset + p.length;
    for (; s < layout.slices.length && layout.slices[s]!.nalStart < end; s++) {
      const sl = layout.slices[s]!;
      if (p.type === "I" || sl.dataStart < 0) continue;
      cbcsSliceBlocks(sl.dataStart, sl.nalEnd, scheme, () => {
        bytes += PATTERN_BLOCK_BYTES;
      });
    }
  }
  return bytes / es.length;
}

if (import.meta.main) await main();
