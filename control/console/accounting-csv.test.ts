import { describe, expect, test } from "bun:test";
import { accountingCsv, csvField } from "./accounting-csv.ts";

describe("csvField()", () => {
  const cases: Array<[string | number, string]> = [
    ["plain", "plain"],
    [42, "42"],
    ["a,b", '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ["two\nlines", '"two\nlines"'],
    ["=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"],
    ["+1", "'+1"],
    ["@SUM(A1)", "'@SUM(A1)"],
    [-5, "-5"],
  ];
  for (const [v, s] of cases)
    test(`csvField(${JSON.stringify(v)}) is ${s}`, () => expect(csvField(v)).toBe(s));
});

test("accountingCsv() writes a header and one CRLF line per entry with names and UTC times", () => {
  const csv = accountingCsv(
    [
      {
        sessionId: "ses_1",
        reporter: "admin",
        callerId: "dev_a",
        calleeId: "dev_b",
        startedAt: Date.UTC(2026, 0, 1, 0, 0, 0),
        endedAt: Date.UTC(2026, 0, 1, 0, 1, 30),
        durationMs: 90_000,
        bytesDirect: 10,
        bytesRelay: 20,
        directPath: "punched",
        reason: "done, ok",
        note: "bytes_direct is the reporter's claim",
      },
    ],
    (id) => (id === "dev_a" ? "alice" : "bob"),
  );
  expect(csv.split("\r\n")).toEqual([
    "session,reporter,caller,callee,started_utc,ended_utc,duration_s,bytes_direct,bytes_relay,direct_path,reason,note",
    'ses_1,admin,alice,bob,2026-01-01T00:00:00.000Z,2026-01-01T00:01:30.000Z,90,10,20,punched,"done, ok",bytes_direct is the reporter\'s claim',
    "",
  ]);
});
