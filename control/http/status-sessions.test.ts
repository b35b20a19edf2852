/** @module Tests for StatusSessions: random tokens that expire, bounded in number. */
import { expect, test } from "bun:test";
import { STATUS_SESSION_TTL_MS, StatusSessions } from "./status-sessions.ts";

test("StatusSessions: an issued token is valid until its TTL; unknown and undefined tokens never are", () => {
  let now = 0;
  const s = new StatusSessions(() => now);
  const t = s.issue();
  expect([s.valid(t), s.valid(undefined), s.valid(`${t}x`), s.valid("")]).toEqual([
    true,
    false,
    false,
    false,
  ]);
  now = STATUS_SESSION_TTL_MS - 1;
  expect(s.valid(t)).toBe(true);
  now = STATUS_SESSION_TTL_MS;
  expect(s.valid(t)).toBe(false);
});

test("StatusSessions keeps at most 256 logins, dropping the oldest", () => {
  const s = new StatusSessions();
  const first = s.issue();
  for (let i = 0; i < 256; i++) s.issue();
  expect(s.valid(first)).toBe(false);
});
