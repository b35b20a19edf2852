/** @module Tests of parseH264SliceHeader() and parseH264Pps(): fields of real slices, refusals, and every truncation and bit flip of the fixture's NAL units. */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { codecErrorCode as codeOf } from "../../test/support/header-corruption.ts";
import { SeededRandom } from "../../test/support/seeded-random.ts";
import { CodecError } from "../codec-error.ts";
import { type H264Pps, NAL_PPS, parseH264Pps } from "./h264-pps.ts";
import { type H264ParameterSets, h264SliceDataOffset, parseH264SliceHeader } from "./h264-slice-header.ts";
import { NAL_SPS } from "./h264-slice-type.ts";
import { type H264Sps, parseH264Sps } from "./h264-sps.ts";
import { TsDemuxer } from "./ts-demuxer.ts";

/** The NAL units (header byte onward, without start codes) of the fixture's video, found by start codes. */
function nalUnits(): Uint8Array[] {
  const ts = new Uint8Array(readFileSync(join(import.meta.dir, "../../testdata/containers/ts-h264.ts")));
  const parts: Uint8Array[] = [];
  const demux = new TsDemuxer(
    {
      video: (bytes, start, end) => parts.push(bytes.slice(start, end)),
      videoBlock: (es) => parts.push(es.slice()),
      error: () => {},
      format: () => {},
    },
    188,
  );
  demux.push(ts);
  demux.end();
  const es = Buffer.concat(parts);
  const nals: Uint8Array[] = [];
  let from = -1;
  for (let i = 2; i < es.length; i++) {
    if (es[i] === 1 && es[i - 1] === 0 && es[i - 2] === 0) {
      if (from >= 0) nals.push(es.subarray(from, i - 2 - (es[i - 3] === 0 ? 1 : 0)));
      from = i + 1;
    }
  }
  if (from >= 0) nals.push(es.subarray(from));
  return nals;
}

const nals = nalUnits();
const sps = parseH264Sps(nals.find((n) => (n[0]! & 0x1f) === NAL_SPS)!, 0);
const pps = parseH264Pps(nals.find((n) => (n[0]! & 0x1f) === NAL_PPS)!, 0);
const sets: H264ParameterSets = {
  sps: (id: number): H264Sps | undefined => (id === sps.spsId ? sps : undefined),
  pps: (id: number): H264Pps | undefined => (id === pps.ppsId ? pps : undefined),
};
const slices = nals.filter((n) => [1, 5].includes(n[0]! & 0x1f));

describe("parseH264SliceHeader()", () => {
  test("parseH264SliceHeader() reads every slice of the fixture: types, frame_num, data after the header", () => {
    expect(slices.length).toBeGreaterThan(30);
    expect(pps.cabac).toBe(true);
    const types = new Set<number>();
    for (const s of slices) {
      const h = parseH264SliceHeader(s, 0, s.length, sets);
      types.add(h.sliceType);
      expect(h.dataOffset).toBeGreaterThan(2);
      expect(h.dataOffset).toBeLessThan(s.length);
      expect(h.frameNum).toBeLessThan(2 ** sps.log2MaxFrameNum);
    }
    expect([...types].sort()).toEqual([0, 1, 2]);
  });

  const refusals: Array<[string, () => unknown]> = [
    ["an empty NAL unit", () => parseH264SliceHeader(new Uint8Array(0), 0, 0, sets)],
    ["an SPS", () => parseH264SliceHeader(nals[0]!, 0, nals[0]!.length, sets)],
    ["a forbidden_zero_bit", () => parseH264SliceHeader(Uint8Array.of(0x85, 0x88), 0, 2, sets)],
    [
      "a PPS it has not seen",
      () => parseH264SliceHeader(slices[1]!, 0, slices[1]!.length, { sps: () => sps, pps: () => undefined }),
    ],
    ["slice_type 10", () => parseH264SliceHeader(Uint8Array.of(0x65, 0b1000_0010, 0b1100_0000), 0, 3, sets)],
    ["a header cut off", () => parseH264SliceHeader(slices[0]!, 0, 3, sets)],
  ];
  for (const [name, run] of refusals) {
    test(`parseH264SliceHeader() rejects ${name} with ERR_H264_SLICE_HEADER`, () =>
      expect(codeOf(run)).toBe("ERR_H264_SLICE_HEADER"));
  }

  test("parseH264SliceHeader() gives a header or ERR_H264_SLICE_HEADER for every truncation and random damage", () => {
    const rand = new SeededRandom(20);
    for (const s of slices.slice(0, 12)) {
      for (let end = 0; end < Math.min(s.length, 48); end++) {
        const code = codeOf(() => parseH264SliceHeader(s, 0, end, sets));
        expect(["no error", "ERR_H264_SLICE_HEADER"]).toContain(code);
      }
      for (let k = 0; k < 200; k++) {
        const bad = s.slice(0, 40);
        bad[rand.below(bad.length)]! ^= 1 << rand.below(8);
        try {
          const h = parseH264SliceHeader(bad, 0, bad.length, sets);
          expect(h.dataOffset).toBeLessThanOrEqual(bad.length);
        } catch (e) {
          expect(e).toBeInstanceOf(CodecError);
          expect((e as CodecError).code).toBe("ERR_H264_SLICE_HEADER");
        }
      }
    }
  });
});

