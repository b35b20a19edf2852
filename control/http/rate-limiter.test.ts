/** @module Tests for the HTTP token-bucket rate limiter: burst, refill, and pruning of full buckets. */
import { expect, test } from "bun:test";
import { RateLimiter } from "./rate-limiter.ts";

test("RateLimiter.take() allows the burst, then refuses until tokens refill", () => {
  const r = new RateLimiter(2, 3);
  const t0 = 1_000_000;
  expect([r.take("a", t0), r.take("a", t0), r.take("a", t0), r.take("a", t0)]).toEqual([
    true,
    true,
    true,
    false,
  ]);
  expect(r.take("b", t0)).toBe(true); // buckets are per key
  expect(r.take("a", t0 + 499)).toBe(false); // 0.998 tokens
  expect(r.take("a", t0 + 1000)).toBe(true);
  expect(r.retryAfterSec("a")).toBeGreaterThanOrEqual(1);
});

test("RateLimiter.prune() forgets only full buckets", () => {
  const r = new RateLimiter(1, 2);
  r.take("a", 0);
  r.take("b", 0);
  r.take("b", 0);
  r.prune(1000); // a refilled to 2, b to 1
  expect(r.size).toBe(1);
});
