/** @module Makes the bench's large recordings once: ffmpeg-encoded MPEG-2 seeds, looped to at least 256 MiB as ES and TS. */
import { existsSync, statSync } from "node:fs";
import { mkdir, open, rm } from "node:fs/promises";
import { join } from "node:path";
import { $ } from "bun";
import { mpeg2RecordingArgs } from "../../demo/mpeg2-recipe.ts";

/** The issue asks for at least 256 MiB per recording. */
export const MIN_BENCH_BYTES = 256 * 1024 * 1024;

export interface BenchRecordings {
  es: string;
  ts: string;
  /** The ffmpeg commands that made them, for docs/benchmarks.md. */
  recipe: string[];
}

/** One pair of recordings (ES and TS) from one 4 s seed. */
interface RecordingSpec {
  /** File name stem in outDir: STEM.m2v, STEM.ts, and the seed STEM-seed.m2v (or seed.m2v for "bench"). */
  stem: string;
  seed: string;
  /** lavfi source graph. */
  source: string;
  /** Video bitrate, maximum rate and VBV buffer (ffmpeg -b:v -maxrate -bufsize). */
  bitrate: string;
  bufsize: string;
}

// A 4 s seed: SD MPEG-2 720x576 at 25 frames/s, GOP 12 with two B-pictures, progressive frames as ffmpeg
// writes them; mp2 audio in the TS so the demuxer skips real audio packets.
// - "bench" asks for 15 Mbit/s, but testsrc2 alone is so easy to code that ffmpeg's encoder undershoots to
//   5.5 Mbit/s (2 763 135 bytes per 4 s): kept as it is, since every other bench's figures are on it.
// - "broadcast": 5 Mbit/s with MP@ML's 1.8 Mbit VBV, a typical DVB-T/DVB-S SD channel, on testsrc2 with
//   temporal noise (camera-like grain), so the encoder spends its whole rate as on real footage: 5.05 Mbit/s.
const SPECS = {
  bench: {
    stem: "bench",
    seed: "seed.m2v",
    source: "testsrc2=size=720x576:rate=25",
    bitrate: "15M",
    bufsize: "4M",
  },
  broadcast: {
    stem: "broadcast",
    seed: "broadcast-seed.m2v",
    source: "testsrc2=size=720x576:rate=25,noise=alls=12:allf=t",
    bitrate: "5M",
    bufsize: "1835k",
  },
} satisfies Record<string, RecordingSpec>;

function seedArgs(spec: RecordingSpec): string[] {
  return mpeg2RecordingArgs({
    source: spec.source,
    format: "mpeg2video",
    seconds: 4,
    bitrate: spec.bitrate,
    bufsize: spec.bufsize,
    overwrite: true,
  });
}

async function recordings(outDir: string, spec: RecordingSpec): Promise<BenchRecordings> {
  await mkdir(outDir, { recursive: true });
  const seed = join(outDir, spec.seed);
  const es = join(outDir, `${spec.stem}.m2v`);
  const ts = join(outDir, `${spec.stem}.ts`);
  const args = seedArgs(spec);
  const recipe = [
    `ffmpeg ${args.join(" ")} ${spec.seed}`,
    `${spec.stem}.m2v = ${spec.seed} repeated until >= 256 MiB (byte concatenation; each copy starts with a sequence header)`,
    `ffmpeg -v error -y -fflags +genpts -r 25 -stream_loop N -i ${spec.seed} -f lavfi -i sine=frequency=440:sample_rate=48000 -map 0:v -map 1:a -c:v copy -c:a mp2 -b:a 192k -shortest -f mpegts ${spec.stem}.ts`,
  ];
  const bigEnough = (p: string) => existsSync(p) && statSync(p).size >= MIN_BENCH_BYTES;
  if (bigEnough(es) && bigEnough(ts)) return { es, ts, recipe };

  await $`ffmpeg ${args} ${seed}`.quiet();
  const seedBytes = new Uint8Array(await Bun.file(seed).arrayBuffer());
  const copies = Math.ceil(MIN_BENCH_BYTES / seedBytes.length);
  await rm(es, { force: true });
  {
    await using out = await open(es, "w");
    for (let i = 0; i < copies; i++) await out.write(seedBytes);
  }
  // A raw .m2v has no timestamps: genpts at the stream's 25 Hz gives the muxer some.
  // The TS is remuxed by ffmpeg from the looped ES (not concatenated), so its continuity counters and
  // timestamps are those of one real stream, with an audio track interleaved.
  const loops = copies; // -stream_loop N plays the input N+1 times; the audio track adds to the size
  await $`ffmpeg -v error -y -fflags +genpts -r 25 -stream_loop ${loops} -i ${seed} -f lavfi -i sine=frequency=440:sample_rate=48000 -map 0:v -map 1:a -c:v copy -c:a mp2 -b:a 192k -shortest -f mpegts ${ts}`.quiet();
  if (!bigEnough(ts)) throw new Error(`bench: ${ts} came out below 256 MiB`);
  return { es, ts, recipe };
}

/** The 15 Mbit/s recordings (bench.m2v, bench.ts) in outDir, made only when missing or too small. */
export async function benchRecordings(outDir: string): Promise<BenchRecordings> {
  return recordings(outDir, SPECS.bench);
}

/** The typical-broadcast 5 Mbit/s recordings (broadcast.m2v, broadcast.ts) in outDir, made likewise. */
export async function broadcastRecordings(outDir: string): Promise<BenchRecordings> {
  return recordings(outDir, SPECS.broadcast);
}
