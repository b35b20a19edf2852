/** @module Tests for ProgressReporter's tty, json and quiet modes. */
import { describe, expect, test } from "bun:test";
import { chooseProgressMode, ProgressReporter } from "./progress-reporter.ts";
import { RateMeter } from "./rate-meter.ts";

function harness(mode: "tty" | "json" | "quiet", total?: number) {
  const out: string[] = [];
  let t = 0;
  const r = new ProgressReporter({
    label: "f",
    total,
    mode,
    write: (s) => out.push(s),
    now: () => t,
    intervalMs: 100,
    columns: () => 80,
  });
  return { out, r, at: (ms: number) => (t = ms) };
}

describe("ProgressReporter", () => {
  test("tty mode redraws one line in place and ends it with one final line", () => {
    const { out, r, at } = harness("tty", 1000);
    at(100);
    r.update(100);
    at(150);
    r.update(150); // throttled: within 100 ms of the last draw
    at(1000);
    r.finish(1000, "verified by bob");
    expect(out.length).toBe(3);
    expect(out[0]!.startsWith("\rf [")).toBe(true);
    expect(out[0]!.endsWith("\x1b[K")).toBe(true);
    expect(out[1]).toContain("100%");
    expect(out[1]).toContain("1000 B/s");
    expect(out[1]).toContain("elapsed 0:01");
    expect(out[1]).toContain("verified by bob");
    expect(out[2]).toBe("\n");
  });
  test("tty mode fits the line to the width it reads at each draw", () => {
    let columns = 120;
    const out: string[] = [];
    const r = new ProgressReporter({
      label: "x".repeat(200),
      total: 10,
      mode: "tty",
      write: (s) => out.push(s),
      now: () => 0,
      columns: () => columns,
    });
    r.phase("sending");
    columns = 40;
    r.phase("waiting for bob to verify");
    const visible = out.map((s) => s.replace("\r", "").replace("\x1b[K", ""));
    expect(visible[0]).toHaveLength(119); // a 200-character label fills what 120 columns leave
    expect(visible[1]!.length).toBeLessThanOrEqual(39);
    expect(visible[1]).toContain("waiting for bob to verify");
  });
  test("phase() redraws at once and log() writes above the bar, then redraws it", () => {
    const { out, r } = harness("tty", 10);
    r.phase("asking the node for bob");
    r.log("connected");
    expect(out[0]).toContain("asking the node for bob");
    expect(out[1]).toBe("\r\x1b[Kconnected\n");
    expect(out[2]).toBe(out[0]);
  });
  test("json mode writes one parseable line per draw", () => {
    const { out, r, at } = harness("json", 10);
    at(200);
    r.update(4);
    at(400);
    r.finish(10);
    const lines = out.map((l) => JSON.parse(l));
    expect(lines.map((l) => l.event)).toEqual(["progress", "done"]);
    expect(lines[0].bytes).toBe(4);
    expect(lines[0].bytesPerSecond).toBe(20);
  });
  test("quiet mode writes nothing", () => {
    const { out, r, at } = harness("quiet", 10);
    at(500);
    r.update(5);
    r.finish(10);
    expect(out).toEqual([]);
  });
  test("finish() twice draws once", () => {
    const { out, r } = harness("json", 10);
    r.finish(10);
    r.finish(10);
    expect(out.length).toBe(1);
  });
});

describe("chooseProgressMode()", () => {
  const cases: Array<[Parameters<typeof chooseProgressMode>[0], ReturnType<typeof chooseProgressMode>]> = [
    [{ isTTY: true }, "tty"],
    [{ isTTY: false }, "quiet"],
    [{ isTTY: true, json: true }, "json"],
    [{ isTTY: true, quiet: true }, "quiet"],
    [{ json: true, quiet: true }, "quiet"],
  ];
  for (const [opts, want] of cases)
    test(`picks ${want} for ${JSON.stringify(opts)}`, () => {
      expect(chooseProgressMode(opts)).toBe(want);
    });
});

describe("RateMeter", () => {
  test("reports the rate over the window only", () => {
    const m = new RateMeter(1000);
    m.record(0, 0);
    m.record(1000, 10_000); // fast first second
    m.record(2000, 11_000);
    m.record(3000, 12_000); // slow since
    expect(m.rate()).toBe(1000);
  });
  test("is 0 with one sample", () => {
    const m = new RateMeter();
    m.record(5, 100);
    expect(m.rate()).toBe(0);
  });
  test("rejects a non-positive window", () => expect(() => new RateMeter(0)).toThrow(RangeError));
});
