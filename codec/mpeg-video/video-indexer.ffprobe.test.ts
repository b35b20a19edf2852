/**
 * @module Live comparison with ffprobe: runs the real ffprobe (and ffmpeg, for a stream made on the spot) and
 * checks the indexer's picture types and frame boundaries against it, frame by frame in stream order.
 */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ES_FIXTURE_DIR, esFixtureNames, loadEsFixture } from "../../test/support/es-fixtures.ts";
import { compareWithFfprobe, type FfprobeFrame } from "../../test/support/ffprobe-comparison.ts";
import { indexVideoElementaryStream } from "./index-video-elementary-stream.ts";

const FFPROBE = Bun.which("ffprobe");
const FFMPEG = Bun.which("ffmpeg");
if (!FFPROBE) {
  console.warn(
    "\n*** SKIPPING the live ffprobe comparison: ffprobe is not installed (apt-get install ffmpeg) ***\n",
  );
}

async function ffprobeFrames(path: string): Promise<FfprobeFrame[]> {
  const proc = Bun.spawn(
    [FFPROBE!, "-v", "error", "-show_entries", "frame=pkt_pos,pict_type", "-of", "json", path],
    {
      stdout: "pipe",
      stderr: "pipe",
    },
  );
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).json(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  if (code !== 0) throw new Error(`ffprobe failed on ${path}: ${err}`);
  const frames = (out as { frames: { pkt_pos: string; pict_type: string }[] }).frames.map((f) => ({
    pos: Number(f.pkt_pos),
    type: f.pict_type,
  }));
  return frames.sort((a, b) => a.pos - b.pos);
}

describe.skipIf(!FFPROBE)("VideoIndexer against live ffprobe", () => {
  for (const name of esFixtureNames()) {
    test(`VideoIndexer agrees with live ffprobe on ${name}`, async () => {
      const frames = await ffprobeFrames(join(ES_FIXTURE_DIR, name));
      expect(frames.length).toBeGreaterThan(0);
      expect(compareWithFfprobe(indexVideoElementaryStream(loadEsFixture(name)), frames)).toEqual([]);
    });
  }

  test.skipIf(!FFMPEG)(
    "VideoIndexer agrees with live ffprobe on a stream encoded now (352x288, GOP 9, 3 B-frames)",
    async () => {
      const dir = mkdtempSync(join(tmpdir(), "pvrlink-es-"));
      try {
        const path = join(dir, "live.m2v");
        const args = ["-v", "error", "-f", "lavfi", "-i", "testsrc2=size=352x288:rate=25", "-frames:v", "20"];
        const enc = ["-c:v", "mpeg2video", "-g", "9", "-bf", "3", "-q:v", "12", "-f", "rawvideo", path];
        expect(await Bun.spawn([FFMPEG!, ...args, ...enc], { stderr: "inherit" }).exited).toBe(0);
        const bytes = new Uint8Array(await Bun.file(path).arrayBuffer());
        const ix = indexVideoElementaryStream(bytes);
        expect(ix.errors).toEqual([]);
        expect([ix.width, ix.height, ix.counts.pic]).toEqual([352, 288, 20]);
        expect(compareWithFfprobe(ix, await ffprobeFrames(path))).toEqual([]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
