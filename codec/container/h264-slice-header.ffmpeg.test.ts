/**
 * @module Live comparison with ffmpeg's trace_headers: where parseH264SliceHeader() says slice data begins must
 * be where ffmpeg's own slice header reader stops, on CABAC and CAVLC streams (with B slices, weighted
 * prediction and several slices a picture) made on the spot.
 */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { x264Testsrc } from "../../test/support/x264-testsrc.ts";
import { H264EsIndexer } from "./h264-es-indexer.ts";

const FFMPEG = Bun.which("ffmpeg");
const TESTDATA = join(import.meta.dir, "../../testdata/containers");
if (!FFMPEG) console.warn("\n*** SKIPPING the live slice header comparison: ffmpeg is not installed ***\n");

/** End bit (in RBSP bits from the NAL header's first bit) of every slice header ffmpeg traced, in order. */
function ffmpegSliceHeaderEnds(file: string): number[] {
  const r = Bun.spawnSync([
    FFMPEG!,
    "-loglevel",
    "trace",
    "-i",
    file,
    "-map",
    "0:v",
    "-c",
    "copy",
    "-bsf:v",
    "trace_headers",
    "-f",
    "null",
    "-",
  ]);
  const ends: number[] = [];
  let last = -1;
  let inHeader = false;
  for (const line of r.stderr.toString().split("\n")) {
    const body = line.replace(/^\[trace_headers @ [^\]]+\] /, "");
    if (body === line) continue;
    if (body.startsWith("Slice Header")) {
      if (inHeader) ends.push(last);
      inHeader = true;
      continue;
    }
    const m = /^(\d+)\s+\S+\s+([01]+) = /.exec(body);
    if (m && inHeader) last = Number(m[1]) + m[2]!.length;
    else if (inHeader) {
      ends.push(last);
      inHeader = false;
    }
  }
  if (inHeader) ends.push(last);
  return ends;
}

/** Our data offset of every slice, as RBSP bits from the NAL header byte (emulation prevention bytes removed). */
function ourSliceDataBits(es: Uint8Array): number[] {
  const out: number[] = [];
  const indexer = new H264EsIndexer({
    onSlice: (nalStart, dataStart) => {
      let p = nalStart;
      while (es[p] !== 1) p++;
      p++;
      let epb = 0;
      for (let i = p + 2; i < dataStart; i++) if (es[i] === 3 && es[i - 1] === 0 && es[i - 2] === 0) epb++;
      out.push(dataStart < 0 ? -1 : (dataStart - p - epb) * 8);
    },
  });
  indexer.push(es);
  indexer.end();
  return out;
}

const STREAMS: Array<[string, string[]]> = [
  ["CABAC, High profile (testdata/containers/ts-h264.ts)", []],
  [
    "CAVLC with B slices, weighted prediction, 4 slices a picture",
    ["-coder", "0", "-bf", "2", "-weightp", "2", "-slices", "4"],
  ],
  [
    "CABAC with weighted prediction, 8 references, 3 slices",
    ["-bf", "3", "-weightp", "2", "-refs", "8", "-slices", "3"],
  ],
  ["Baseline, 3 slices", ["-profile:v", "baseline", "-slices", "3"]],
];

describe.skipIf(!FFMPEG)("parseH264SliceHeader() against ffmpeg's trace_headers", () => {
  for (const [name, x264] of STREAMS) {
    test(`parseH264SliceHeader() ends each slice header where ffmpeg does: ${name}`, () => {
      const dir = mkdtempSync(join(tmpdir(), "pvrlink-slice-"));
      try {
        let source = join(TESTDATA, "ts-h264.ts");
        if (x264.length > 0) {
          source = join(dir, "made.ts");
          const made = x264Testsrc(FFMPEG!, 2, ["-g", "12", ...x264, "-f", "mpegts", source]);
          expect(made.exitCode).toBe(0);
        }
        const es = join(dir, "video.h264");
        const demux = Bun.spawnSync([
          FFMPEG!,
          "-v",
          "error",
          "-i",
          source,
          "-map",
          "0:v",
          "-c",
          "copy",
          "-f",
          "h264",
          es,
        ]);
        expect(demux.exitCode).toBe(0);
        const theirs = ffmpegSliceHeaderEnds(es).map((bits) => Math.ceil(bits / 8) * 8);
        const ours = ourSliceDataBits(new Uint8Array(readFileSync(es)));
        expect(theirs.length).toBeGreaterThan(10);
        expect(ours).toEqual(theirs);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
