import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { RecordingIndex } from "../recording-index.ts";
import { MAX_SUPPLY_BYTES, Mp4Indexer, SAMPLE_PREFIX_BYTES } from "./mp4-indexer.ts";

const dir = join(import.meta.dir, "../../testdata/containers");
const fixture = (name: string) => new Uint8Array(readFileSync(join(dir, name)));
const ffprobeTypes = (name: string): string[] =>
  JSON.parse(readFileSync(join(dir, `${name}.types.json`), "utf8")).decodeOrderTypes;

function index(
  file: Uint8Array,
  chunk = file.length,
  supply = true,
): { result: RecordingIndex; asked: number; ranges: { offset: number; length: number }[] } {
  const m = new Mp4Indexer();
  for (let i = 0; i < file.length; i += chunk) m.push(file.subarray(i, i + chunk));
  const ranges = m.finish();
  for (const r of ranges) {
    expect(r.offset + r.length).toBeLessThanOrEqual(file.length);
    expect(r.length).toBeLessThanOrEqual(MAX_SUPPLY_BYTES);
    if (supply) m.supply(r.offset, file.subarray(r.offset, r.offset + r.length));
  }
  return { result: m.result(), asked: ranges.length, ranges };
}

describe("Mp4Indexer", () => {
  for (const [name, asks] of [
    ["mp4-h264.mp4", 36],
    ["mp4-h264-faststart.mp4", 0],
  ] as const) {
    test(`Mp4Indexer matches ffprobe's picture types on ${name}, asking afterwards for the prefixes of ${asks} samples`, () => {
      const file = fixture(name);
      for (const chunk of [file.length, 4096, 333, 7]) {
        const { result, asked, ranges } = index(file, chunk);
        expect(asked > 0).toBe(asks > 0);
        // The asked ranges hold every sample's prefix (merged where they touch).
        const inside = (p: { offset: number; length: number }) =>
          ranges.some(
            (r) =>
              p.offset >= r.offset &&
              p.offset + Math.min(p.length, SAMPLE_PREFIX_BYTES) <= r.offset + r.length,
          );
        expect(result.pictures.filter(inside).length).toBe(asks);
        expect(result.pictures.map((p): string => p.type)).toEqual(ffprobeTypes(name));
        expect(result).toMatchObject({
          container: "mp4",
          format: "h264",
          width: 176,
          height: 144,
          errors: [],
        });
      }
    });
  }

  for (const name of ["mp4-h264.mp4", "mp4-h264-faststart.mp4"]) {
    test(`Mp4Indexer timeStamps() gives ffprobe's packet pts/dts of ${name}, edit list applied`, () => {
      const m = new Mp4Indexer();
      m.push(fixture(name));
      m.finish();
      const want = JSON.parse(readFileSync(join(dir, `${name}.streams.json`), "utf8")) as {
        streams: { codec_type: string; time_base: string }[];
        packets: { pts: number; dts: number }[];
      };
      const { timeScale, pts, dts } = m.timeStamps();
      expect(`1/${timeScale}`).toBe(want.streams.find((s) => s.codec_type === "video")!.time_base);
      expect(pts).toEqual(want.packets.map((p) => p.pts));
      expect(dts).toEqual(want.packets.map((p) => p.dts));
      expect(pts.length).toBe(m.result().pictures.length);
    });
  }

  test("Mp4Indexer timeStamps() is empty with no clock before a moov", () => {
    const m = new Mp4Indexer();
    m.push(fixture("mp4-h264.mp4").subarray(0, 1000));
    m.finish();
    expect(m.timeStamps()).toEqual({ timeScale: null, pts: [], dts: [] });
  });

  test("Mp4Indexer protects exactly the sync samples, which are the I-pictures here", () => {
    const { result } = index(fixture("mp4-h264.mp4"));
    const iPictures = result.pictures.filter((p) => p.type === "I");
    expect(result.gops.map((g) => g.offset)).toEqual(iPictures.map((p) => p.offset));
    expect(result.protectedRanges).toEqual(iPictures.map((p) => ({ offset: p.offset, length: p.length })));
    expect(result.gops.every((g) => g.closed)).toBe(true);
    expect(result.pictures.map((p) => p.gop).slice(0, 3)).toEqual([0, 0, 0]);
    // Composition order: the first P is shown after the two B-pictures that follow it in the file.
    expect(result.pictures.slice(0, 4).map((p) => p.temporalReference)).toEqual([0, 3, 1, 2]);
  });

  test("Mp4Indexer falls back to the sync flag when prefixes are not supplied, and says so", () => {
    const { result } = index(fixture("mp4-h264.mp4"), 1000, false);
    expect(result.errors.map((e) => e.code)).toEqual(["ERR_MP4_SLICE_TYPE"]);
    expect(result.counts).toMatchObject({ pic: 36, I: 3, P: 33, B: 0 });
  });

  test("Mp4Indexer reports a file cut before its moov", () => {
    const file = fixture("mp4-h264.mp4");
    const { result, asked } = index(file.subarray(0, 20000), 999);
    expect(asked).toBe(0);
    expect(result.pictures).toEqual([]);
    expect(result.errors.map((e) => e.code)).toEqual(["ERR_MP4_NO_MOOV"]);
  });

  test("Mp4Indexer keeps the samples of a faststart file cut inside mdat", () => {
    const file = fixture("mp4-h264-faststart.mp4");
    const { result } = index(file.subarray(0, 20000), 512);
    expect(result.pictures.length).toBe(36);
    const known = result.pictures.filter((p) => p.offset + Math.min(p.length, SAMPLE_PREFIX_BYTES) <= 20000);
    expect(known.map((p): string => p.type)).toEqual(
      ffprobeTypes("mp4-h264-faststart.mp4").slice(0, known.length),
    );
    expect(result.errors.map((e) => e.code)).toEqual(["ERR_MP4_TRUNCATED", "ERR_MP4_SLICE_TYPE"]);
    const last = result.protectedRanges[result.protectedRanges.length - 1]!;
    expect(last.offset + last.length).toBeLessThanOrEqual(20000);
  });

  test("Mp4Indexer stops at a box whose size is below its header", () => {
    const file = fixture("mp4-h264.mp4").slice();
    file.set([0, 0, 0, 3], 32); // the free box after ftyp
    const { result } = index(file);
    expect(result.errors.map((e) => e.code)).toEqual(["ERR_MP4_BOX_SIZE", "ERR_MP4_NO_MOOV"]);
  });

  test("Mp4Indexer reports a moov that mp4box cannot read", () => {
    const file = fixture("mp4-h264.mp4").slice();
    const moov = 39014;
    expect(String.fromCharCode(...file.subarray(moov + 4, moov + 8))).toBe("moov");
    file.fill(0xee, moov + 8, moov + 400);
    const { result } = index(file);
    expect(result.errors.map((e) => e.code)).toEqual(["ERR_MP4_MOOV"]);
    expect(result.errors[0]!.offset).toBe(moov);
    expect(result.pictures).toEqual([]);
  });
});
