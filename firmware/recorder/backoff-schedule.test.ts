/** @module Tests for backoffDelay(): the doubling schedule and its jitter bounds. */
import { describe, expect, test } from "bun:test";
import { backoffDelay } from "./backoff-schedule.ts";

describe("backoffDelay()", () => {
  const table: Array<[string, number, number, number]> = [
    // name, attempt, random, expected ms (base 1000, max 60000)
    ["first retry, no jitter drawn", 0, 0, 500],
    ["first retry, full jitter drawn", 0, 0.999999, 1000],
    ["doubles each attempt", 3, 0, 4000],
    ["reaches the cap", 6, 0.999999, 60_000],
    ["stays at the cap", 40, 0, 30_000],
    ["huge attempts stay finite", 10_000, 0.5, 45_000],
  ];
  for (const [name, attempt, r, want] of table) {
    test(`backoffDelay() ${name}`, () => {
      expect(backoffDelay(attempt, { random: () => r })).toBe(want);
    });
  }

  test("backoffDelay() keeps every delay within [step/2, step] over random draws", () => {
    for (let a = 0; a < 12; a++) {
      const step = Math.min(60_000, 1000 * 2 ** a);
      for (let i = 0; i < 50; i++) {
        const d = backoffDelay(a);
        expect(d).toBeGreaterThanOrEqual(step / 2);
        expect(d).toBeLessThanOrEqual(step);
      }
    }
  });

  const bad: Array<[string, number, { baseMs?: number; maxMs?: number }]> = [
    ["a negative attempt", -1, {}],
    ["a fractional attempt", 1.5, {}],
    ["a zero base", 0, { baseMs: 0 }],
    ["a max below the base", 0, { baseMs: 100, maxMs: 50 }],
  ];
  for (const [name, attempt, o] of bad) {
    test(`backoffDelay() rejects ${name}`, () => {
      expect(() => backoffDelay(attempt, o)).toThrow(RangeError);
    });
  }
});
