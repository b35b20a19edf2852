/** @module Tests for the progress formatters: bytes, rates and unknown values. */
import { describe, expect, test } from "bun:test";
import {
  estimateEta,
  formatBytes,
  formatEta,
  formatProgressJson,
  formatProgressLine,
  formatRate,
} from "./format-progress.ts";

describe("formatBytes()", () => {
  const cases: Array<[number, string]> = [
    [0, "0 B"],
    [1023, "1023 B"],
    [1024, "1.0 KiB"],
    [1536, "1.5 KiB"],
    [12.5 * 1024 * 1024, "12.5 MiB"],
    [3 * 1024 ** 3, "3.0 GiB"],
    [5 * 1024 ** 5, "5120.0 TiB"],
    [-1, "? B"],
    [Number.NaN, "? B"],
  ];
  for (const [n, want] of cases) test(`formats ${n} as ${want}`, () => expect(formatBytes(n)).toBe(want));
});

describe("formatRate()", () => {
  test("appends /s", () => expect(formatRate(2 * 1024 * 1024)).toBe("2.0 MiB/s"));
  test("rejects Infinity as unknown", () => expect(formatRate(Number.POSITIVE_INFINITY)).toBe("? B/s"));
});

describe("formatEta()", () => {
  const cases: Array<[number | undefined, string]> = [
    [undefined, "--:--"],
    [0, "0:00"],
    [4.2, "0:05"],
    [65, "1:05"],
    [3600 + 62, "1:01:02"],
    [100 * 3600, "--:--"],
    [-3, "--:--"],
  ];
  for (const [s, want] of cases) test(`formats ${s} as ${want}`, () => expect(formatEta(s)).toBe(want));
});

describe("estimateEta()", () => {
  test("divides what is left by the rate", () => expect(estimateEta(25, 100, 25)).toBe(3));
  test("is undefined without a total", () => expect(estimateEta(25, undefined, 25)).toBeUndefined());
  test("is undefined without a rate", () => expect(estimateEta(25, 100, 0)).toBeUndefined());
  test("never goes negative past the total", () => expect(estimateEta(200, 100, 10)).toBe(0));
});

describe("formatProgressLine()", () => {
  test("draws bar, percentage, sizes, rate and ETA", () => {
    const line = formatProgressLine({
      label: "rec.ts",
      done: 512 * 1024,
      total: 1024 * 1024,
      bytesPerSecond: 512 * 1024,
    });
    expect(line).toBe("rec.ts [##########..........]  50% 512.0 KiB / 1.0 MiB  512.0 KiB/s  ETA 0:01");
  });
  test("omits bar and ETA when the total is unknown", () => {
    expect(formatProgressLine({ label: "x", done: 2048, total: undefined, bytesPerSecond: 1024 })).toBe(
      "x 2.0 KiB  1.0 KiB/s",
    );
  });
  test("cuts the line to the terminal width", () => {
    const line = formatProgressLine({ label: "a".repeat(100), done: 1, total: 2, bytesPerSecond: 1 }, 40);
    expect(line.length).toBe(40);
  });
  test("clamps an overshoot to 100%", () => {
    expect(formatProgressLine({ label: "x", done: 300, total: 100, bytesPerSecond: 1 })).toContain("100%");
  });
});

describe("formatProgressJson()", () => {
  test("writes null for an unknown total and eta", () => {
    expect(
      JSON.parse(formatProgressJson({ label: "x", done: 5, total: undefined, bytesPerSecond: 0 })),
    ).toEqual({
      event: "progress",
      label: "x",
      bytes: 5,
      total: null,
      bytesPerSecond: 0,
      etaSeconds: null,
    });
  });
  test("marks the final line as done", () => {
    const j = JSON.parse(formatProgressJson({ label: "x", done: 10, total: 10, bytesPerSecond: 5 }, "done"));
    expect(j.event).toBe("done");
    expect(j.etaSeconds).toBe(0);
  });
});