describe("h264SliceDataOffset()", () => {
  test("h264SliceDataOffset() gives parseH264SliceHeader()'s dataOffset, or its error, for every truncation and damage, one call after another", () => {
    // One reader and record serve every call: a call after one that threw or read another slice must not see
    // its state.
    const rand = new SeededRandom(21);
    const outcome = (run: () => number) => {
      try {
        return run();
      } catch (e) {
        return (e as CodecError).code;
      }
    };
    let calls = 0;
    for (const s of slices) {
      const cases = [
        s,
        s.subarray(0, rand.below(24)),
        s.slice(0, 40).map((b, i) => (i === 1 + rand.below(39) ? b ^ (1 << rand.below(8)) : b)),
      ];
      for (const bytes of cases) {
        // slice_type 10 is refused mid-byte: the reader is left inside a byte, with bits of this NAL in hand.
        const midByte = Uint8Array.of(0x65, 0b1000_0010, 0b1100_0000);
        expect(outcome(() => h264SliceDataOffset(midByte, 0, midByte.length, sets))).toBe(
          "ERR_H264_SLICE_HEADER",
        );
        const want = outcome(() => parseH264SliceHeader(bytes, 0, bytes.length, sets).dataOffset);
        expect(outcome(() => h264SliceDataOffset(bytes, 0, bytes.length, sets))).toBe(want);
        calls++;
      }
    }
    expect(calls).toBeGreaterThan(90);
  });
});

describe("parseH264Pps()", () => {
  test("parseH264Pps() reads the fixture's PPS", () => {
    expect(pps).toMatchObject({
      ppsId: 0,
      spsId: 0,
      numSliceGroupsMinus1: 0,
      weightedBipredIdc: expect.any(Number),
    });
  });
  test("parseH264Pps() rejects a NAL that is not a PPS with ERR_H264_PPS", () =>
    expect(codeOf(() => parseH264Pps(slices[0]!, 0))).toBe("ERR_H264_PPS"));
  test("parseH264Pps() gives a PPS or ERR_H264_PPS for every truncation and every bit flip", () => {
    const raw = nals.find((n) => (n[0]! & 0x1f) === NAL_PPS)!;
    for (let end = 0; end <= raw.length; end++) {
      expect(["no error", "ERR_H264_PPS"]).toContain(codeOf(() => parseH264Pps(raw, 0, end)));
    }
    for (let bit = 8; bit < raw.length * 8; bit++) {
      const bad = raw.slice();
      bad[bit >> 3]! ^= 0x80 >> (bit & 7);
      expect(["no error", "ERR_H264_PPS"]).toContain(codeOf(() => parseH264Pps(bad, 0)));
    }
  });
});
