import { describe, expect, test } from "bun:test";
import { CONSOLE_IDLE_MS, ConsoleSessions, MAX_CONSOLE_SESSIONS } from "./console-sessions.ts";

describe("ConsoleSessions", () => {
  test("create() returns distinct random tokens that touch() accepts", () => {
    const s = new ConsoleSessions();
    const a = s.create();
    const b = s.create();
    expect(a).not.toBe(b);
    expect(a).toMatch(/^cs_[A-Za-z0-9_-]{43}$/);
    expect(s.touch(a)).toBe(true);
    expect(s.touch(b)).toBe(true);
  });

  const refused: Array<[string, string | undefined]> = [
    ["undefined", undefined],
    ["empty", ""],
    ["unknown", "cs_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"],
  ];
  for (const [what, token] of refused) {
    test(`touch() refuses an ${what} token`, () => expect(new ConsoleSessions().touch(token)).toBe(false));
  }

  test("end() logs out, and an idle session expires", () => {
    let now = 0;
    const s = new ConsoleSessions(() => now);
    const a = s.create();
    const b = s.create();
    s.end(a);
    expect(s.touch(a)).toBe(false);
    now = CONSOLE_IDLE_MS - 1;
    expect(s.touch(b)).toBe(true);
    now += CONSOLE_IDLE_MS + 1;
    expect(s.touch(b)).toBe(false);
  });

  test("holds at most MAX_CONSOLE_SESSIONS, dropping the least recently used", () => {
    const s = new ConsoleSessions();
    const first = s.create();
    const second = s.create();
    s.touch(first);
    for (let i = 0; i < MAX_CONSOLE_SESSIONS; i++) s.create();
    expect(s.size).toBe(MAX_CONSOLE_SESSIONS);
    expect(s.touch(second)).toBe(false);
  });
});
