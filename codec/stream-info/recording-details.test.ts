/** @module RecordingIndexer details: the same for any chunking, and never a throw on damaged input (corruption test). */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { indexInChunks } from "../../test/support/index-in-chunks.ts";
import { prng } from "../../test/support/synthetic-container-streams.ts";

const dir = join(import.meta.dir, "../../testdata/containers");
const FIXTURES = [
  "ps-mpeg2.mpg",
  "ps-dvd.vob",
  "ps-mpeg1.mpg",
  "ts-mpeg2.ts",
  "m2ts-mpeg2.m2ts",
  "ts-h264.ts",
  "mp4-h264.mp4",
];

const index = (file: Uint8Array, nextSize: () => number) =>
  indexInChunks(file, nextSize, { details: true, pictureDetails: true });

describe("RecordingIndexer details", () => {
  for (const name of FIXTURES) {
    test(`RecordingIndexer gives the same details for any chunking of ${name}`, () => {
      const file = new Uint8Array(readFileSync(join(dir, name)));
      const whole = index(file, () => file.length).details;
      const rand = prng(name.length * 7919);
      for (const size of [188, 1000, 4096, 65536]) {
        expect(index(file, () => size).details).toEqual(whole!);
        expect(index(file, () => 1 + Math.floor(rand() * 9000)).details).toEqual(whole!);
      }
      expect(whole?.pos.length).toBeGreaterThan(0);
    });
  }

  test("RecordingIndexer details survive mutated and truncated recordings, one entry per picture", () => {
    const rand = prng(19);
    for (const name of FIXTURES.slice(0, 6)) {
      const original = new Uint8Array(readFileSync(join(dir, name)));
      for (let round = 0; round < 60; round++) {
        const file = original.slice(0, Math.floor(original.length * (0.2 + 0.8 * rand())));
        for (let k = 0; k < 1 + Math.floor(rand() * 40); k++)
          file[Math.floor(rand() * file.length)] = Math.floor(rand() * 256);
        const r = index(file, () => 1 + Math.floor(rand() * 20000));
        const d = r.details!;
        expect([d.pos.length, d.pts.length, d.dts.length]).toEqual([
          r.pictures.length,
          r.pictures.length,
          r.pictures.length,
        ]);
        for (const t of d.pts)
          if (t !== null) expect(Number.isInteger(t) && t >= 0 && t < 2 ** 33).toBe(true);
      }
    }
  });
});
