/** @module Per-frame PSNR and SSIM of a decoded view against the decoded original, by ffmpeg's psnr and ssim filters. */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { $ } from "bun";

/**
 * One frame's scores against the original. Luma (Y) only: flat chroma planes score near 1 against a grey
 * frame whatever the content, which would blur the difference between a leaking and a dark view.
 */
export interface FrameScore {
  /** PSNR of Y in dB (psnr filter's psnr_y), capped at 100. */
  psnr: number;
  /** SSIM of Y (ssim filter's Y). */
  ssim: number;
}

/** psnr_avg is "inf" for identical frames; cap it so averages stay finite (100 dB is far beyond any codec). */
const PSNR_CAP = 100;

function parseStats(text: string, key: string): number[] {
  const out: number[] = [];
  for (const line of text.split("\n")) {
    const m = line.match(new RegExp(`(?:^| )${key}:(\\S+)`));
    if (m) out.push(m[1] === "inf" ? PSNR_CAP : Math.min(PSNR_CAP, Number(m[1])));
  }
  return out;
}

/**
 * Decodes `view` (any input ffmpeg reads: a file path or lavfi graph given as args) and the original, and
 * returns each frame's scores. Throws when the frame counts differ: the comparison would misalign.
 */
export async function scoreFrames(
  originalPath: string,
  viewArgs: string[],
  fps: number,
): Promise<FrameScore[]> {
  const dir = await mkdtemp(join(tmpdir(), "pvrlink-leak-"));
  try {
    const psnrLog = join(dir, "psnr.log");
    const ssimLog = join(dir, "ssim.log");
    // A frame the view's decoder drops (ciphertext can emulate a start code) is filled by fps from its
    // timestamp with the previous frame, as a player would show it, so the pairs stay aligned.
    const graph = `[0:v]split=2[o1][o2];[1:v]fps=${fps},split=2[v1][v2];[v1][o1]psnr=stats_file=${psnrLog};[v2][o2]ssim=stats_file=${ssimLog}`;
    await $`ffmpeg -v quiet -i ${originalPath} ${viewArgs} -filter_complex ${graph} -f null -`.quiet();
    const psnr = parseStats(await readFile(psnrLog, "utf8"), "psnr_y");
    const ssim = parseStats(await readFile(ssimLog, "utf8"), "Y");
    if (psnr.length !== ssim.length || psnr.length === 0) {
      throw new Error(`leak: ffmpeg scored ${psnr.length} PSNR and ${ssim.length} SSIM frames`);
    }
    return psnr.map((p, i) => ({ psnr: p, ssim: ssim[i]! }));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Frames ffmpeg decodes from a file: the view must decode to as many frames as the original. */
export async function countFrames(path: string): Promise<number> {
  const out =
    await $`ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames -of csv=p=0 ${path}`
      .quiet()
      .text();
  return Number.parseInt(out.trim(), 10);
}

export function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
}

/**
 * A frame is visible to the eavesdropper when its luma SSIM against the original beats a flat grey frame's by
 * more than this. SSIM (Wang et al. 2004) tracks structure (edges, outlines, text), which is what makes
 * content recognisable; absolute SSIM levels do not carry across content (grey scores 0.70 on a still, 0.04
 * on busy texture), so the bar is relative to grey on the same frame. 0.02 is strict: seed mode clears it on
 * 85-91 % of the frames of every moving recording (docs/security.md).
 */
export const VISIBLE_SSIM_MARGIN = 0.02;
/**
 * A view is "no better than grey" when at most this share of its frames are visible: one stray frame in 50
 * may come out of decoding random ciphertext (a CTR keystream is random, so garbage can correlate by chance).
 */
export const MAX_VISIBLE_SHARE = 0.02;

/** The frames of a view that beat grey by more than VISIBLE_SSIM_MARGIN. */
export function visibleFrames(view: readonly FrameScore[], grey: readonly FrameScore[]): number {
  let n = 0;
  for (let i = 0; i < view.length; i++) if (view[i]!.ssim > grey[i]!.ssim + VISIBLE_SSIM_MARGIN) n++;
  return n;
}
