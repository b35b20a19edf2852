/** @module The leak bench's report: the per-mode table (both attackers, CPU ratio) and the contact sheets. */
import { $ } from "bun";
import { DEFAULT_PATTERN_SCHEME, patternSchemeName } from "../../codec/pattern/pattern-scheme.ts";
import { type FrameScore, mean, visibleFrames } from "./leak-metrics.ts";
import type { ContentResult } from "./leak-results.ts";

/** Frame rate of the bench's clips (bench/leak.ts FPS): the views are resampled to it. */
const FPS = 25;
const DEFAULT_MODE = `pattern ${patternSchemeName(DEFAULT_PATTERN_SCHEME)}`;
/** The former default, kept on the sheets: it holds against ffmpeg, not against the re-synchronising attacker. */
const FORMER_MODE = "pattern slice-start 64";
/** Frames shown on each contact sheet: P/B frames (decode order I B B P…, GOP 12) across the clip. */
const SHEET_FRAMES = [20, 50, 82];

/**
 * Original | seed (either attacker: nothing is encrypted) | former default as the re-synchronising attacker
 * rebuilds it | default as ffmpeg decodes it | default as the attacker rebuilds it; three frames, PNG with a
 * 128-colour palette to stay small.
 */
export async function contactSheet(r: ContentResult, path: string): Promise<void> {
  const mode = (name: string) => r.modes.find((m) => m.mode === name)!;
  const inputs = [
    mode("seed").viewPath,
    mode(FORMER_MODE).attackViewPath,
    mode(DEFAULT_MODE).viewPath,
    mode(DEFAULT_MODE).attackViewPath,
  ];
  const select = SHEET_FRAMES.map((n) => `eq(n\\,${n})`).join("+");
  const resampled = inputs.map((_, i) => `[${i + 1}:v]fps=${FPS}[v${i}]`).join(";");
  const stacked = inputs.map((_, i) => `[v${i}]`).join("");
  const graph = `${resampled};[0:v]${stacked}hstack=${inputs.length + 1},select='${select}',scale=iw*3/5:-2,tile=1x${SHEET_FRAMES.length},split[a][b];[a]palettegen=max_colors=128[pal];[b][pal]paletteuse=dither=none`;
  const args = inputs.flatMap((i) => ["-i", i]);
  await $`ffmpeg -v quiet -y -i ${r.path} ${args} -filter_complex ${graph} -frames:v 1 ${path}`.quiet();
}

function percentVisible(frames: readonly FrameScore[], grey: readonly FrameScore[]): string {
  return `${((100 * visibleFrames(frames, grey)) / frames.length).toFixed(0)} %`;
}

export function table(results: readonly ContentResult[], cpu: ReadonlyMap<string, number>): string {
  const lines = [
    "| content | mode | encrypted share of file | CPU vs seed | SSIM-Y (ffmpeg) | visible (ffmpeg) | SSIM-Y (attacker) | visible (attacker) | macroblocks recovered |",
    "|---|---|---|---|---|---|---|---|---|",
  ];
  for (const r of results) {
    const g = mean(r.grey.map((f) => f.ssim)).toFixed(3);
    lines.push(`| ${r.content.name} | flat grey (baseline) | – | – | ${g} | 0 % | ${g} | 0 % | – |`);
    for (const m of r.modes) {
      const share = m.mode === "seed" ? "0 %" : `${(m.encryptedShare * 100).toFixed(1)} %`;
      const ratio = cpu.get(`${r.content.name} ${m.mode}`);
      const ssim = (f: readonly FrameScore[]) => mean(f.map((x) => x.ssim)).toFixed(3);
      lines.push(
        `| ${r.content.name} | ${m.mode} | ${share} | ${ratio === undefined ? "–" : `${ratio.toFixed(2)}×`} | ${ssim(m.frames)} | ${percentVisible(m.frames, r.grey)} | ${ssim(m.attackFrames)} | ${percentVisible(m.attackFrames, r.grey)} | ${m.attack.recoveredMacroblocks} |`,
      );
    }
  }
  return lines.join("\n");
}
