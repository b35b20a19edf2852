/** @module Tests of the pattern planner on every fixture: ranges only in P/B slice data of the direct part, chunking invariance, damage. */
import { describe, expect, test } from "bun:test";
import { patternFixtures } from "../../test/support/pattern-fixtures.ts";
import { SeededRandom } from "../../test/support/seeded-random.ts";
import type { DemuxSink } from "../container/demux-sink.ts";
import { indexRecording } from "../container/index-recording.ts";
import { PsDemuxer } from "../container/ps-demuxer.ts";
import { RecordingIndexer } from "../container/recording-indexer.ts";
import { TsDemuxer } from "../container/ts-demuxer.ts";
import { M2TS_PACKET_LENGTH, TS_PACKET_LENGTH } from "../container/ts-packet.ts";
import type { ByteRange, RecordingIndex } from "../recording-index.ts";
import { checkPatternRanges, patternHeaderLength } from "./pattern-header.ts";
import { type PatternPlan, PatternPlanner, planPattern } from "./pattern-planner.ts";
import { blockRule, DEFAULT_PATTERN_SCHEME, type PatternScheme, ruleBytes } from "./pattern-scheme.ts";

const SCHEMES: PatternScheme[] = [
  DEFAULT_PATTERN_SCHEME,
  { kind: "block", crypt: 1, skip: 9 },
  { kind: "full" },
  { kind: "slice-start", bytes: 64 },
];

/** Direct-body offset → file offset, by the protected ranges. */
function toFile(direct: number, prot: readonly ByteRange[]): number {
  let file = direct;
  for (const r of prot) {
    if (r.offset <= file) file += r.length;
    else break;
  }
  return file;
}

/**
 * For each file byte that carries video ES, its ES offset (an independent demux of the same file), so a test
 * can say which picture a pattern byte belongs to. -1 for bytes that carry no video.
 */
function esOffsets(bytes: Uint8Array, index: RecordingIndex): Float64Array {
  const map = new Float64Array(bytes.length).fill(-1);
  if (index.container === "es") {
    for (let i = 0; i < bytes.length; i++) map[i] = i;
    return map;
  }
  let es = 0;
  const sink: DemuxSink = {
    video: (_bytes, start, end, fileOffset) => {
      for (let i = 0; i < end - start; i++) map[fileOffset + i] = es + i;
      es += end - start;
    },
    error: () => {},
    format: () => {},
  };
  const d =
    index.container === "ps"
      ? new PsDemuxer(sink)
      : new TsDemuxer(sink, index.container === "m2ts" ? M2TS_PACKET_LENGTH : TS_PACKET_LENGTH);
  d.push(bytes);
  d.end();
  return map;
}

/** What a plan encrypts, recounted from its table: every range byte, or slice-block's rule inside each range. */
function encryptedIn(plan: PatternPlan): number {
  const rule = blockRule(plan.scheme);
  let n = 0;
  plan.ranges.forEach((_, length) => {
    n += rule === undefined ? length : ruleBytes(rule, length);
  });
  return n;
}

