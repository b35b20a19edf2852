/** @module Tests for AccountingStore: one row per session, reports merged once each, also when they race through two nodes, on sqlite and PostgreSQL. */
import { describe, expect, test } from "bun:test";
import { STORE_BACKENDS, storeBackend } from "../../test/support/store-backends.ts";
import { AccountingStore, checkReportedBytes, type SessionEnd } from "./accounting-store.ts";
import { DeviceStore } from "./device-store.ts";
import { openControlStore } from "./open-control-store.ts";
import { SessionStore } from "./session-store.ts";

const lease = {
  durationSec: 3600,
  connectWindowSec: 120,
  extensionSec: 1800,
  maxExtensions: 2,
  maxTotalSec: 6000,
};

describe.each(STORE_BACKENDS)("AccountingStore on %s", (kind) => {
  const backend = storeBackend(kind);

  test("the same end report racing through two nodes is counted once; the other peer's merges beside it", async () => {
    // Two nodes of one deployment: on PostgreSQL two pools on one database. sqlite is the single-node backend
    // (one process owns the file), so there the two reports race on its one connection.
    const spec = await backend.freshSpec(":memory:");
    await using one = await openControlStore(spec);
    await using two = kind === "postgres" ? await openControlStore(spec) : null;
    const devices = new DeviceStore(one);
    const a = (await devices.enroll("a")).id;
    const b = (await devices.enroll("b")).id;
    const nodes = [new SessionStore(one, lease), new SessionStore(two ?? one, lease)];
    const g = await nodes[0]!.issue(a, b, "live", 0, 1000);
    const report = { reporter: a, reason: "done", bytesDirect: 5000, directPath: "lan" as const, now: 4000 };
    const answers = await Promise.all(nodes.map((n) => n.end(g.id, report)));
    // Exactly one of them ended the session (and would trigger the peer); both answered.
    expect(answers.map((x) => x.endedNow).sort()).toEqual([false, true]);
    await nodes[1]!.end(g.id, { reporter: b, reason: "peer ended", bytesDirect: 4096, now: 4500 });
    const rows = await one.all<{ n: number }>("SELECT count(*) AS n FROM accounting WHERE session_id = ?", [
      g.id,
    ]);
    expect(rows).toEqual([{ n: 1 }]);
    expect(await nodes[1]!.accounting({})).toMatchObject([
      {
        sessionId: g.id,
        endedBy: a,
        caller: { bytesDirect: 5000, directPath: "lan", reportedAt: 4000 },
        callee: { bytesDirect: 4096, directPath: null, reportedAt: 4500 },
      },
    ]);
  });

  test("recordEnd() writes the node's part once; a later end only raises the relay count and marks a revocation", async () => {
    const db = await backend.open();
    const end: SessionEnd = {
      sessionId: "ses_x",
      callerId: "dev_a",
      calleeId: "dev_b",
      mode: "store",
      startedAt: 1000,
      endedAt: 2000,
      reason: "done",
      endedBy: "dev_a",
      bytesRelayNode: 50,
    };
    await db.transaction((tx) => AccountingStore.recordEnd(tx, end));
    await db.transaction((tx) =>
      AccountingStore.recordEnd(tx, {
        ...end,
        reason: "revoked",
        endedBy: "node",
        bytesRelayNode: 40,
        revokedAt: 3000,
      }),
    );
    await db.transaction((tx) =>
      AccountingStore.recordEnd(tx, { ...end, bytesRelayNode: 70, revokedAt: 9000 }),
    );
    expect(await new AccountingStore(db).list({})).toEqual([
      {
        sessionId: "ses_x",
        callerId: "dev_a",
        calleeId: "dev_b",
        mode: "store",
        startedAt: 1000,
        endedAt: 2000,
        durationMs: 1000,
        reason: "done",
        endedBy: "dev_a",
        revokedAt: 3000,
        bytesRelayNode: 70,
        caller: null,
        callee: null,
      },
    ]);
  });
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
