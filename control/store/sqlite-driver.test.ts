/** @module Tests for SqliteDriver's per-turn read transaction: SELECTs of a turn share one, and nothing else ever runs inside it. */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openControlStore } from "./open-control-store.ts";
import type { SqlDriver } from "./sql-driver.ts";
import type { SqliteDriver } from "./sqlite-driver.ts";

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));
const tokens = (db: SqlDriver) =>
  db.get<{ n: number }>("SELECT count(*) AS n FROM enrollment_tokens").then((r) => r!.n);
const addToken = (db: SqlDriver, t: string) =>
  db.run("INSERT INTO enrollment_tokens (token_hash, expires_at) VALUES (?, 1)", [t]);

/** A sqlite file (WAL needs one, not :memory:) with its checkpoint thread, as a serving node opens it. */
async function withFile(f: (db: SqliteDriver, path: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "pvrlink-sqlite-driver-"));
  try {
    const path = join(dir, "control.db");
    const db = await openControlStore(path, { checkpointThread: true });
    try {
      await f(db as SqliteDriver, path);
    } finally {
      await db.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("SqliteDriver", () => {
  test("the SELECTs of one turn share one read transaction, ended by the next turn", async () => {
    await withFile(async (db) => {
      expect(db.database.inTransaction).toBe(false);
      await tokens(db);
      await tokens(db);
      expect(db.database.inTransaction).toBe(true);
      await nextTurn();
      expect(db.database.inTransaction).toBe(false);
    });
  });

  // Each case reads first, so a read transaction is open when the statement under test runs in the same turn.
  const afterARead: Array<{ name: string; act: (db: SqlDriver) => Promise<unknown>; stored: number }> = [
    { name: "a write", act: (db) => addToken(db, "w"), stored: 1 },
    {
      name: "a transaction",
      act: (db) =>
        db.transaction(async (tx) => tx.run("INSERT INTO enrollment_tokens VALUES ('t', 1, NULL, 0)")),
      stored: 1,
    },
    {
      name: "a write through RETURNING (get)",
      act: (db) =>
        db.get("INSERT INTO enrollment_tokens (token_hash, expires_at) VALUES ('r', 1) RETURNING token_hash"),
      stored: 1,
    },
  ];
  for (const c of afterARead) {
    test(`${c.name} in the same turn as a SELECT runs on its own and the next SELECT sees it`, async () => {
      await withFile(async (db) => {
        expect(await tokens(db)).toBe(0);
        await c.act(db);
        // Committed on its own, not left inside the read transaction for the turn's end to commit.
        expect(db.database.inTransaction).toBe(false);
        expect(await tokens(db)).toBe(c.stored);
        await nextTurn();
        expect(await tokens(db)).toBe(c.stored);
      });
    });
  }

  test("a PRAGMA wal_checkpoint after a SELECT of its turn runs outside the read transaction", async () => {
    await withFile(async (db) => {
      await addToken(db, "a");
      await tokens(db);
      const r = await db.get<{ busy: number }>("PRAGMA wal_checkpoint(TRUNCATE)");
      expect(r!.busy).toBe(0);
    });
  });

  test("another connection's commit is seen from the reader's next turn", async () => {
    await withFile(async (db, path) => {
      const other = await openControlStore(path);
      try {
        expect(await tokens(db)).toBe(0);
        await addToken(other, "o");
        expect(await tokens(db)).toBe(0);
        await nextTurn();
        expect(await tokens(db)).toBe(1);
      } finally {
        await other.close();
      }
    });
  });
});
