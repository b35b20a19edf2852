/** @module Tests for the UDP per-source rate limiter and the replay cache: budgets, refill, bounded tables. */
import { describe, expect, test } from "bun:test";
import { ReplayCache } from "./replay-cache.ts";
import { SourceRateLimiter } from "./source-rate-limiter.ts";

describe("SourceRateLimiter", () => {
  test("allow() spends the burst, refills at the rate, and keeps sources apart", () => {
    const l = new SourceRateLimiter({ perSecond: 10, burst: 3 });
    expect([1, 2, 3, 4].map(() => l.allow("a", 0))).toEqual([true, true, true, false]);
    expect(l.allow("b", 0)).toBe(true);
    expect(l.allow("a", 50)).toBe(false);
    expect(l.allow("a", 100)).toBe(true);
    expect(l.allow("a", 100_000)).toBe(true);
  });

  test("allow() keeps its table bounded under a spoofed-source flood", () => {
    const l = new SourceRateLimiter({ perSecond: 1, burst: 1 }, 100);
    for (let i = 0; i < 10_000; i++) l.allow(`10.0.${i >> 8}.${i & 255}`, 0);
    expect(l.trackedSources).toBe(100);
  });
});

describe("ReplayCache", () => {
  test("admit() refuses a key within its lifetime and forgets it after", () => {
    const c = new ReplayCache(1000);
    expect(c.admit("d1", "x", 0)).toBe(true);
    expect(c.admit("d1", "x", 999)).toBe(false);
    expect(c.admit("d2", "x", 999)).toBe(true); // another device's id space
    expect(c.admit("d1", "x", 1000)).toBe(true);
    expect(c.size).toBe(2);
  });

  test("forget() takes back one device's key, so the same request handled again is admitted once more", () => {
    const c = new ReplayCache(1000);
    expect(c.admit("d1", "x", 0)).toBe(true);
    expect(c.admit("d2", "x", 0)).toBe(true);
    c.forget("d1", "x");
    c.forget("d3", "x"); // an unknown device: nothing to take back
    expect([c.admit("d1", "x", 1), c.admit("d1", "x", 2), c.admit("d2", "x", 2)]).toEqual([
      true,
      false,
      false,
    ]);
  });

  test("admit() fails closed for a device whose share is full of live entries, and only for it", () => {
    const c = new ReplayCache(1000, 2);
    expect([c.admit("d1", "a", 0), c.admit("d1", "b", 0), c.admit("d1", "c", 0)]).toEqual([
      true,
      true,
      false,
    ]);
    expect(c.admit("d2", "a", 0)).toBe(true);
    expect(c.admit("d1", "c", 1000)).toBe(true);
  });

  test("admit() ages out quiet devices by time, so their entries do not stay", () => {
    const c = new ReplayCache(1000);
    for (let i = 0; i < 500; i++) c.admit(`d${i}`, "tx", 0);
    expect(c.owners).toBe(500);
    c.admit("other", "tx", 1000);
    expect([c.owners, c.size]).toEqual([1, 1]);
  });

  test("admit() keeps a device that forgot its only key and came back, when the sweep reaches its old entry", () => {
    const c = new ReplayCache(1000);
    expect(c.admit("d1", "a", 0)).toBe(true);
    c.forget("d1", "a");
    expect([c.owners, c.size]).toEqual([0, 0]);
    expect(c.admit("d1", "b", 500)).toBe(true);
    // At 1000 the sweep meets d1's first (forgotten) entry; d1's live "b" must stay, and still refuse its replay.
    expect(c.admit("d2", "x", 1000)).toBe(true);
    expect([c.owners, c.size]).toEqual([2, 2]);
    expect([c.admit("d1", "b", 1499), c.admit("d1", "b", 1500)]).toEqual([false, true]);
  });

  test("admit() drops a device's expired keys before counting its share", () => {
    const c = new ReplayCache(1000, 2);
    expect([c.admit("d1", "a", 0), c.admit("d1", "b", 600)]).toEqual([true, true]);
    expect(c.admit("d1", "c", 999)).toBe(false); // both live: the share is full
    expect(c.admit("d1", "c", 1000)).toBe(true); // "a" expired: room again
    expect([c.admit("d1", "b", 1000), c.size]).toEqual([false, 2]);
  });
});
