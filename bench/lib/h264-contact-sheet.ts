/** @module The H.264 leak bench's contact sheets: original, seed, cbcs as ffmpeg decodes it, cbcs as the re-synchronising attempt rebuilds it. */
import { $ } from "bun";

/** Frame rate of the bench's clips: the views are resampled to it, so a dropped frame shows its predecessor. */
const FPS = 25;
/** P/B frames (display order, GOP 12 with 2 B-frames) of a 1 s clip. */
const SHEET_FRAMES = [5, 14, 22];

/** Original | each view in `views`, left to right; three frames top to bottom; PNG with a 128-colour palette. */
export async function h264ContactSheet(
  original: string,
  views: readonly string[],
  path: string,
): Promise<void> {
  const select = SHEET_FRAMES.map((n) => `eq(n\\,${n})`).join("+");
  const resampled = views.map((_, i) => `[${i + 1}:v]fps=${FPS}[v${i}]`).join(";");
  const stacked = views.map((_, i) => `[v${i}]`).join("");
  const graph = `${resampled};[0:v]${stacked}hstack=${views.length + 1},select='${select}',scale=iw*3/5:-2,tile=1x${SHEET_FRAMES.length},split[a][b];[a]palettegen=max_colors=128[pal];[b][pal]paletteuse=dither=none`;
  const args = views.flatMap((v) => ["-i", v]);
  await $`ffmpeg -v quiet -y -i ${original} ${args} -filter_complex ${graph} -frames:v 1 ${path}`.quiet();
}
