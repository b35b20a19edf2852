/** @module `bun bench/leak-h264.ts`: what an eavesdropper on the direct channel decodes of H.264 (CABAC and CAVLC) in seed and cbcs pattern mode, by ffmpeg. */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { $ } from "bun";
import { generateSessionKeyBytes } from "../crypto/aead.ts";
import { makeCbcsTransform } from "../crypto/cbcs-cipher.ts";
import { randomBytes } from "../crypto/random-token.ts";
import { CONTENT, FPS, HEIGHT, SECONDS, WIDTH } from "./leak.ts";
import { h264EsLayout, h264LeakView } from "./lib/h264-leak-view.ts";
import { countFrames, mean, scoreFrames, visibleFrames } from "./lib/leak-metrics.ts";

const OUT = join(import.meta.dir, "out", "leak-h264");

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
    "-f",
    "h264",
  ];
}

async function encode(source: string, entropy: "cabac" | "cavlc", path: string): Promise<Uint8Array> {
  await $`ffmpeg -v error -y -f lavfi -i ${source} -t ${SECONDS} ${x264(entropy)} ${path}`.quiet();
  return new Uint8Array(await Bun.file(path).arrayBuffer());
}

async function main(): Promise<void> {
  await mkdir(OUT, { recursive: true });
  console.log(
    `leak-h264: ${CONTENT.length} recordings, ${WIDTH}x${HEIGHT}, ${SECONDS} s, H.264 GOP 12 (2 B), views in ${OUT}\n`,
  );
  console.log("| content | entropy | mode | encrypted share | frames decoded | SSIM-Y | visible (ffmpeg) |");
  console.log("|---|---|---|---|---|---|---|");
  for (const c of CONTENT) {
    for (const entropy of ["cabac", "cavlc"] as const) {
      const src = join(OUT, `${c.name}.${entropy}.h264`);
      const es = await encode(c.source, entropy, src);
      const grey = await encode(
        `color=c=0x808080:size=${WIDTH}x${HEIGHT}:rate=${FPS}`,
        entropy,
        join(OUT, `grey.${entropy}.h264`),
      );
      const greyLayout = h264EsLayout(grey);
      const first = greyLayout.pictures[0]!;
      const greyAu = grey.slice(first.offset, first.offset + first.length);
      const layout = h264EsLayout(es);
      const frames = await countFrames(src);
      const greyScores = await scoreFrames(
        src,
        [
          "-f",
          "lavfi",
          "-i",
          `color=c=0x808080:size=${WIDTH}x${HEIGHT}:rate=${FPS},trim=end_frame=${frames}`,
        ],
        FPS,
      );
      const salt = randomBytes(16);
      const cbcs = await makeCbcsTransform(generateSessionKeyBytes(), salt, "encrypt");
      for (const mode of ["seed", "pattern cbcs 1:9"] as const) {
        const built = h264LeakView(es, layout, { greyAu, ...(mode === "seed" ? {} : { cbcs }) });
        const viewPath = join(OUT, `${c.name}.${entropy}.${mode.replaceAll(/[ :]/g, "-")}.h264`);
        await Bun.write(viewPath, built.view);
        const decoded = await countFrames(viewPath);
        const scores = await scoreFrames(src, ["-i", viewPath], FPS);
        const share = layout.slices.length === 0 ? 0 : mode === "seed" ? 0 : encryptedShare(es, layout);
        console.log(
          `| ${c.name} | ${entropy} | ${mode} | ${(share * 100).toFixed(1)} % | ${decoded}/${frames} | ${mean(scores.map((s) => s.ssim)).toFixed(3)} (grey ${mean(greyScores.map((s) => s.ssim)).toFixed(3)}) | ${visibleFrames(scores, greyScores)}/${scores.length} |`,
        );
      }
    }
  }
}

/** Bytes the cbcs mode encrypts in the P/B slices, as a share of the stream. */
function encryptedShare(es: Uint8Array, layout: ReturnType<typeof h264EsLayout>): number {
  let bytes = 0;
  let s = 0;
  for (const p of layout.pictures) {
    const end = p.offset + p.length;
    for (; s < layout.slices.length && layout.slices[s]!.nalStart < end; s++) {
      const sl = layout.slices[s]!;
      if (p.type === "I" || sl.dataStart < 0) continue;
      for (let at = sl.dataStart; at + 16 <= sl.nalEnd; at += 160) bytes += 16;
    }
  }
  return bytes / es.length;
}

if (import.meta.main) await main();
