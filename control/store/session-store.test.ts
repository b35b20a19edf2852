/** @module Tests for SessionStore: CSPRNG grants, one-time pending hand-out, extensions, ends and store-session grants. */
import { beforeEach, describe, expect, test } from "bun:test";
import { openControlDatabase } from "./control-database.ts";
import { DeviceStore } from "./device-store.ts";
import { checkReportedBytes, SessionStore } from "./session-store.ts";

const lease = {
  durationSec: 3600,
  connectWindowSec: 120,
  extensionSec: 1800,
  maxExtensions: 2,
  maxTotalSec: 6000,
};
let sessions: SessionStore;
let a: string;
let b: string;
let c: string;

beforeEach(() => {
  const db = openControlDatabase(":memory:");
  const d = new DeviceStore(db);
  a = d.enroll("a").id;
  b = d.enroll("b").id;
  c = d.enroll("c").id;
  sessions = new SessionStore(db, lease);
});

describe("SessionStore", () => {
  test("issue() draws id, password and a 256-bit key from the CSPRNG", () => {
    const g = sessions.issue(a, b, "live", 0, 1000);
    expect(g.id).toMatch(/^ses_/);
    expect(Buffer.from(g.password, "base64url").byteLength).toBe(16);
    expect(Buffer.from(g.key, "base64url").byteLength).toBe(32);
    expect(g).toMatchObject({
      duration: 3600,
      expiresAt: 1000 + 3600_000,
      connectBy: 1000 + 120_000,
      mode: "live",
    });
    const h = sessions.issue(a, b, "live", 0, 1000);
    expect(h.password).not.toBe(g.password);
    expect(h.key).not.toBe(g.key);
  });

  test("takePending() hands the callee's copy out once, only to the callee, only before connectBy", () => {
    const g = sessions.issue(a, b, "live", 0, 1000);
    expect(sessions.takePending(a, 2000)).toEqual([]);
    const got = sessions.takePending(b, 2000);
    expect(got).toEqual([{ ...g, callerId: a }]);
    expect(sessions.takePending(b, 2000)).toEqual([]);
    sessions.issue(a, b, "live", 0, 1000);
    expect(sessions.takePending(b, 1000 + 120_000)).toEqual([]); // password window over
  });

  test("takePending() keeps a store session's grant after the sender ends it, until deliverBy", () => {
    const store = sessions.issue(a, b, "store", 7 * 86400, 1000);
    const live = sessions.issue(a, b, "live", 0, 1000);
    sessions.end(a, store.id, "done", 0, 500, 2000);
    sessions.end(a, live.id, "done", 0, 0, 2000);
    const got = sessions.takePending(b, 3000);
    expect(got.map((g) => g.id)).toEqual([store.id]);
    expect(got[0]).toMatchObject({ key: store.key, mode: "store" });
    expect(sessions.takePending(b, 3000)).toEqual([]);
    const late = sessions.issue(a, b, "store", 60, 1000);
    sessions.end(a, late.id, "done", 0, 1, 2000);
    expect(sessions.takePending(b, 1000 + 120_000)).toEqual([]); // past deliverBy (never before the connect window)
  });

  test("extend() follows the policy: count and total caps, partial last grant", () => {
    const g = sessions.issue(a, b, "live", 0, 0);
    expect(sessions.extend(a, g.id, 10)).toEqual({ duration: 5400, expiresAt: 5400_000, extensions: 1 });
    expect(sessions.extend(b, g.id, 20)).toEqual({ duration: 6000, expiresAt: 6000_000, extensions: 2 });
    expect(() => sessions.extend(a, g.id, 30)).toThrow(
      expect.objectContaining({ code: "extension_refused" }),
    );
    expect(() => sessions.extend(c, g.id, 30)).toThrow(
      expect.objectContaining({ code: "session_not_found" }),
    );
    const h = sessions.issue(a, b, "live", 0, 0);
    expect(() => sessions.extend(a, h.id, 3600_000)).toThrow(
      expect.objectContaining({ code: "extension_refused" }),
    );
  });

  test("setDirectPath() records the reporter's direct path; entries without one read null", () => {
    const g = sessions.issue(a, b, "live", 0, 1000);
    sessions.end(a, g.id, "done", 10, 20, 5000);
    sessions.end(b, g.id, "done", 10, 0, 5000);
    sessions.setDirectPath(g.id, a, "punched");
    const log = sessions.accounting({ device: a }).filter((e) => e.sessionId === g.id);
    expect(log.map((e) => [e.reporter, e.directPath])).toEqual([
      [a, "punched"],
      [b, null],
    ]);
  });

  test("end() logs each reporter once and ends the session on the first report", () => {
    const g = sessions.issue(a, b, "live", 0, 1000);
    sessions.addRelayBytes(g.id, 20);
    const first = sessions.end(a, g.id, "done", 10, 20, 5000);
    expect(first.endedNow).toBe(true);
    expect(sessions.end(b, g.id, "peer ended", 11, 0, 6000).endedNow).toBe(false);
    expect(() => sessions.end(a, g.id, "again", 0, 0, 7000)).toThrow(
      expect.objectContaining({ code: "session_ended" }),
    );
    expect(sessions.statusFor(b, g.id)).toMatchObject({ state: "ended", reason: "done" });
    const log = sessions.accounting({ device: b });
    expect(log.map((e) => [e.reporter, e.durationMs, e.bytesDirect, e.bytesRelay, e.reason])).toEqual([
      [a, 4000, 10, 20, "done"],
      [b, 4000, 11, 0, "peer ended"],
    ]);
    expect(sessions.accounting({ device: c })).toEqual([]);
    expect(sessions.accounting({ from: 5001 })).toEqual([]);
    expect(sessions.accounting({ to: 5000 })).toEqual([]);
    expect(sessions.accounting({ from: 5000, to: 5001 })).toHaveLength(2);
    expect(() => sessions.extend(a, g.id, 8000)).toThrow(
      expect.objectContaining({ code: "extension_refused" }),
    );
    expect(sessions.takePending(b, 2000)).toEqual([]); // an ended session's grant is gone
  });

  test("sweep() ends expired leases as reporter node", () => {
    const g = sessions.issue(a, b, "live", 0, 0);
    expect(sessions.sweep(3599_999)).toEqual([]);
    expect(sessions.sweep(3600_000)).toEqual([g.id]);
    expect(sessions.accounting({})[0]).toMatchObject({ reporter: "node", reason: "expired" });
  });
});

