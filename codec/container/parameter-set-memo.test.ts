/** @module Tests for ParameterSetMemo: an identical parameter set NAL under the same context is parsed once. */
import { describe, expect, test } from "bun:test";
import { ParameterSetMemo } from "./parameter-set-memo.ts";

const SPS = Uint8Array.of(0x67, 0x64, 0x00, 0x1e, 0xac, 0xd9);
const OTHER = Uint8Array.of(0x67, 0x64, 0x00, 0x1f, 0xac, 0xd9);
const LONGER = Uint8Array.of(0x67, 0x64, 0x00, 0x1e, 0xac, 0xd9, 0x40);
const SPS_A = { id: "a" };
const SPS_B = { id: "b" };

describe("ParameterSetMemo.get()", () => {
  const cases: {
    name: string;
    first: [Uint8Array, unknown];
    second: [Uint8Array, unknown];
    parses: number;
  }[] = [
    {
      name: "the same bytes and context: parsed once",
      first: [SPS, SPS_A],
      second: [SPS.slice(), SPS_A],
      parses: 1,
    },
    { name: "a byte changed: parsed again", first: [SPS, SPS_A], second: [OTHER, SPS_A], parses: 2 },
    { name: "one byte longer: parsed again", first: [SPS, SPS_A], second: [LONGER, SPS_A], parses: 2 },
    { name: "one byte shorter: parsed again", first: [LONGER, SPS_A], second: [SPS, SPS_A], parses: 2 },
    {
      name: "another context (a PPS under a new SPS): parsed again",
      first: [SPS, SPS_A],
      second: [SPS, SPS_B],
      parses: 2,
    },
    {
      name: "no context both times: parsed once",
      first: [SPS, undefined],
      second: [SPS, undefined],
      parses: 1,
    },
  ];
  for (const c of cases)
    test(`ParameterSetMemo.get() ${c.name}`, () => {
      const memo = new ParameterSetMemo<{ n: number }>();
      let parses = 0;
      const parse = () => ({ n: ++parses });
      const a = memo.get(c.first[0], c.first[1], parse);
      const b = memo.get(c.second[0], c.second[1], parse);
      expect(parses).toBe(c.parses);
      if (c.parses === 1) expect(b).toBe(a);
      else expect(b).not.toBe(a);
    });

  test("ParameterSetMemo.get() keeps its own copy: the caller's buffer reused for the next NAL does not fool it", () => {
    const memo = new ParameterSetMemo<{ n: number }>();
    let parses = 0;
    const head = SPS.slice();
    memo.get(head, undefined, () => ({ n: ++parses }));
    head.set(OTHER);
    memo.get(head, undefined, () => ({ n: ++parses }));
    expect(parses).toBe(2);
  });

  test("ParameterSetMemo.get() does not remember a NAL whose parse throws: the next identical one throws again", () => {
    const memo = new ParameterSetMemo<{ n: number }>();
    const bad = () => {
      throw new RangeError("Cannot read SPS: truncated");
    };
    expect(() => memo.get(SPS, undefined, bad)).toThrow(RangeError);
    expect(() => memo.get(SPS, undefined, bad)).toThrow(RangeError);
  });

  test("ParameterSetMemo.get() after a throwing NAL still returns the last good record for its bytes", () => {
    const memo = new ParameterSetMemo<{ n: number }>();
    const good = memo.get(SPS, undefined, () => ({ n: 1 }));
    expect(() =>
      memo.get(OTHER, undefined, () => {
        throw new RangeError("Cannot read SPS: truncated");
      }),
    ).toThrow(RangeError);
    expect(memo.get(SPS, undefined, () => ({ n: 2 }))).toBe(good);
  });
});
