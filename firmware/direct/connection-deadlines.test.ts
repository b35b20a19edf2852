/** @module Tests of ConnectionDeadlines: one timer per name, replaced when set again, cleared one by one or together, delays clamped. */
import { describe, expect, test } from "bun:test";
import { ConnectionDeadlines, type DeadlineName, MAX_TIMER_MS } from "./connection-deadlines.ts";

/** Arms `name` on `d` and gives a promise that resolves when it fires. */
function due(d: ConnectionDeadlines, name: DeadlineName, delayMs: number): Promise<void> {
  return new Promise((resolve) => d.set(name, delayMs, resolve));
}

describe("ConnectionDeadlines", () => {
  test("set() fires once the delay has passed, and has() is false after", async () => {
    const d = new ConnectionDeadlines();
    const fired = due(d, "frame", 5);
    expect(d.has("frame")).toBe(true);
    await fired;
    expect(d.has("frame")).toBe(false);
  });

  for (const delay of [0, -1000]) {
    test(`set() fires a deadline of ${delay} ms at once`, async () => {
      const d = new ConnectionDeadlines();
      await due(d, "expiry", delay);
      expect(d.has("expiry")).toBe(false);
    });
  }

  test("set() on a pending name replaces its timer: only the later one fires", async () => {
    const d = new ConnectionDeadlines();
    const fired: string[] = [];
    d.set("expiry", 1, () => fired.push("first"));
    await new Promise<void>((resolve) =>
      d.set("expiry", 20, () => {
        fired.push("second");
        resolve();
      }),
    );
    expect(fired).toEqual(["second"]);
  });

  test("clear() stops one deadline and leaves the others", async () => {
    const d = new ConnectionDeadlines();
    const fired: string[] = [];
    d.set("frame", 1, () => fired.push("frame"));
    d.clear("frame");
    await due(d, "handshake", 20);
    expect(fired).toEqual([]);
    expect(d.has("frame")).toBe(false);
  });

  test("clear() of a name never set does nothing", () => {
    const d = new ConnectionDeadlines();
    d.clear("handshake");
    expect(d.has("handshake")).toBe(false);
  });

  test("clearAll() stops every deadline", async () => {
    const d = new ConnectionDeadlines();
    const fired: string[] = [];
    for (const name of ["frame", "handshake", "expiry"] as const) d.set(name, 1, () => fired.push(name));
    d.clearAll();
    expect(["frame", "handshake", "expiry"].map((n) => d.has(n as DeadlineName))).toEqual([
      false,
      false,
      false,
    ]);
    await due(new ConnectionDeadlines(), "frame", 20);
    expect(fired).toEqual([]);
  });

  test("set() clamps a delay past what setTimeout holds instead of firing at once", async () => {
    const d = new ConnectionDeadlines();
    const fired: string[] = [];
    d.set("expiry", 2 * MAX_TIMER_MS, () => fired.push("expiry"));
    await due(d, "frame", 20);
    expect(fired).toEqual([]);
    expect(d.has("expiry")).toBe(true);
    d.clearAll();
  });
});
