import { describe, expect, test } from "bun:test";
import { firstSliceOfLengthPrefixedSample, parseSliceHeaderStart } from "./h264-slice-type.ts";

/** Exp-Golomb ue(v) codes (ITU-T H.264 9.1) packed MSB first, padded with 1-bits. */
function ueBytes(...values: number[]): number[] {
  let bits = "";
  for (const v of values) {
    const code = (v + 1).toString(2);
    bits += "0".repeat(code.length - 1) + code;
  }
  while (bits.length % 8) bits += "1";
  return bits.match(/.{8}/g)!.map((b) => Number.parseInt(b, 2));
}

function nal(header: number, ...ue: number[]): Uint8Array {
  return new Uint8Array([header, ...ueBytes(...ue)]);
}

describe("parseSliceHeaderStart()", () => {
  const cases: [string, Uint8Array, object | undefined][] = [
    ["reads an IDR I slice", nal(0x65, 0, 7, 0), { nalUnitType: 5, idr: true, type: "I", firstMbInSlice: 0 }],
    ["reads a P slice (slice_type 0)", nal(0x41, 0, 0, 0), { type: "P", idr: false }],
    ["reads a B slice (slice_type 6)", nal(0x01, 0, 6, 0), { type: "B" }],
    ["reads a non-IDR I slice (slice_type 2)", nal(0x21, 0, 2), { type: "I", idr: false }],
    ["reads SP as P and SI as I", nal(0x41, 0, 3), { type: "P" }],
    ["reads SI as I", nal(0x41, 0, 9), { type: "I" }],
    ["reads first_mb_in_slice of a later slice", nal(0x41, 99, 5), { firstMbInSlice: 99, type: "P" }],
    ["reads a data partition A", nal(0x42, 0, 1), { nalUnitType: 2, type: "B" }],
    ["rejects an SPS", nal(0x67, 0, 7), undefined],
    ["rejects slice_type 10", nal(0x41, 0, 10), undefined],
    ["rejects forbidden_zero_bit", nal(0xe5, 0, 7), undefined],
    ["rejects a header cut before slice_type", new Uint8Array([0x65, 0x80]), undefined],
    ["rejects an empty NAL", new Uint8Array([]), undefined],
  ];
  for (const [name, bytes, want] of cases) {
    test(`parseSliceHeaderStart() ${name}`, () => {
      const got = parseSliceHeaderStart(bytes, 0);
      if (want === undefined) expect(got).toBeUndefined();
      else expect(got).toMatchObject(want);
    });
  }

  test("parseSliceHeaderStart() skips an emulation prevention byte", () => {
    // first_mb_in_slice = 2^17 - 1 puts 17 zero bits first: 00 00 03 must be read as 00 00.
    const raw = ueBytes(2 ** 17 - 1, 1);
    expect(raw.slice(0, 2)).toEqual([0, 0]);
    const escaped = new Uint8Array([0x41, 0, 0, 3, ...raw.slice(2)]);
    expect(parseSliceHeaderStart(escaped, 0)).toMatchObject({ firstMbInSlice: 2 ** 17 - 1, type: "B" });
  });
});

describe("firstSliceOfLengthPrefixedSample()", () => {
  const prefixed = (size: number, ...nals: Uint8Array[]) => {
    const out: number[] = [];
    for (const n of nals) {
      for (let i = size - 1; i >= 0; i--) out.push((n.length >> (8 * i)) & 0xff);
      out.push(...n);
    }
    return new Uint8Array(out);
  };
  const sei = new Uint8Array(700).fill(0x06);
  test("firstSliceOfLengthPrefixedSample() skips AUD, SEI and parameter sets to the first slice", () => {
    const sample = prefixed(
      4,
      new Uint8Array([0x09, 0xf0]),
      sei,
      nal(0x67, 1, 2),
      nal(0x65, 0, 7),
      nal(0x41, 5, 0),
    );
    expect(firstSliceOfLengthPrefixedSample(sample, 4)).toMatchObject({ type: "I", idr: true });
  });
  test("firstSliceOfLengthPrefixedSample() honours 1- and 2-byte NAL lengths", () => {
    expect(firstSliceOfLengthPrefixedSample(prefixed(1, nal(0x06, 1), nal(0x01, 0, 1)), 1)).toMatchObject({
      type: "B",
    });
    expect(firstSliceOfLengthPrefixedSample(prefixed(2, sei, nal(0x41, 0, 5)), 2)).toMatchObject({
      type: "P",
    });
  });
  test("firstSliceOfLengthPrefixedSample() gives undefined when no slice is in the prefix", () => {
    const sample = prefixed(4, sei, nal(0x65, 0, 7));
    expect(firstSliceOfLengthPrefixedSample(sample.subarray(0, 600), 4)).toBeUndefined();
    expect(
      firstSliceOfLengthPrefixedSample(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x65]), 4),
    ).toBeUndefined();
  });
});
