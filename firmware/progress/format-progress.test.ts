/** @module Tests for the progress formatters: bytes, rates and unknown values. */
import { describe, expect, test } from "bun:test";
import {
  estimateEta,
  formatBytes,
  formatEta,
  formatProgressJson,
  formatProgressLine,
  formatRate,
  type ProgressSnapshot,
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
  /** The snapshot with `phase` left out: exactOptionalPropertyTypes forbids phase: undefined. */
  const noPhase = ({ phase: _, ...p }: ProgressSnapshot): ProgressSnapshot => p;
  const snap = (o: Partial<ProgressSnapshot> = {}): ProgressSnapshot => ({
    label: "Die Sendung mit der Maus vom 12. Oktober 2026 (Wiederholung).mpg",
    done: 110_000,
    total: 145_408,
    bytesPerSecond: 3.1 * 1024 * 1024,
    elapsedSeconds: 3.4,
    phase: "waiting for alice to verify",
    ...o,
  });
  const cases: [string, ProgressSnapshot, number, string][] = [
    [
      "draws every field with room to spare",
      snap({
        label: "rec.ts",
        done: 512 * 1024,
        total: 1024 * 1024,
        bytesPerSecond: 512 * 1024,
        phase: "sending",
      }),
      120,
      "rec.ts [###########...........]  50% 512.0 KiB/1.0 MiB 512.0 KiB/s ETA 0:01 elapsed 0:03 \u00b7 sending",
    ],
    [
      "keeps percentage, rate, ETA, elapsed and the whole phase at 80 columns, cutting a long name",
      snap(),
      79,
      "Die Sendung\u2026  75% 3.1 MiB/s ETA 0:01 elapsed 0:03 \u00b7 waiting for alice to verify",
    ],
    [
      "drops the name and the elapsed time, not the phase, at 60 columns",
      snap(),
      59,
      " 75% 3.1 MiB/s ETA 0:01 \u00b7 waiting for alice to verify",
    ],
    [
      "keeps the percentage and what it waits for at 40 columns",
      snap(),
      39,
      " 75% \u00b7 waiting for alice to verify",
    ],
    [
      "shows sizes and rate without a total",
      noPhase(snap({ label: "x", total: undefined })),
      80,
      "x 107.4 KiB 3.1 MiB/s elapsed 0:03",
    ],
    [
      "clamps an overshoot to 100% and a whole bar",
      noPhase(snap({ label: "x", done: 300, total: 100 })),
      60,
      "x [#######] 100% 300 B/100 B 3.1 MiB/s ETA 0:00 elapsed 0:03",
    ],
    ["cuts what cannot fit at all", snap(), 3, " 7\u2026"],
  ];
  for (const [name, p, width, want] of cases) {
    test(`formatProgressLine() ${name}`, () => {
      expect(formatProgressLine(p, width)).toBe(want);
    });
  }
  test("formatProgressLine() never exceeds the width, from 1 to 200 columns", () => {
    for (let width = 1; width <= 200; width++) {
      for (const phase of [
        undefined,
        "sending",
        "waiting for a-very-long-device-name@example.org to verify",
      ]) {
        const line = formatProgressLine(phase === undefined ? noPhase(snap()) : snap({ phase }), width);
        expect([...line].length).toBeLessThanOrEqual(width);
        if (width >= 4) expect(line).toContain("7");
      }
    }
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
