/** @module Tests for SessionStore: CSPRNG grants, one-time pending hand-out, extensions, ends and store-session grants. */
import { beforeEach, describe, expect, test } from "bun:test";
import { STORE_BACKENDS, storeBackend } from "../../test/support/store-backends.ts";
import { DeviceStore } from "./device-store.ts";
import { SessionStore } from "./session-store.ts";

const lease = {
  durationSec: 3600,
  connectWindowSec: 120,
  extensionSec: 1800,
  maxExtensions: 2,
  maxTotalSec: 6000,
};
describe.each(STORE_BACKENDS)("SessionStore on %s", (kind) => {
  const backend = storeBackend(kind);
  let sessions: SessionStore;
  let a: string;
  let b: string;
  let c: string;

  beforeEach(async () => {
    const db = await backend.open();
    const d = new DeviceStore(db);
    a = (await d.enroll("a")).id;
    b = (await d.enroll("b")).id;
    c = (await d.enroll("c")).id;
    sessions = new SessionStore(db, lease);
  });

  describe("SessionStore", () => {
    test("issue() draws id, password and a 256-bit key from the CSPRNG", async () => {
      const g = await sessions.issue(a, b, "live", 0, 1000);
      expect(g.id).toMatch(/^ses_/);
      expect(Buffer.from(g.password, "base64url").byteLength).toBe(16);
      expect(Buffer.from(g.key, "base64url").byteLength).toBe(32);
      expect(g).toMatchObject({
        duration: 3600,
        expiresAt: 1000 + 3600_000,
        connectBy: 1000 + 120_000,
        mode: "live",
      });
      const h = await sessions.issue(a, b, "live", 0, 1000);
      expect(h.password).not.toBe(g.password);
      expect(h.key).not.toBe(g.key);
    });

    test("issue() ids lead with the issue time, so they sort by it, then 128 random bits", async () => {
      const times = [1000, 1001, 36 ** 5, Date.now(), Date.now() + 1];
      const ids: string[] = [];
      for (const t of times) ids.push((await sessions.issue(a, b, "live", 0, t)).id);
      for (const id of ids) expect(id).toMatch(/^ses_[0-9a-z]{9}[A-Za-z0-9_-]{22}$/);
      expect([...ids].sort()).toEqual(ids);
      const same = await sessions.issue(a, b, "live", 0, 1000);
      expect(same.id.slice(0, 13)).toBe(ids[0]!.slice(0, 13));
      expect(same.id).not.toBe(ids[0]);
    });

    test("takePending() hands the callee's copy out once, only to the callee, only before connectBy", async () => {
      const g = await sessions.issue(a, b, "live", 0, 1000);
      expect(await sessions.takePending(a, 2000)).toEqual([]);
      const got = await sessions.takePending(b, 2000);
      expect(got).toEqual([{ ...g, callerId: a }]);
      expect(await sessions.takePending(b, 2000)).toEqual([]);
      await sessions.issue(a, b, "live", 0, 1000);
      expect(await sessions.takePending(b, 1000 + 120_000)).toEqual([]); // password window over
    });

    test("takePending() keeps a store session's grant after the sender ends it, until deliverBy", async () => {
      const store = await sessions.issue(a, b, "store", 7 * 86400, 1000);
      const live = await sessions.issue(a, b, "live", 0, 1000);
      await sessions.end(store.id, { reporter: a, reason: "done", bytesRelay: 500, now: 2000 });
      await sessions.end(live.id, { reporter: a, reason: "done", now: 2000 });
      const got = await sessions.takePending(b, 3000);
      expect(got.map((g) => g.id)).toEqual([store.id]);
      expect(got[0]).toMatchObject({ key: store.key, mode: "store" });
      expect(await sessions.takePending(b, 3000)).toEqual([]);
      const late = await sessions.issue(a, b, "store", 60, 1000);
      await sessions.end(late.id, { reporter: a, reason: "done", bytesRelay: 1, now: 2000 });
      expect(await sessions.takePending(b, 1000 + 120_000)).toEqual([]); // past deliverBy (never before the connect window)
    });

    test("extend() follows the policy: count and total caps, partial last grant", async () => {
      const g = await sessions.issue(a, b, "live", 0, 0);
      expect(await sessions.extend(a, g.id, 10)).toEqual({
        duration: 5400,
        expiresAt: 5400_000,
        extensions: 1,
      });
      expect(await sessions.extend(b, g.id, 20)).toEqual({
        duration: 6000,
        expiresAt: 6000_000,
        extensions: 2,
      });
      await expect(sessions.extend(a, g.id, 30)).rejects.toMatchObject({ code: "extension_refused" });
      await expect(sessions.extend(c, g.id, 30)).rejects.toMatchObject({ code: "session_not_found" });
      const h = await sessions.issue(a, b, "live", 0, 0);
      await expect(sessions.extend(a, h.id, 3600_000)).rejects.toMatchObject({ code: "extension_refused" });
    });

    test("end() ends the session on the first report and merges the other peer's into the same row", async () => {
      const g = await sessions.issue(a, b, "live", 0, 1000);
      await sessions.addRelayBytes(g.id, 20);
      const first = await sessions.end(g.id, {
        reporter: a,
        reason: "done",
        bytesDirect: 10,
        bytesRelay: 20,
        directPath: "punched",
        now: 5000,
      });
      expect(first.endedNow).toBe(true);
      const second = await sessions.end(g.id, {
        reporter: b,
        reason: "peer ended",
        bytesDirect: 11,
        now: 6000,
      });
      expect(second.endedNow).toBe(false);
      expect(await sessions.statusFor(b, g.id)).toMatchObject({ state: "ended", reason: "done" });
      const log = await sessions.accounting({ device: b });
      expect(log).toEqual([
        {
          sessionId: g.id,
          callerId: a,
          calleeId: b,
          mode: "live",
          startedAt: 1000,
          endedAt: 5000,
          durationMs: 4000,
          reason: "done",
          endedBy: a,
          revokedAt: null,
          bytesRelayNode: 20,
          caller: {
            reportedAt: 5000,
            reason: "done",
            bytesDirect: 10,
            bytesRelay: 20,
            directPath: "punched",
            note: expect.stringContaining("claim, unverified"),
          },
          // 11 against the caller's 10: both stay, neither is averaged away.
          callee: {
            reportedAt: 6000,
            reason: "peer ended",
            bytesDirect: 11,
            bytesRelay: 0,
            directPath: null,
            note: expect.stringContaining("claim, unverified"),
          },
        },
      ]);
      expect(await sessions.accounting({ device: c })).toEqual([]);
      expect(await sessions.accounting({ from: 5001 })).toEqual([]);
      expect(await sessions.accounting({ to: 5000 })).toEqual([]);
      expect(await sessions.accounting({ from: 5000, to: 5001 })).toHaveLength(1);
      await expect(sessions.extend(a, g.id, 8000)).rejects.toMatchObject({ code: "extension_refused" });
      expect(await sessions.takePending(b, 2000)).toEqual([]); // an ended session's grant is gone
    });

    test("end() answers a repeated report as the first (a retry), refuses one with other figures, changes nothing", async () => {
      const g = await sessions.issue(a, b, "live", 0, 1000);
      const report = { reporter: a, reason: "done", bytesDirect: 10, now: 5000 };
      expect((await sessions.end(g.id, report)).endedNow).toBe(true);
      const before = await sessions.accounting({});
      // The same report again, later (another node, after the first answer was lost): nothing counts twice.
      expect((await sessions.end(g.id, { ...report, now: 9000 })).endedNow).toBe(false);
      await expect(sessions.end(g.id, { ...report, bytesDirect: 99, now: 9000 })).rejects.toMatchObject({
        status: 409,
        code: "session_ended",
      });
      await expect(sessions.end(g.id, { ...report, reason: "again" })).rejects.toMatchObject({
        code: "session_ended",
      });
      expect(await sessions.accounting({})).toEqual(before);
    });

    test("end() by admin or node is logged without peer figures, and only while the session is active", async () => {
      const g = await sessions.issue(a, b, "store", 60, 1000);
      await sessions.addRelayBytes(g.id, 300);
      await sessions.end(g.id, { reporter: "admin", reason: "maintenance", now: 2000 });
      await expect(
        sessions.end(g.id, { reporter: "admin", reason: "again", now: 2500 }),
      ).rejects.toMatchObject({
        code: "session_ended",
      });
      // The peers still report afterwards, into the same row; relay is capped at what the node carried.
      await sessions.end(g.id, { reporter: a, reason: "ended by the node", bytesRelay: 1000, now: 3000 });
      const [row, ...more] = await sessions.accounting({});
      expect(more).toEqual([]);
      expect(row).toMatchObject({
        reason: "maintenance",
        endedBy: "admin",
        endedAt: 2000,
        bytesRelayNode: 300,
        caller: { reason: "ended by the node", bytesRelay: 300, reportedAt: 3000 },
        callee: null,
      });
      expect(row?.caller?.note).toContain("capped at the 300 the node carried (reported 1000)");
    });

    test("sweep() ends expired leases as reporter node", async () => {
      const g = await sessions.issue(a, b, "live", 0, 0);
      expect(await sessions.sweep(3599_999)).toEqual([]);
      expect(await sessions.sweep(3600_000)).toEqual([g.id]);
      expect(await sessions.accounting({})).toEqual([
        expect.objectContaining({ endedBy: "node", reason: "expired", caller: null, callee: null }),
      ]);
    });
  });

  describe("SessionStore.revoke() (issue 21 item 3)", () => {
    for (const mode of ["live", "store"] as const) {
      test(`revoke() ends a ${mode} session, drops its undelivered grant, logs it once and refuses extension`, async () => {
        const g = await sessions.issue(a, b, mode, 60, 1000);
        if (mode === "store")
          await sessions.end(g.id, { reporter: a, reason: "uploaded", bytesRelay: 10, now: 2000 });
        expect((await sessions.live(b, "callee", 0)).map((s) => s.id)).toEqual([g.id]);
        await sessions.revoke(g.id, 3000);
        await sessions.revoke(g.id, 4000);
        expect(await sessions.get(g.id)).toMatchObject({ state: "ended", revoked: true });
        expect(await sessions.takePending(b, 3000)).toEqual([]);
        expect(await sessions.live(b, "callee", 0)).toEqual([]);
        // One row: a live session ended by the revocation; a store session ended by its sender, marked revoked.
        expect(await sessions.accounting({})).toEqual([
          expect.objectContaining(
            mode === "live"
              ? { endedBy: "node", reason: "revoked", revokedAt: 3000 }
              : { endedBy: a, reason: "uploaded", revokedAt: 3000 },
          ),
        ]);
        await expect(sessions.extend(a, g.id, 3000)).rejects.toMatchObject({ code: "extension_refused" });
      });
    }
  });
  describe("SessionStore.issueOnce(): a retried QUERY", () => {
    test("a retry with the same key supersedes the earlier session: one live session, one accounting row for the old", async () => {
      const retry = (queryAt: number) => ({ key: "query-key-0001", queryAt });
      const first = await sessions.issueOnce({
        callerId: a,
        calleeId: b,
        mode: "live",
        deliverWithinSec: 0,
        now: 1000,
        retry: retry(1000),
      });
      const second = await sessions.issueOnce({
        callerId: a,
        calleeId: b,
        mode: "live",
        deliverWithinSec: 0,
        now: 1500,
        retry: retry(1500),
      });
      expect(first.superseded).toEqual([]);
      expect(second.superseded).toEqual([first.grant.id]);
      expect(second.grant.password).not.toBe(first.grant.password);
      expect(await sessions.statusFor(a, first.grant.id)).toMatchObject({
        state: "ended",
        reason: "superseded",
      });
      expect(await sessions.statusFor(a, second.grant.id)).toMatchObject({ state: "active" });
      // The callee is handed only the live session's grant; the superseded one's was deleted with it.
      expect((await sessions.takePending(b, 1600)).map((g) => g.id)).toEqual([second.grant.id]);
      const log = await sessions.accounting({});
      expect(log.filter((e) => e.sessionId === first.grant.id)).toEqual([
        expect.objectContaining({ endedBy: "node", reason: "superseded", caller: null, callee: null }),
      ]);
      expect(log.filter((e) => e.sessionId === second.grant.id)).toEqual([]);
      // A third attempt supersedes the second; another key, or another caller, supersedes nothing.
      const third = await sessions.issueOnce({
        callerId: a,
        calleeId: b,
        mode: "live",
        deliverWithinSec: 0,
        now: 2000,
        retry: retry(2000),
      });
      expect(third.superseded).toEqual([second.grant.id]);
      const other = await sessions.issueOnce({
        callerId: c,
        calleeId: b,
        mode: "live",
        deliverWithinSec: 0,
        now: 2000,
        retry: retry(2000),
      });
      expect(other.superseded).toEqual([]);
      expect(await sessions.activeCount()).toBe(2);
    });

    test("an attempt that reached a node before a later one already issued is refused 409 superseded", async () => {
      const key = "query-key-0002";
      await sessions.issueOnce({
        callerId: a,
        calleeId: b,
        mode: "store",
        deliverWithinSec: 60,
        now: 2000,
        retry: { key, queryAt: 2000 },
      });
      const late = await sessions
        .issueOnce({
          callerId: a,
          calleeId: b,
          mode: "store",
          deliverWithinSec: 60,
          now: 2100,
          retry: { key, queryAt: 1900 },
        })
        .catch((e: unknown) => e);
      expect(late).toMatchObject({ status: 409, code: "superseded" });
      expect(await sessions.activeCount()).toBe(1);
    });

    test("concurrent attempts of one key leave exactly one active session", async () => {
      const key = "query-key-0003";
      const all = await Promise.allSettled(
        [1, 2, 3, 4].map((i) =>
          sessions.issueOnce({
            callerId: a,
            calleeId: b,
            mode: "live",
            deliverWithinSec: 0,
            now: 3000 + i,
            retry: { key, queryAt: 3000 + i },
          }),
        ),
      );
      expect(all.some((r) => r.status === "fulfilled")).toBe(true);
      expect(await sessions.activeCount()).toBe(1);
    });
  });
});
