/** @module Tests for VideoIndexer on the ffmpeg fixtures (against ffprobe's stored view) and chunking. */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import {
  ES_FIXTURE_DIR as ES_DIR,
  esFixtureNames,
  loadEsFixture as loadFixture,
} from "../../test/support/es-fixtures.ts";
import { compareWithFfprobe, type FfprobeFrame } from "../../test/support/ffprobe-comparison.ts";
import { SeededRandom } from "../../test/support/seeded-random.ts";
import { indexVideoElementaryStream } from "./index-video-elementary-stream.ts";
import { VideoIndexer } from "./video-indexer.ts";

const fixtures = esFixtureNames();

interface Expect {
  format: "mpeg1" | "mpeg2";
  pic: number;
  structures: string;
  gopsClosed: string;
}
const EXPECTED: Record<string, Expect> = {
  "mpeg2-gop12.m2v": { format: "mpeg2", pic: 36, structures: "frame", gopsClosed: "Cooo" },
  "mpeg2-gop15.m2v": { format: "mpeg2", pic: 45, structures: "frame", gopsClosed: "Cooo" },
  "mpeg2-intra.m2v": { format: "mpeg2", pic: 16, structures: "frame", gopsClosed: "C".repeat(16) },
  "mpeg2-no-b.m2v": { format: "mpeg2", pic: 36, structures: "frame", gopsClosed: "Coo" },
  "mpeg2-closed-gop.m2v": { format: "mpeg2", pic: 36, structures: "frame", gopsClosed: "CCCC" },
  "mpeg2-interlaced-frames.m2v": { format: "mpeg2", pic: 24, structures: "frame", gopsClosed: "Coo" },
  "mpeg2-fields.m2v": { format: "mpeg2", pic: 24, structures: "top,bottom", gopsClosed: "CC" },
  "mpeg1-gop15.m1v": { format: "mpeg1", pic: 45, structures: "frame", gopsClosed: "Cooo" },
};

/** Everything the index reports, for equality across chunkings. */
function snapshot(ix: VideoIndexer) {
  const { pictures, gops, errors, counts, frames, format, width, height, bytesSeen } = ix;
  return { pictures, gops, errors, counts, frames, format, width, height, bytesSeen };
}

describe("VideoIndexer on the ffmpeg fixtures", () => {
  test("every fixture has an expectation and ffprobe's stored view", () => {
    expect(fixtures.sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  for (const name of fixtures) {
    test(`indexVideoElementaryStream() matches ffprobe on ${name}`, async () => {
      const bytes = loadFixture(name);
      const ffprobe = (await Bun.file(join(ES_DIR, `${name}.ffprobe.json`)).json()) as {
        frames: FfprobeFrame[];
      };
      const ix = indexVideoElementaryStream(bytes);
      const want = EXPECTED[name]!;
      expect(ix.errors).toEqual([]);
      expect(compareWithFfprobe(ix, ffprobe.frames)).toEqual([]);
      expect(ix.format).toBe(want.format);
      expect([ix.width, ix.height]).toEqual([176, 144]);
      expect(ix.counts.pic).toBe(want.pic);
      expect(ix.pictures.length).toBe(want.pic);
      expect(ix.counts.I + ix.counts.P + ix.counts.B + ix.counts.D).toBe(want.pic);
      expect(ix.counts.gop).toBe(ix.gops.length);
      expect(ix.gops.map((g) => (g.closed ? "C" : "o")).join("")).toBe(want.gopsClosed);
      expect(ix.gops.every((g) => !g.brokenLink)).toBe(true);
      const structures = want.structures.split(",");
      ix.pictures.forEach((p, i) => {
        expect(p.serial).toBe(i);
        expect(p.structure).toBe(structures[i % structures.length] as never);
        expect(p.gop).toBeGreaterThanOrEqual(0);
        expect(ix.gops[p.gop]!.offset).toBeLessThan(p.offset);
      });
      expect(ix.settledOffset).toBe(bytes.length);
    });

    test(`VideoIndexer leaves only sequence/GOP headers outside pictures in ${name}`, () => {
      const bytes = loadFixture(name);
      const ix = indexVideoElementaryStream(bytes);
      let at = 0;
      for (const p of [...ix.pictures, { offset: bytes.length, length: 0 }]) {
        if (p.offset > at) expect([0xb3, 0xb8, 0xb7]).toContain(bytes[at + 3]!);
        expect(p.offset).toBeGreaterThanOrEqual(at);
        at = p.offset + p.length;
      }
      expect(at).toBe(bytes.length);
      for (const p of ix.pictures)
        expect(Array.from(bytes.subarray(p.offset, p.offset + 4))).toEqual([0, 0, 1, 0]);
    });

    test(`VideoIndexer gives the same index for any chunking of ${name}, with a sound settledOffset`, () => {
      const bytes = loadFixture(name);
      const whole = indexVideoElementaryStream(bytes);
      const rnd = new SeededRandom(name.length * 7919);
      for (let round = 0; round < 3; round++) {
        const ix = new VideoIndexer();
        let settled = 0;
        for (const chunk of rnd.chunks(bytes)) {
          ix.push(chunk);
          expect(ix.settledOffset).toBeGreaterThanOrEqual(settled);
          settled = ix.settledOffset;
          expect(settled).toBeLessThanOrEqual(ix.bytesSeen);
          // Below settledOffset the final index already holds: same pictures, nothing left to add there.
          const final = whole.pictures.filter((p) => p.offset < settled);
          expect(ix.pictures.slice(0, final.length)).toEqual(final);
          expect(ix.pictures.length).toBe(final.length);
        }
        ix.end();
        expect(snapshot(ix)).toEqual(snapshot(whole));
      }
    });
  }

  test("VideoIndexer pairs the fields of mpeg2-fields.m2v into 12 frames", () => {
    const ix = indexVideoElementaryStream(loadFixture("mpeg2-fields.m2v"));
    expect(ix.frames.length).toBe(12);
    expect(ix.frames.every((f, i) => f.first === 2 * i && f.second === 2 * i + 1)).toBe(true);
  });
});