describe("planPattern() on every fixture", () => {
  for (const [name, bytes] of patternFixtures()) {
    const index = indexRecording(bytes);
    const mpeg = index.format === "mpeg1" || index.format === "mpeg2";

    test(`planPattern() puts ranges only in P/B slice data outside protected ranges: ${name}`, () => {
      const plan = planPattern(bytes, index, DEFAULT_PATTERN_SCHEME);
      expect(plan.supported).toBe(mpeg);
      const protectedBytes = index.protectedRanges.reduce((a, r) => a + r.length, 0);
      const bodyLength = bytes.length - protectedBytes;
      expect(checkPatternRanges(plan.ranges, bodyLength)).toBeGreaterThanOrEqual(plan.encryptedBytes);
      expect(encryptedIn(plan)).toBe(plan.encryptedBytes);
      if (!mpeg) {
        expect(plan.ranges.toArray()).toEqual([]);
        return;
      }
      const hasPB = index.pictures.some((p) => p.type !== "I");
      expect(plan.ranges.count > 0).toBe(hasPB);
      const es = esOffsets(bytes, index);
      const pics = index.pictures;
      for (const r of plan.ranges.toArray()) {
        for (let d = r.offset; d < r.offset + r.length; d++) {
          const file = toFile(d, index.protectedRanges);
          for (const p of index.protectedRanges)
            expect(file >= p.offset && file < p.offset + p.length).toBe(false);
          const e = es[file]!;
          expect(e).toBeGreaterThanOrEqual(0);
          const pic = pics.findLast((p) => p.offset <= e)!;
          expect(pic.type === "P" || pic.type === "B" || pic.type === "D").toBe(true);
          expect(e).toBeLessThan(pic.offset + pic.length);
        }
      }
    });

    if (!mpeg) continue;
    test(`planPattern() leaves every start code in the clear: ${name}`, () => {
      const plan = planPattern(bytes, index, { kind: "full" });
      const es = esOffsets(bytes, index);
      // Rebuild the ES and mark which ES bytes the plan encrypts.
      const esLen = Math.max(...es) + 1;
      const video = new Uint8Array(esLen);
      const enc = new Uint8Array(esLen);
      for (let f = 0; f < bytes.length; f++) if (es[f]! >= 0) video[es[f]!] = bytes[f]!;
      for (const r of plan.ranges.toArray())
        for (let d = r.offset; d < r.offset + r.length; d++) enc[es[toFile(d, index.protectedRanges)]!] = 1;
      for (let i = 0; i + 3 < esLen; i++) {
        if (video[i] === 0 && video[i + 1] === 0 && video[i + 2] === 1) {
          expect(enc[i + 2]! | enc[i + 3]!).toBe(0);
        }
      }
    });

    test(`planPattern() slice-block 1:9 encrypts what the listed block 1:9 does, with fewer ranges, in every container: ${name}`, () => {
      const listed = planPattern(bytes, index, { kind: "block", crypt: 1, skip: 9 });
      const rule = planPattern(bytes, index, { kind: "slice-block", crypt: 1, skip: 9 });
      expect(rule.encryptedBytes).toBe(listed.encryptedBytes);
      expect(rule.ranges.count).toBeLessThanOrEqual(listed.ranges.count);
      if (index.container === "es" && listed.ranges.count > 0)
        expect(rule.ranges.count).toBeLessThan(listed.ranges.count);
    });

    test(`PatternPlanner.withIndexer() plans what a standalone planner plans, and its indexer keeps no picture list: ${name}`, () => {
      // The planner takes each picture as it is final (VideoObserver.picture): the index is the one a send's
      // pass 1 makes without a planner (retainPictures: false), ranges, counts and errors whole.
      const lean = new RecordingIndexer({ retainPictures: false });
      lean.push(bytes);
      const leanIndex = lean.result();
      for (const scheme of SCHEMES) {
        const alone = planPattern(bytes, index, scheme);
        for (const seed of [3, 4]) {
          const { indexer, planner } = PatternPlanner.withIndexer(scheme);
          for (const c of new SeededRandom(seed).chunks(bytes)) indexer.push(c);
          const shared = indexer.result();
          expect(shared).toEqual(leanIndex);
          if (index.format === "mpeg1" || index.format === "mpeg2") expect(shared.pictures).toEqual([]);
          expect(planner.finish(shared)).toEqual(alone);
        }
      }
    });

    test(`PatternPlanner gives the same plan for any chunking: ${name}`, () => {
      for (const scheme of SCHEMES) {
        const whole = planPattern(bytes, index, scheme);
        for (const seed of [1, 2]) {
          const planner = new PatternPlanner(scheme);
          for (const c of new SeededRandom(seed).chunks(bytes)) planner.push(c);
          expect(planner.finish(index)).toEqual(whole);
        }
      }
    });
  }
});

