/** @module Tests for the callee's lease follower: when it asks, and how it follows extensions and ends. */
import { describe, expect, test } from "bun:test";
import { waitFor } from "../../demo/wait-for.ts";
import { followLease, leaseCheckDelay } from "./lease-follower.ts";

describe("leaseCheckDelay()", () => {
  const table: Array<[string, number, number, boolean, number]> = [
    ["first asks at 80% of a long lease (after the caller's 70%)", 600_000, 0, true, 480_000],
    ["first asks at 80% of a 2 s lease", 2000, 0, true, 1600],
    ["then asks again at half of what is left", 2000, 1600, false, 200],
    ["never asks again sooner than 100 ms", 2000, 1900, false, 100],
    ["asks at once after the end", 1000, 5000, false, 0],
  ];
  for (const [name, expiresAt, now, first, want] of table) {
    test(`leaseCheckDelay() ${name}`, () => {
      expect(leaseCheckDelay(expiresAt, now, first)).toBe(want);
    });
  }
});

describe("followLease()", () => {
  test("followLease() follows each extension", async () => {
    const extended: number[] = [];
    let asked = 0;
    const t = Date.now();
    // The first answer still has the old lease (the caller had not extended yet): the follower must ask again.
    const answers = [t + 1000, t + 1500, t + 1600];
    const stop = followLease({
      expiresAt: t + 1000,
      fetch: async () => ({ state: "active", expiresAt: answers[asked++] ?? answers[2]! }),
      onExtended: (at) => extended.push(at),
      log: () => {},
    });
    await waitFor("two extensions", () => extended.length >= 2, { timeoutMs: 5000 });
    stop();
    expect(extended).toEqual(answers.slice(1));
  });

  test("followLease() leaves an ended or unreachable session's expiry alone", async () => {
    for (const fetch of [
      async () => ({ state: "ended", expiresAt: Date.now() + 10_000 }),
      async () => Promise.reject(new Error("down")),
    ]) {
      const extended: number[] = [];
      const logs: string[] = [];
      let asked = false;
      const stop = followLease({
        expiresAt: Date.now() + 100,
        fetch: () => {
          asked = true;
          return fetch();
        },
        onExtended: (at) => extended.push(at),
        log: (e) => logs.push(e),
      });
      await waitFor("the follower to ask", () => asked, { timeoutMs: 3000 });
      for (let i = 0; i < 5; i++) await Bun.sleep(0); // let the answer settle
      stop();
      expect(asked).toBe(true);
      expect(extended).toEqual([]);
    }
  });
});
