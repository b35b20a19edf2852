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

const T0 = Date.UTC(2026, 0, 1, 0, 0, 0);
const HEADER =
  "session,caller,callee,mode,started_utc,ended_utc,duration_s,reason,ended_by,revoked_utc,bytes_relay_node," +
  "caller_reported_utc,caller_reason,caller_bytes_direct,caller_bytes_relay,caller_direct_path,caller_note," +
  "callee_reported_utc,callee_reason,callee_bytes_direct,callee_bytes_relay,callee_direct_path,callee_note";

test("accountingCsv() writes a header and one CRLF line per session, both peers' figures side by side", () => {
  const csv = accountingCsv(
    [
      {
        sessionId: "ses_1",
        callerId: "dev_a",
        calleeId: "dev_b",
        mode: "live",
        startedAt: T0,
        endedAt: T0 + 90_000,
        durationMs: 90_000,
        reason: "done, ok",
        endedBy: "dev_a",
        revokedAt: null,
        bytesRelayNode: 20,
        caller: {
          reportedAt: T0 + 90_000,
          reason: "done, ok",
          bytesDirect: 10,
          bytesRelay: 20,
          directPath: "punched",
          note: "bytes_direct is the reporter's claim",
        },
        callee: {
          reportedAt: T0 + 91_000,
          reason: "peer ended",
          bytesDirect: 12,
          bytesRelay: 0,
          directPath: null,
          note: null,
        },
      },
      {
        sessionId: "ses_2",
        callerId: "dev_a",
        calleeId: "dev_gone",
        mode: "store",
        startedAt: T0,
        endedAt: T0 + 1000,
        durationMs: 1000,
        reason: "maintenance",
        endedBy: "admin",
        revokedAt: T0 + 2000,
        bytesRelayNode: 0,
        caller: null,
        callee: null,
      },
    ],
    (id) => (id === "dev_a" ? "alice" : id === "dev_b" ? "bob" : "(deleted)"),
  );
  expect(csv.split("\r\n")).toEqual([
    HEADER,
    'ses_1,alice,bob,live,2026-01-01T00:00:00.000Z,2026-01-01T00:01:30.000Z,90,"done, ok",alice,,20,' +
      '2026-01-01T00:01:30.000Z,"done, ok",10,20,punched,bytes_direct is the reporter\'s claim,' +
      "2026-01-01T00:01:31.000Z,peer ended,12,0,,",
    "ses_2,alice,(deleted),store,2026-01-01T00:00:00.000Z,2026-01-01T00:00:01.000Z,1,maintenance,admin," +
      "2026-01-01T00:00:02.000Z,0,,,,,,,,,,,,",
    "",
  ]);
});
