/** @module encodeH264Clip(): one leak clip as libx264 makes it for bench/leak-h264.ts (GOP 12, 2 B-frames, CABAC or CAVLC), as a Transport Stream and its Annex B stream. */
import { $ } from "bun";

/** libx264 as the fixtures and bench-recordings use it (GOP 12, 2 B-frames), CABAC or CAVLC. */
function x264(entropy: "cabac" | "cavlc"): string[] {
  return [
    "-c:v",
    "libx264",
    "-threads",
    "1",
    "-preset",
    "veryfast",
    "-g",
    "12",
    "-bf",
    "2",
    "-b:v",
    "1M",
    "-pix_fmt",
    "yuv420p",
    ...(entropy === "cavlc" ? ["-coder", "0"] : []),
  ];
}

/**
 * Encodes `source` (an ffmpeg lavfi graph) as a Transport Stream (`path` with .ts) and copies its video out as
 * the Annex B stream at `path` (ending .h264): the leak views are built from the ES, the CPU is measured on the
 * TS, and both hold the same bitstream.
 */
export async function encodeH264Clip(
  source: string,
  entropy: "cabac" | "cavlc",
  where: { path: string; seconds: number },
): Promise<{ es: Uint8Array; ts: Uint8Array }> {
  const ts = where.path.replace(/\.h264$/, ".ts");
  await $`ffmpeg -v error -y -f lavfi -i ${source} -t ${where.seconds} ${x264(entropy)} -f mpegts ${ts}`.quiet();
  await $`ffmpeg -v error -y -i ${ts} -map 0:v -c copy -f h264 ${where.path}`.quiet();
  return {
    es: new Uint8Array(await Bun.file(where.path).arrayBuffer()),
    ts: new Uint8Array(await Bun.file(ts).arrayBuffer()),
  };
}
