/** @module x264Testsrc(): ffmpeg's testsrc2 at 320×240 and 25 fps encoded by libx264, the H.264 stream tests make when no fixture has what they need. */

/**
 * Runs `ffmpeg -v error -f lavfi -i testsrc2=size=320x240:rate=25 -t SECONDS -c:v libx264 ...args`: `args` are the
 * encoder's options and the output (a path, or `-f h264 -` for the stream on stdout). The caller checks exitCode.
 */
export function x264Testsrc(ffmpeg: string, seconds: number, args: readonly string[]): Bun.SyncSubprocess {
  return Bun.spawnSync([
    ffmpeg,
    "-v",
    "error",
    "-f",
    "lavfi",
    "-i",
    "testsrc2=size=320x240:rate=25",
    "-t",
    String(seconds),
    "-c:v",
    "libx264",
    ...args,
  ]);
}
