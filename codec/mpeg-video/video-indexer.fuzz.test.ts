/**
 * @module Fuzz test for VideoIndexer: thousands of mutated, truncated and garbage streams (seeded, so a failure
 * reproduces), fed in random chunks. Checks that nothing throws, every run ends, and the index is well formed.
 */
import { describe, expect, test } from "bun:test";
import { esFixtureNames, loadEsFixture } from "../../test/support/es-fixtures.ts";
import { ES_MUTATIONS } from "../../test/support/es-mutations.ts";
import { SeededRandom } from "../../test/support/seeded-random.ts";
import { syntheticStream } from "../../test/support/synthetic-video-stream.ts";
import { indexVideoElementaryStream } from "./index-video-elementary-stream.ts";
import { VideoIndexer } from "./video-indexer.ts";

/** Every stable code the video sources spell out: an error may carry no code that is not written in them. */
const SOURCE_CODES = new Set<string>();
for (const f of new Bun.Glob("*.ts").scanSync(import.meta.dir)) {
  if (f.endsWith(".test.ts")) continue;
  for (const m of (await Bun.file(`${import.meta.dir}/${f}`).text()).matchAll(/"(ERR_[A-Z_]+)"/g))
    SOURCE_CODES.add(m[1] as string);
}

const ROUNDS = 3000;

const names = Object.keys(ES_MUTATIONS);

function checkIndex(ix: VideoIndexer, label: string): void {
  const total = ix.bytesSeen;
  expect(ix.settledOffset, label).toBe(total);
  let end = 0;
  ix.pictures.forEach((p, i) => {
    expect(p.serial, label).toBe(i);
    expect(p.offset, label).toBeGreaterThanOrEqual(end);
    expect(p.length, label).toBeGreaterThanOrEqual(4);
    expect(p.offset + p.length, label).toBeLessThanOrEqual(total);
    expect(p.gop, label).toBeLessThan(ix.gops.length);
    expect(p.gop, label).toBeGreaterThanOrEqual(-1);
    end = p.offset + p.length;
  });
  for (let i = 1; i < ix.gops.length; i++) expect(ix.gops[i]!.offset).toBeGreaterThan(ix.gops[i - 1]!.offset);
  for (const e of ix.errors) {
    expect(e.offset, label).toBeGreaterThanOrEqual(0);
    expect(e.offset, label).toBeLessThanOrEqual(total);
    expect([...SOURCE_CODES], label).toContain(e.code);
  }
  const c = ix.counts;
  expect(c.pic, label).toBe(ix.pictures.length);
  expect(c.I + c.P + c.B + c.D, label).toBe(c.pic);
  expect(c.gop, label).toBe(ix.gops.length);
  const inFrames = ix.frames.reduce((n, f) => n + (f.second >= 0 ? 2 : 1), 0);
  expect(inFrames, label).toBe(ix.pictures.length);
}

describe("VideoIndexer fuzz", () => {
  test(`VideoIndexer survives ${ROUNDS} mutated, truncated and garbage streams in random chunks`, () => {
    const rnd = new SeededRandom(20261122);
    const seeds = [
      ...esFixtureNames().map(loadEsFixture),
      syntheticStream([
        { pictures: [{ type: "I", structure: "top" }, { type: "P", structure: "bottom" }, { type: "B" }] },
      ]),
      syntheticStream([{ pictures: [{ type: "I" }, { type: "D" }] }], 1),
    ];
    const seen = new Set<string>();
    for (let round = 0; round < ROUNDS; round++) {
      let bytes = seeds[rnd.below(seeds.length)]!;
      const applied: string[] = [];
      for (let m = 0; m < 1 + rnd.below(3); m++) {
        const name = names[rnd.below(names.length)]!;
        applied.push(name);
        bytes = ES_MUTATIONS[name]!(bytes, rnd);
      }
      const label = `round ${round}: ${applied.join("+")}`;
      const whole = indexVideoElementaryStream(bytes);
      const ix = new VideoIndexer();
      let settled = 0;
      for (const chunk of rnd.chunks(bytes)) {
        ix.push(chunk);
        expect(ix.settledOffset, label).toBeGreaterThanOrEqual(settled);
        settled = ix.settledOffset;
        // Below settledOffset nothing may change any more: the final index has no other picture there.
        const n = ix.pictures.length;
        expect(whole.pictures.filter((p) => p.offset < settled).length, label).toBe(n);
        if (n > 0) expect(ix.pictures[n - 1], label).toEqual(whole.pictures[n - 1]!);
      }
      ix.end();
      checkIndex(ix, label);
      // Chunking never changes the answer, damaged input included.
      expect(ix.pictures, label).toEqual(whole.pictures);
      expect(ix.errors, label).toEqual(whole.errors);
      for (const e of ix.errors) seen.add(e.code);
    }
    // The mutations must reach the error paths, or this test proves little.
    for (const code of [
      "ERR_PICTURE_TYPE",
      "ERR_PICTURE_TRUNCATED",
      "ERR_GOP_MARKER",
      "ERR_ES_LEADING_BYTES",
    ]) {
      expect(seen).toContain(code);
    }
  });
});