describe("PatternPlanner on bad input", () => {
  test("PatternPlanner keeps every piece past its first storage block (a recording looped 60 times)", () => {
    const one = patternFixtures().find(([n]) => n === "es/mpeg2-gop12.m2v")![1];
    const copies = 60;
    const looped = new Uint8Array(one.length * copies);
    for (let k = 0; k < copies; k++) looped.set(one, k * one.length);
    // block 1:1 leaves a gap after every encrypted block, so pieces never coalesce: > 65 536 of them.
    const scheme: PatternScheme = { kind: "block", crypt: 1, skip: 1 };
    const single = planPattern(one, indexRecording(one), scheme);
    const index = indexRecording(looped);
    const plan = planPattern(looped, index, scheme);
    const body = one.length - indexRecording(one).protectedRanges.reduce((a, r) => a + r.length, 0);
    const expected: ByteRange[] = [];
    for (let k = 0; k < copies; k++)
      for (const r of single.ranges.toArray())
        expected.push({ offset: r.offset + k * body, length: r.length });
    expect(expected.length).toBeGreaterThan(65_536);
    expect(plan.ranges.toArray()).toEqual(expected);
  });

  test("PatternPlanner.finish() refuses a plan whose header would outgrow the limit, with ERR_PATTERN_HEADER_LENGTH", () => {
    const bytes = patternFixtures().find(([name]) => name === "containers/ts-mpeg2.ts")![1];
    const index = indexRecording(bytes);
    const fits = new PatternPlanner({ kind: "slice-block", crypt: 1, skip: 9 });
    fits.push(bytes);
    const plan = fits.finish(index);
    expect(plan.ranges.count).toBeGreaterThan(10);
    const tight = new PatternPlanner(
      { kind: "slice-block", crypt: 1, skip: 9 },
      { maxHeaderBytes: patternHeaderLength(plan.ranges) - 1 },
    );
    tight.push(bytes);
    expect(() => tight.finish(index)).toThrow(expect.objectContaining({ code: "ERR_PATTERN_HEADER_LENGTH" }));
  });

  test("PatternPlanner.finish() rejects an index of another container", () => {
    const [, ts] = patternFixtures().find(([n]) => n.endsWith(".ts"))!;
    const [, es] = patternFixtures().find(([n]) => n.endsWith(".m2v"))!;
    const planner = new PatternPlanner(DEFAULT_PATTERN_SCHEME);
    planner.push(es);
    expect(() => planner.finish(indexRecording(ts))).toThrow(RangeError);
  });

  test("PatternPlanner.push() refuses bytes when the planner rides on a caller's indexer", () => {
    const { planner } = PatternPlanner.withIndexer(DEFAULT_PATTERN_SCHEME);
    expect(() => planner.push(new Uint8Array(10))).toThrow(TypeError);
  });

  test("RecordingIndexer reports every start code to its observer, slices included, in ES order", () => {
    const [, es] = patternFixtures().find(([n]) => n.endsWith("gop12.m2v"))!;
    const seen: number[] = [];
    let ended = -1;
    const indexer = new RecordingIndexer({
      videoObserver: { startCode: (_code, offset) => seen.push(offset), end: (length) => (ended = length) },
    });
    indexer.push(es);
    indexer.finish();
    const expected: number[] = [];
    for (let i = 0; i + 3 < es.length; i++)
      if (es[i] === 0 && es[i + 1] === 0 && es[i + 2] === 1) expected.push(i);
    expect(seen).toEqual(expected);
    expect(ended).toBe(es.length);
  });

  test("PatternPlanner never throws and keeps ranges valid on damaged recordings (seeded fuzz)", () => {
    const rnd = new SeededRandom(66);
    const fixtures = patternFixtures();
    for (let round = 0; round < 40; round++) {
      const [, original] = fixtures[rnd.below(fixtures.length)]!;
      const bytes = original.slice(0, 1 + rnd.below(original.length));
      const flips = rnd.below(50);
      for (let i = 0; i < flips; i++) bytes[rnd.below(bytes.length)] = rnd.below(256);
      if (rnd.next() < 0.3) bytes.fill(0, rnd.below(bytes.length), rnd.below(bytes.length));
      const index = indexRecording(bytes);
      const scheme = SCHEMES[rnd.below(SCHEMES.length)]!;
      const planner = new PatternPlanner(scheme);
      for (const c of rnd.chunks(bytes)) planner.push(c);
      const plan = planner.finish(index);
      const shared = PatternPlanner.withIndexer(scheme);
      for (const c of rnd.chunks(bytes)) shared.indexer.push(c);
      expect(shared.planner.finish(shared.indexer.result())).toEqual(plan);
      const body = bytes.length - index.protectedRanges.reduce((a, r) => a + r.length, 0);
      expect(checkPatternRanges(plan.ranges, body)).toBeGreaterThanOrEqual(plan.encryptedBytes);
      expect(encryptedIn(plan)).toBe(plan.encryptedBytes);
    }
  });

  test("PatternPlanner keeps its pending pieces bounded by a picture or two on a looped recording", () => {
    const [, es] = patternFixtures().find(([n]) => n.endsWith("gop12.m2v"))!;
    const peakAndKept = (loops: number) => {
      const looped = new Uint8Array(es.length * loops);
      for (let i = 0; i < loops; i++) looped.set(es, i * es.length);
      const { indexer, planner } = PatternPlanner.withIndexer(DEFAULT_PATTERN_SCHEME);
      // One push: in an ES a slice start split across two chunks would become two pieces.
      indexer.push(looped);
      const index = indexer.result();
      const plan = planner.finish(index);
      // The riding indexer keeps no picture list (the planner took each picture): a plain index lists them.
      const { pictures } = indexRecording(looped);
      // Only P/B slice pieces are kept: one per slice of the default scheme, none of the I-pictures'.
      let slices = 0;
      let kept = 0;
      let p = 0;
      for (let i = 0; i + 3 < looped.length; i++) {
        if (looped[i] !== 0 || looped[i + 1] !== 0 || looped[i + 2] !== 1) continue;
        if (looped[i + 3]! < 0x01 || looped[i + 3]! > 0xaf) continue;
        slices++;
        while (p + 1 < pictures.length && pictures[p + 1]!.offset <= i) p++;
        if (pictures[p]!.type !== "I") kept++;
      }
      expect(planner.keptPieces).toBe(kept);
      expect(plan.ranges.count).toBe(kept);
      return { peak: planner.pendingPeak, slices, pictures: pictures.length };
    };
    const two = peakAndKept(2);
    const many = peakAndKept(16);
    expect(many.slices).toBe(8 * two.slices);
    expect(many.peak).toBe(two.peak);
    expect(many.peak).toBeGreaterThan(0);
    expect(many.peak).toBeLessThanOrEqual((3 * many.slices) / many.pictures);
  });

  test("PatternPlanner plans nothing for random bytes and an empty recording", () => {
    const rnd = new SeededRandom(5);
    const noise = new Uint8Array(5000).map(() => rnd.below(256));
    for (const bytes of [noise, new Uint8Array(0)]) {
      const plan = planPattern(bytes, indexRecording(bytes), DEFAULT_PATTERN_SCHEME);
      expect(plan.ranges.count).toBe(0);
    }
  });
});
