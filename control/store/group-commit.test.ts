/** @module Tests for GroupCommit: the writes of one turn share a transaction and are answered once stored; a failing write fails alone; on both backends. */
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
