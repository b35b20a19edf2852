/** @module Tests of contextSlice(): the synthetic neighbour context each reading writes before a run, read back bit by bit. */
import { describe, expect, test } from "bun:test";
import { contextSlice } from "./h264-context-attack.ts";
import { BitWriter, readUeAt, unescapeRbsp } from "./h264-rbsp.ts";
import { candidateSlice, type Run } from "./h264-resync-attack.ts";

/** A run whose clear bits are mb_skip_run = 3 then 12 payload bits; its slice header is a non-IDR P slice's. */
function runOf(b: boolean): Run {
  const w = new BitWriter();
  for (const bit of [0, 1, 0, 1]) w.bit(bit); // bits before the run (encrypted in the view)
  w.ue(3);
  for (const bit of [1, 0, 1, 1, 0, 0, 1, 0, 1, 1, 1, 0]) w.bit(bit);
  const toBit = w.length;
  w.trailing();
  const rest = new BitWriter();
  for (const bit of [1, 1, 0]) rest.bit(bit);
  return {
    picture: 0,
    header: { nal: 0x41, rest: rest.bytes(), restBits: rest.length, cabac: false, b },
    rbsp: w.bytes(),
    fromBit: 4,
    toBit,
    last: false,
    beforeTail: false,
    share: 0,
    firstMb: 0,
  };
}

/** The RBSP of an Annex B NAL, and a reader of its bits. */
function reader(nal: Uint8Array) {
  const { rbsp } = unescapeRbsp(nal, 4, nal.length);
  let p = 0;
  return {
    rbsp,
    bits: (n: number) => {
      let v = 0;
      for (let i = 0; i < n; i++, p++) v = v * 2 + ((rbsp[p >> 3]! >> (7 - (p & 7))) & 1);
      return v;
    },
    ue: () => {
      const r = readUeAt(rbsp, p, rbsp.length * 8)!;
      p = r.next;
      return r.value;
    },
    get at() {
      return p;
    },
  };
}

describe("contextSlice()", () => {
  test("contextSlice() unavailable is the fresh slice at the run, first_mb_in_slice after the prefix", () => {
    const r = runOf(false);
    expect(contextSlice(r, "unavailable", { firstMb: 40, prefix: 21, fromBit: r.fromBit })).toEqual(
      candidateSlice(r, { firstMb: 61, fromBit: r.fromBit }),
    );
  });

  test("contextSlice() quiet adds the prefix to the run's mb_skip_run and keeps the run's bits after it", () => {
    const r = runOf(false);
    const x = reader(contextSlice(r, "quiet", { firstMb: 5, prefix: 21, fromBit: r.fromBit })!);
    expect([x.bits(8), x.ue(), x.bits(3), x.ue()]).toEqual([0x41, 5, 0b110, 3 + 21]);
    expect(x.bits(12)).toBe(0b101100101110);
    expect(x.bits(1)).toBe(1); // rbsp_stop_one_bit: the run was cut, so the slice gets trailing bits
  });

  for (const [kind, b, mbType] of [
    ["P", false, 30],
    ["B", true, 48],
  ] as const)
    test(`contextSlice() busy writes I_PCM macroblocks of mid-grey (mb_type ${mbType} in a ${kind} slice) before the run`, () => {
      const r = runOf(b);
      const x = reader(contextSlice(r, "busy", { firstMb: 0, prefix: 3, fromBit: r.fromBit })!);
      expect([x.bits(8), x.ue(), x.bits(3)]).toEqual([0x41, 0, 0b110]);
      for (let m = 0; m < 3; m++) {
        expect([x.ue(), x.ue()]).toEqual([0, mbType]);
        while (x.at % 8 !== 0) expect(x.bits(1)).toBe(0); // pcm_alignment_zero_bit
        for (let i = 0; i < 384; i++) expect(x.bits(8)).toBe(0x80);
      }
      expect(x.ue()).toBe(3);
      expect(x.bits(12)).toBe(0b101100101110);
    });

  test("contextSlice() quiet or busy at an offset that is no ue(v) within the run makes no candidate", () => {
    const r = { ...runOf(false), rbsp: new Uint8Array(8), fromBit: 0, toBit: 64 };
    expect(contextSlice(r, "quiet", { firstMb: 0, prefix: 21, fromBit: 0 })).toBeUndefined();
    expect(contextSlice(r, "busy", { firstMb: 0, prefix: 21, fromBit: 0 })).toBeUndefined();
  });
});
