/** @module Tests for SessionTicketStore: one-time passwords, connect windows, session ends and extensions. */
import { describe, expect, test } from "bun:test";
import { randomToken } from "../../crypto/random-token.ts";
import { type DenyReason, SessionTicketStore, type TicketInput } from "./session-ticket-store.ts";

function setup(over: Partial<TicketInput> = {}) {
  let now = 1_000_000;
  const store = new SessionTicketStore({ now: () => now, connectWindowMs: 60_000 });
  const input: TicketInput = {
    sessionId: "s1",
    callerId: "dev_caller01",
    password: "pw1",
    key: randomToken(32),
    expiresAt: now + 3_600_000,
    ...over,
  };
  store.add(input);
  return { store, advance: (ms: number) => (now += ms), input };
}

describe("SessionTicketStore.consume()", () => {
  test("accepts the right caller and password once", () => {
    const { store } = setup();
    expect("ticket" in store.consume("s1", "dev_caller01", "pw1")).toBe(true);
    expect(store.consume("s1", "dev_caller01", "pw1")).toEqual({ reason: "password_used" });
  });
  const denials: Array<[string, string, string, number, DenyReason]> = [
    ["a wrong password", "dev_caller01", "pw2", 0, "wrong_password"],
    ["a wrong caller", "dev_other001", "pw1", 0, "wrong_caller"],
    ["a REQUEST after the connect window", "dev_caller01", "pw1", 60_001, "connect_window_closed"],
  ];
  for (const [what, id, pw, later, reason] of denials) {
    test(`denies ${what} as ${reason} and burns the password`, () => {
      const { store, advance } = setup();
      advance(later);
      expect(store.consume("s1", id, pw)).toEqual({ reason });
      expect(store.consume("s1", "dev_caller01", "pw1")).toEqual({ reason: "password_used" });
    });
  }
  test("denies after the session end and forgets the key", () => {
    const { store, advance } = setup({ connectBy: 1_000_000 + 7_200_000 });
    advance(3_600_000);
    expect(store.keyFor("s1")).toBeUndefined();
    expect(store.consume("s1", "dev_caller01", "pw1")).toEqual({ reason: "session_expired" });
  });
  test("caps the connect window at the session end", () => {
    const { store, advance } = setup({ expiresAt: 1_000_000 + 10_000 });
    advance(9_000);
    expect("ticket" in store.consume("s1", "dev_caller01", "pw1")).toBe(true);
  });
  test("accepts ISO times as the node sends them", () => {
    const store = new SessionTicketStore({ now: () => Date.parse("2026-01-01T00:00:00Z") });
    const t = store.add({
      sessionId: "s",
      callerId: "c",
      password: "p",
      key: new Uint8Array(32),
      expiresAt: "2026-01-01T01:00:00Z",
    });
    expect(t.expiresAt).toBe(Date.parse("2026-01-01T01:00:00Z"));
  });
});

describe("SessionTicketStore.add()", () => {
  test("addPending() takes the node's pending-session shape", () => {
    const store = new SessionTicketStore({ now: () => 1000 });
    const t = store.addPending({
      id: "sess9",
      password: "pw",
      key: randomToken(32),
      duration: 3600,
      expiresAt: 3_601_000,
      connectBy: 61_000,
      mode: "live",
      caller: { id: "dev_caller01", name: "+81-90-1234-5678", address: "192.0.2.1", port: 8471 },
    });
    expect([t.sessionId, t.callerId, t.callerName, t.connectBy, t.key.length]).toEqual([
      "sess9",
      "dev_caller01",
      "+81-90-1234-5678",
      61_000,
      32,
    ]);
  });
  test("rejects a second ticket for one session, which would re-arm a used password", () => {
    const { store, input } = setup();
    expect(() => store.add(input)).toThrow(RangeError);
  });
  test("rejects a key that is not 32 bytes", () => {
    const store = new SessionTicketStore();
    expect(() =>
      store.add({ sessionId: "s", callerId: "c", password: "p", key: "AAAA", expiresAt: Date.now() + 1000 }),
    ).toThrow(/not 32/);
  });
  test("rejects an unparseable expiresAt", () => {
    const store = new SessionTicketStore();
    expect(() =>
      store.add({ sessionId: "s", callerId: "c", password: "p", key: new Uint8Array(32), expiresAt: "soon" }),
    ).toThrow(/not a time/);
  });
});

describe("SessionTicketStore.extend() and end()", () => {
  test("tell watchers the new end, then undefined when ended", () => {
    const { store } = setup();
    const seen: Array<number | undefined> = [];
    const stop = store.watch("s1", (e) => seen.push(e));
    expect(store.extend("s1", 5_000_000)).toBe(true);
    store.end("s1");
    stop();
    expect(seen).toEqual([5_000_000, undefined]);
    expect(store.keyFor("s1")).toBeUndefined();
    expect(store.extend("s1", 6_000_000)).toBe(false);
  });
});
