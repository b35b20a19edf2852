import { describe, expect, test } from "bun:test";
import { formatBytes, formatDuration, formatRelative, formatTime } from "./human-units.ts";

describe("human units", () => {
  const bytes: Array<[number, string]> = [
    [0, "0 B"],
    [1023, "1023 B"],
    [1024, "1.00 KiB"],
    [1536, "1.50 KiB"],
    [15.3 * 1024 ** 2, "15.3 MiB"],
    [2 * 1024 ** 3, "2.00 GiB"],
    [123 * 1024 ** 4, "123 TiB"],
  ];
  for (const [n, s] of bytes) test(`formatBytes(${n}) is ${s}`, () => expect(formatBytes(n)).toBe(s));
  for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY])
    test(`formatBytes() rejects ${bad}`, () => expect(() => formatBytes(bad)).toThrow(RangeError));

  const spans: Array<[number, string]> = [
    [0, "0 s"],
    [45_000, "45 s"],
    [185_000, "3 min 5 s"],
    [3600_000 * 2 + 600_000, "2 h 10 min"],
    [86400_000 * 3 + 3600_000 * 4 + 5000, "3 d 4 h"],
    [3600_000, "1 h"],
  ];
  for (const [ms, s] of spans)
    test(`formatDuration(${ms}) is ${s}`, () => expect(formatDuration(ms)).toBe(s));
  test("formatDuration() rejects NaN", () => expect(() => formatDuration(Number.NaN)).toThrow(RangeError));

  test("formatRelative() says ago, in and just now", () => {
    expect(formatRelative(1000, 181_000)).toBe("3 min ago");
    expect(formatRelative(7_201_000, 1000)).toBe("in 2 h");
    expect(formatRelative(1000, 1500)).toBe("just now");
  });

  test("formatTime() is minutes in UTC", () => {
    expect(formatTime(Date.UTC(2026, 0, 2, 3, 4, 59, 999))).toBe("2026-01-02 03:04 UTC");
    expect(() => formatTime(Number.NaN)).toThrow(RangeError);
  });
});
