/** @module Tests for GroupCommit: the writes of one turn share a transaction and are answered once stored; a write queued with later() rides the next; a failing write fails alone; on both backends. */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { STORE_BACKENDS, storeBackend } from "../../test/support/store-backends.ts";
import { GroupCommit } from "./group-commit.ts";
import { openControlStore } from "./open-control-store.ts";

describe.each(STORE_BACKENDS)("GroupCommit on %s", (kind) => {
  const backend = storeBackend(kind);
  const insert = (token: string) =>
    "INSERT INTO enrollment_tokens (token_hash, expires_at) VALUES (?, 1) RETURNING token_hash AS t".replace(
      "?",
      `'${token}'`,
    );

  test("run() answers each write of a turn with its own result, once its transaction has committed", async () => {
    const db = await backend.open();
    const group = GroupCommit.of(db);
    expect(GroupCommit.of(db)).toBe(group);
    const names = Array.from({ length: 300 }, (_, i) => `t${i}`);
    const got = await Promise.all(
      names.map((n) => group.run(async (tx) => (await tx.get<{ t: string }>(insert(n)))!.t)),
    );
    expect(got).toEqual(names);
    // Stored, as seen through the driver (outside any transaction).
    expect((await db.get<{ n: number }>("SELECT count(*) AS n FROM enrollment_tokens"))!.n).toBe(300);
  });

  test("the writes of one turn share one transaction: none is visible to another connection before the last", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pvrlink-group-commit-"));
    try {
      const spec = await backend.freshSpec(join(dir, "control.db"));
      const db = await openControlStore(spec);
      const other = await openControlStore(spec);
      const group = GroupCommit.of(db);
      const count = async () =>
        (await other.get<{ n: number }>("SELECT count(*) AS n FROM enrollment_tokens"))!.n;
      const seen = await Promise.all(
        ["a", "b", "c"].map((n) =>
          group.run(async (tx) => {
            await tx.get(insert(n));
            return count();
          }),
        ),
      );
      expect(seen).toEqual([0, 0, 0]);
      // On sqlite a driver's SELECTs of one turn share one read transaction (sqlite-driver.ts), so the other
      // connection sees the commit from its next turn on.
      await new Promise((resolve) => setImmediate(resolve));
      expect(await count()).toBe(3);
      await other.close();
      await db.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("later() starts no transaction: its write commits with the next run(), or when commit() is called", async () => {
    const db = await backend.open();
    const group = GroupCommit.of(db);
    const count = async () => (await db.get<{ n: number }>("SELECT count(*) AS n FROM enrollment_tokens"))!.n;
    const rides = group.later(async (tx) => (await tx.get<{ t: string }>(insert("rides")))!.t);
    // Turns pass, nothing commits it on its own.
    for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(await count()).toBe(0);
    // A run() of a later turn carries it: both are stored once that run() answers.
    expect(await group.run(async (tx) => (await tx.get<{ t: string }>(insert("carrier")))!.t)).toBe(
      "carrier",
    );
    expect(await count()).toBe(2);
    expect(await rides.commit()).toBe("rides");
    // commit() alone starts a transaction for a write still waiting, and answers its result once stored.
    const alone = group.later(async (tx) => (await tx.get<{ t: string }>(insert("alone")))!.t);
    expect(await alone.commit()).toBe("alone");
    expect(await count()).toBe(3);
  });

  test("a later() write that throws fails alone, on commit(), and the run() it rode with is stored", async () => {
    const db = await backend.open();
    const group = GroupCommit.of(db);
    await group.run(async (tx) => tx.get(insert("dup")));
    const bad = group.later(async (tx) => tx.get(insert("dup")));
    expect(await group.run(async (tx) => (await tx.get<{ t: string }>(insert("ok")))!.t)).toBe("ok");
    await expect(bad.commit()).rejects.toThrow();
    const rows = await db.all<{ token_hash: string }>(
      "SELECT token_hash FROM enrollment_tokens ORDER BY token_hash",
    );
    expect(rows.map((r) => r.token_hash)).toEqual(["dup", "ok"]);
  });

  test("a write that throws fails alone: the others of its turn are stored and answered", async () => {
    const db = await backend.open();
    const group = GroupCommit.of(db);
    const outcomes = await Promise.allSettled(
      ["x", "dup", "dup", "y"].map((n) =>
        group.run(async (tx) => (await tx.get<{ t: string }>(insert(n)))!.t),
      ),
    );
    expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "fulfilled", "rejected", "fulfilled"]);
    const rows = await db.all<{ token_hash: string }>(
      "SELECT token_hash FROM enrollment_tokens ORDER BY token_hash",
    );
    expect(rows.map((r) => r.token_hash)).toEqual(["dup", "x", "y"]);
  });
});
