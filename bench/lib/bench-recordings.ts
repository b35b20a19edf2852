/** @module Makes the bench's large recordings once: an ffmpeg-encoded MPEG-2 seed, looped to at least 256 MiB as ES and TS. */
import { existsSync, statSync } from "node:fs";
import { mkdir, open, rm } from "node:fs/promises";
import { join } from "node:path";
import { $ } from "bun";

/** The issue asks for at least 256 MiB per recording. */
export const MIN_BENCH_BYTES = 256 * 1024 * 1024;

export interface BenchRecordings {
  es: string;
  ts: string;
  /** The ffmpeg commands that made them, for docs/benchmarks.md. */
  recipe: string[];
}

// A 4 s broadcast-like seed: SD MPEG-2 at 15 Mb/s, GOP 12 with B-pictures, interlaced field coding off so it
// matches a typical recorder stream; mp2 audio in the TS so the demuxer skips real audio packets.
const SEED_ES = [
  "-v",
  "error",
  "-y",
  "-f",
  "lavfi",
  "-i",
  "testsrc2=size=720x576:rate=25",
  "-t",
  "4",
  "-c:v",
  "mpeg2video",
  "-g",
  "12",
  "-bf",
  "2",
  "-b:v",
  "15M",
  "-maxrate",
  "15M",
  "-bufsize",
  "4M",
  "-f",
  "mpeg2video",
];

/** Returns the recordings in outDir, making them only when missing or too small. */
export async function benchRecordings(outDir: string): Promise<BenchRecordings> {
  await mkdir(outDir, { recursive: true });
  const seed = join(outDir, "seed.m2v");
  const es = join(outDir, "bench.m2v");
  const ts = join(outDir, "bench.ts");
  const recipe = [
    `ffmpeg ${SEED_ES.join(" ")} seed.m2v`,
    "bench.m2v = seed.m2v repeated until >= 256 MiB (byte concatenation; each copy starts with a sequence header)",
    "ffmpeg -v error -y -fflags +genpts -r 25 -stream_loop N -i seed.m2v -f lavfi -i sine=frequency=440:sample_rate=48000 -map 0:v -map 1:a -c:v copy -c:a mp2 -b:a 192k -shortest -f mpegts bench.ts",
  ];
  const bigEnough = (p: string) => existsSync(p) && statSync(p).size >= MIN_BENCH_BYTES;
  if (bigEnough(es) && bigEnough(ts)) return { es, ts, recipe };

  await $`ffmpeg ${SEED_ES} ${seed}`.quiet();
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
