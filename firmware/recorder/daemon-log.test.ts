/** @module Tests for daemonLog(): the line's prefix and level, key=value fields, quoting of values that would split the line. */
import { describe, expect, test } from "bun:test";
import { daemonLog, formatDaemonLine, levelOf } from "./daemon-log.ts";

const ISO = "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z";

describe("daemonLog()", () => {
  const cases: Array<[string, string, Record<string, unknown> | undefined, string]> = [
    ["an event without fields", "node-back", undefined, "node-back"],
    ["an event with empty fields", "node-back", {}, "node-back"],
    [
      "plain values as they are",
      "mapping",
      { mapped: "203.0.113.7:4242" },
      "mapping mapped=203.0.113.7:4242",
    ],
    ["numbers and booleans as JSON", "miss", { misses: 3, lost: true }, "miss misses=3 lost=true"],
    ["undefined fields left out", "x", { a: 1, b: undefined }, "x a=1"],
    ["a value with a space quoted", "x", { message: "no route" }, 'x message="no route"'],
    ["a value with '=' quoted", "x", { detail: "a=b" }, 'x detail="a=b"'],
    ["a value with a quote escaped", "x", { m: 'say "hi"' }, 'x m="say \\"hi\\""'],
    ["a newline escaped, never a second line", "x", { m: "a\nb" }, 'x m="a\\nb"'],
    ["an object as quoted JSON", "x", { o: { k: 1 } }, 'x o="{\\"k\\":1}"'],
  ];
  for (const [what, event, fields, want] of cases) {
    test(`daemonLog() writes ${what}`, () => {
      const lines: string[] = [];
      daemonLog((l) => lines.push(l))(event, fields);
      expect(lines).toHaveLength(1);
      const line = lines[0]!;
      expect(line).toMatch(new RegExp(`^${ISO} info recorder `));
      expect(line.slice(line.indexOf(" recorder ") + " recorder ".length)).toBe(want);
    });
  }

  const levels: Array<[string, "info" | "warn" | "error"]> = [
    ["registered", "info"],
    ["filed", "info"],
    ["session-ended", "info"],
    ["keepalive-unanswered", "warn"],
    ["mapping-lost", "warn"],
    ["pickup-deferred", "warn"],
    ["register-failed", "error"],
    ["keepalive-rejected", "error"],
    ["udp-error", "error"],
    ["session-keyring-damaged", "error"],
  ];
  for (const [event, level] of levels) {
    test(`levelOf() puts ${event} at ${level}`, () => {
      expect(levelOf(event)).toBe(level);
      const lines: string[] = [];
      daemonLog((l) => lines.push(l))(event, { n: 1 });
      expect(lines[0]).toMatch(new RegExp(`^${ISO} ${level} recorder ${event} n=1$`));
    });
  }

  test("daemonLog() takes a level the call gives over the event's", () => {
    const lines: string[] = [];
    daemonLog((l) => lines.push(l))("registered", {}, "warn");
    expect(lines[0]).toMatch(new RegExp(`^${ISO} warn recorder registered$`));
  });

  test("formatDaemonLine() writes the given time", () => {
    const now = new Date("2026-12-06T07:00:00.000Z");
    expect(formatDaemonLine("stopping", { signal: "SIGTERM" }, { now })).toBe(
      "2026-12-06T07:00:00.000Z info recorder stopping signal=SIGTERM",
    );
  });
});
