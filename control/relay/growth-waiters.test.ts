/** @module Tests for GrowthWaiters: a wake releases every wait on its id and only those; a wait ends by itself at its timeout. */
import { describe, expect, test } from "bun:test";
import { GrowthWaiters } from "./growth-waiters.ts";

/** Lets every already-due promise callback and timer-free continuation run. */
const settle = () => new Promise<void>((r) => setImmediate(r));

/** A wait whose resolution is observable without awaiting it. */
function watch(w: GrowthWaiters, id: string, ms: number) {
  const state = { done: false };
  const p = w.wait(id, ms).then(() => {
    state.done = true;
  });
  return { state, p };
}

describe("GrowthWaiters", () => {
  test("wake() releases every wait on that id", async () => {
    const w = new GrowthWaiters();
    const a = watch(w, "tr_a", 60_000);
    const b = watch(w, "tr_a", 60_000);
    w.wake("tr_a");
    await Promise.all([a.p, b.p]);
    expect([a.state.done, b.state.done]).toEqual([true, true]);
  });

  test("wake() of another id leaves a wait parked", async () => {
    const w = new GrowthWaiters();
    const a = watch(w, "tr_a", 60_000);
    w.wake("tr_b");
    await settle();
    expect(a.state.done).toBe(false);
    w.wake("tr_a");
    await a.p;
  });

  test("wait() ends at its timeout without a wake; the next wait on the id parks again", async () => {
    const w = new GrowthWaiters();
    await w.wait("tr_a", 5);
    const next = watch(w, "tr_a", 60_000);
    await settle();
    expect(next.state.done).toBe(false);
    w.wake("tr_a");
    await next.p;
    expect(next.state.done).toBe(true);
  });

  test("wake() with nobody waiting is a no-op", () => {
    expect(() => new GrowthWaiters().wake("tr_none")).not.toThrow();
  });
});
