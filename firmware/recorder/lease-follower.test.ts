import { describe, expect, test } from "bun:test";
import { followLease, leaseCheckDelay } from "./lease-follower.ts";

describe("leaseCheckDelay()", () => {
  const table: Array<[string, number, number, number]> = [
    ["asks at 90% of a long lease", 600_000, 0, 540_000],
    ["asks 1 s before the end of a short lease", 5_000, 0, 4_000],
    ["asks at once in the last second", 500, 0, 0],
    ["asks at once after the end", 1000, 5000, 0],
  ];
  for (const [name, expiresAt, now, want] of table) {
    test(`leaseCheckDelay() ${name}`, () => {
      expect(leaseCheckDelay(expiresAt, now)).toBe(want);
    });
  }
});

describe("followLease()", () => {
  test("followLease() follows each extension", async () => {
    const extended: number[] = [];
    let asked = 0;
    const t = Date.now();
    const answers = [t + 1500, t + 1600];
    const stop = followLease({
      expiresAt: t + 1010,
      fetch: async () => ({ state: "active", expiresAt: answers[asked++] ?? answers[1]! }),
      onExtended: (at) => extended.push(at),
      log: () => {},
    });
    const deadline = Date.now() + 5000;
    while (extended.length < 2 && Date.now() < deadline) await Bun.sleep(10);
    stop();
    expect(extended).toEqual(answers);
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
      const deadline = Date.now() + 3000;
      while (!asked && Date.now() < deadline) await Bun.sleep(10);
      for (let i = 0; i < 5; i++) await Bun.sleep(0); // let the answer settle
      stop();
      expect(asked).toBe(true);
      expect(extended).toEqual([]);
    }
  });
});