describe("SessionStore.revoke() (issue 21 item 3)", () => {
  for (const mode of ["live", "store"] as const) {
    test(`revoke() ends a ${mode} session, drops its undelivered grant, logs it once and refuses extension`, () => {
      const g = sessions.issue(a, b, mode, 60, 1000);
      if (mode === "store") sessions.end(a, g.id, "uploaded", 0, 10, 2000);
      expect(sessions.live(b, "callee", 0).map((s) => s.id)).toEqual([g.id]);
      sessions.revoke(g.id, 3000);
      sessions.revoke(g.id, 4000);
      expect(sessions.get(g.id)).toMatchObject({ state: "ended", revoked: true });
      expect(sessions.takePending(b, 3000)).toEqual([]);
      expect(sessions.live(b, "callee", 0)).toEqual([]);
      expect(sessions.accounting({}).filter((e) => e.reporter === "node")).toMatchObject([
        { reason: "revoked" },
      ]);
      expect(() => sessions.extend(a, g.id, 3000)).toThrow(
        expect.objectContaining({ code: "extension_refused" }),
      );
    });
  }
});

describe("checkReportedBytes() (issue 21 item 4)", () => {
  const cases: [string, number, number, number, number, RegExp | null][] = [
    ["nothing reported", 0, 0, 0, 0, null],
    ["relay within what the node carried", 0, 100, 200, 100, null],
    [
      "relay above what the node carried is capped",
      0,
      999_999_999_999,
      5,
      5,
      /capped at the 5 the node carried/,
    ],
    ["direct bytes are marked as a claim", 999_999_999_999, 0, 0, 0, /claim, unverified/],
  ];
  for (const [name, direct, relay, carried, wantRelay, wantNote] of cases) {
    test(`checkReportedBytes(): ${name}`, () => {
      const r = checkReportedBytes(direct, relay, carried);
      expect(r.bytesRelay).toBe(wantRelay);
      if (wantNote) expect(r.note).toMatch(wantNote);
      else expect(r.note).toBeNull();
    });
  }
});
