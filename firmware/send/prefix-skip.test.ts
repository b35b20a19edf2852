/** @module Tests of PrefixSkip: the first N bytes go, whatever the chunking, and the rest comes through as views. */
import { describe, expect, test } from "bun:test";
import { PrefixSkip } from "./prefix-skip.ts";

const BYTES = new Uint8Array(100).map((_, i) => i);

function through(skip: number, sizes: number[]): number[] {
  const s = new PrefixSkip(skip);
  const out: number[] = [];
  let at = 0;
  for (const n of sizes) {
    const chunk = BYTES.subarray(at, at + n);
    at += n;
    const kept = s.take(chunk);
    if (kept) {
      expect(kept.buffer).toBe(BYTES.buffer);
      out.push(...kept);
    }
  }
  return out;
}

describe("PrefixSkip", () => {
  const cases: Array<[string, number, number[]]> = [
    ["nothing", 0, [100]],
    ["inside the first chunk", 10, [30, 70]],
    ["exactly one chunk", 30, [30, 70]],
    ["across chunks", 45, [30, 10, 60]],
    ["everything", 100, [50, 50]],
    ["byte by byte", 3, Array.from({ length: 100 }, () => 1)],
  ];
  for (const [what, skip, sizes] of cases)
    test(`PrefixSkip.take() drops ${skip} bytes: ${what}`, () => {
      expect(through(skip, sizes)).toEqual(Array.from(BYTES.subarray(skip)));
    });
  for (const bad of [-1, 1.5, Number.NaN])
    test(`PrefixSkip rejects ${bad} with a RangeError`, () => {
      expect(() => new PrefixSkip(bad)).toThrow(RangeError);
    });
});
