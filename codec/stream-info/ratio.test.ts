/** @module Tests for ratio() and nearestRatio(). */
import { describe, expect, test } from "bun:test";
import { multiply, nearestRatio, ratio } from "./ratio.ts";

describe("ratio()", () => {
  const cases: [number, number, readonly [number, number] | null][] = [
    [50, 2, [25, 1]],
    [30000, 1001, [30000, 1001]],
    [0, 1, null],
    [1, 0, null],
    [-4, 3, null],
    [Number.NaN, 1, null],
  ];
  for (const [n, d, want] of cases)
    test(`ratio(${n}, ${d}) is ${JSON.stringify(want)}`, () => expect(ratio(n, d)).toEqual(want));
  test("multiply() reduces", () => expect(multiply([64, 45], [720, 576])).toEqual([16, 9]));
});

describe("nearestRatio()", () => {
  const cases: [number, number, readonly [number, number] | null][] = [
    [0.5, 255, [1, 2]],
    [1.5, 255, [3, 2]],
    [1 / 3, 255, [1, 3]],
    [1 / Math.fround(1.0255), 255, [196, 201]],
    [1 / Math.fround(0.9157), 255, [178, 163]],
    [0, 255, null],
    [Number.POSITIVE_INFINITY, 255, null],
  ];
  for (const [x, max, want] of cases)
    test(`nearestRatio(${x}, ${max}) is ${JSON.stringify(want)}`, () =>
      expect(nearestRatio(x, max)).toEqual(want));
});
