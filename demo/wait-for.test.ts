/** @module Tests for waitFor(): what counts as "holds", the deadline, and a throwing check. */
import { describe, expect, test } from "bun:test";
import { waitFor } from "./wait-for.ts";

describe("waitFor()", () => {
  test.each([
    ["a value", 3, 3],
    ["zero (a value, not a miss)", 0, 0],
    ["an empty string", "", ""],
    ["true", true, true],
  ] as const)("waitFor() resolves with %s once the check returns it", async (_, value, want) => {
    let n = 0;
    expect(await waitFor("n to reach 3", () => (++n >= 3 ? value : undefined), { intervalMs: 1 })).toBe(want);
    expect(n).toBe(3);
  });

  test("waitFor() awaits an async check", async () => {
    let n = 0;
    expect(await waitFor("n to reach 2", async () => (++n >= 2 ? "ok" : null), { intervalMs: 1 })).toBe("ok");
  });

  test.each([
    ["undefined", undefined],
    ["null", null],
    ["false", false],
  ] as const)(
    "waitFor() treats %s as not yet, and rejects naming the condition at the deadline",
    async (_, miss) => {
      await expect(waitFor("the impossible", () => miss, { timeoutMs: 60, intervalMs: 5 })).rejects.toThrow(
        "Timed out after 60 ms waiting for the impossible",
      );
    },
  );

  test("waitFor() rejects at once when the check throws", async () => {
    let calls = 0;
    await expect(
      waitFor("a broken check", () => {
        calls++;
        throw new TypeError("Cannot read the status: gone");
      }),
    ).rejects.toThrow("Cannot read the status: gone");
    expect(calls).toBe(1);
  });
});
