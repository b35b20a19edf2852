/** @module Tests for WalCheckpointer: commits on the serving connection leave the WAL to the checkpoint thread, which copies it home; stop() closes its connection. */
import type { Database } from "bun:sqlite";
import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { waitFor } from "../../demo/wait-for.ts";
import { openControlDatabase } from "./control-database.ts";
import { openControlStore } from "./open-control-store.ts";
import type { SqliteDriver } from "./sqlite-driver.ts";
import { FALLBACK_AUTOCHECKPOINT_PAGES, WAL_SIZE_LIMIT_BYTES, WalCheckpointer } from "./wal-checkpointer.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function freshPath(): string {
  const dir = mkdtempSync(join(tmpdir(), "pvrlink-checkpoint-"));
  dirs.push(dir);
  return join(dir, "control.db");
}

/** Commits `n` transactions of one 4000-byte row each: about one WAL page per row, plus the commit's own. */
function commitRows(db: Database, n: number, from = 0): void {
  const insert = db.prepare("INSERT INTO enrollment_tokens (token_hash, expires_at) VALUES (?, 0)");
  for (let i = from; i < from + n; i++) insert.run(`${i}:${"x".repeat(4000)}`);
  insert.finalize();
}

const walBytes = (path: string) => statSync(`${path}-wal`).size;

describe("WalCheckpointer", () => {
  test("start() raises the serving connection's automatic checkpoint to the fallback bound", async () => {
    const path = freshPath();
    const db = openControlDatabase(path);
    expect(db.query<{ wal_autocheckpoint: number }, []>("PRAGMA wal_autocheckpoint").get()).toEqual({
      wal_autocheckpoint: 1000,
    });
    const c = WalCheckpointer.start(db, path);
    expect(db.query<{ wal_autocheckpoint: number }, []>("PRAGMA wal_autocheckpoint").get()).toEqual({
      wal_autocheckpoint: FALLBACK_AUTOCHECKPOINT_PAGES,
    });
    await c.stop();
    db.close();
  });

  test("a commit past sqlite's default 1000 pages does not checkpoint: the WAL keeps growing until the thread runs", async () => {
    const path = freshPath();
    const db = openControlDatabase(path);
    // The thread's first run is far away: only the serving connection's commits touch the WAL here.
    const c = WalCheckpointer.start(db, path, 3_600_000);
    commitRows(db, 3000);
    // With the default automatic checkpoint the WAL would have started over after about 1000 pages.
    expect(walBytes(path)).toBeGreaterThan(2500 * 4096);
    await c.stop();
    db.close();
  });

  test("the thread copies every committed frame home, and the serving connection's next write starts the WAL over", async () => {
    const path = freshPath();
    const db = openControlDatabase(path);
    const c = WalCheckpointer.start(db, path, 5);
    commitRows(db, 1500);
    const size = walBytes(path);
    // Reports queued during the commits describe the WAL part-way; a run after them finds the same WAL as the
    // run before it, every frame copied.
    let last = { runs: -1, log: -1 };
    await waitFor(
      "a checkpoint of every frame of the 1500 commits",
      () => {
        const { runs, log, checkpointed } = c.stats;
        const settled = runs > last.runs && log === last.log && checkpointed === log;
        last = { runs, log };
        return settled;
      },
      { timeoutMs: 20_000 },
    );
    expect(c.stats.log).toBeGreaterThan(1500);
    expect(c.stats.checkpointed).toBe(c.stats.log);
    expect(c.stats.lastError).toBeNull();
    // Everything was copied, so the next writes reuse the WAL from its start instead of growing it. (The thread
    // is stopped first: a write that meets its checkpoint in progress appends instead, and tries again later.)
    await c.stop();
    commitRows(db, 100, 1500);
    expect(walBytes(path)).toBe(size);
    db.close();
  }, 30_000);

  test("start() cuts an idle WAL file back past the limit on its thread, never in a commit", async () => {
    const path = freshPath();
    const db = openControlDatabase(path);
    const limit = 1024 * 1024;
    const c = WalCheckpointer.start(db, path, 5, { walSizeLimitBytes: limit });
    // The serving connection keeps the file whole when a commit starts the WAL over: no ftruncate on the loop.
    expect(db.query<{ journal_size_limit: number }, []>("PRAGMA journal_size_limit").get()).toEqual({
      journal_size_limit: -1,
    });
    commitRows(db, 1500);
    expect(walBytes(path)).toBeGreaterThan(4 * limit);
    await waitFor(
      "the idle WAL cut back by the thread",
      () => c.stats.truncations > 0 && walBytes(path) <= limit,
      {
        timeoutMs: 20_000,
      },
    );
    expect(c.stats.lastError).toBeNull();
    // Writes go on after the cut, every row kept.
    commitRows(db, 10, 1500);
    expect(db.query<{ n: number }, []>("SELECT count(*) AS n FROM enrollment_tokens").get()).toEqual({
      n: 1510,
    });
    await c.stop();
    db.close();
  }, 30_000);

  test("start() leaves a WAL file under the limit as it is", async () => {
    const path = freshPath();
    const db = openControlDatabase(path);
    const c = WalCheckpointer.start(db, path, 5, { walSizeLimitBytes: 64 * 1024 * 1024 });
    commitRows(db, 200);
    const size = walBytes(path);
    expect(size).toBeGreaterThan(0);
    await waitFor("every frame home, twice", () => c.stats.runs > 3 && c.stats.checkpointed === c.stats.log, {
      timeoutMs: 20_000,
    });
    const runs = c.stats.runs;
    await waitFor("two more runs", () => c.stats.runs >= runs + 2, { timeoutMs: 20_000 });
    expect({ truncations: c.stats.truncations, size: walBytes(path) }).toEqual({ truncations: 0, size });
    await c.stop();
    db.close();
  }, 30_000);

  test("start() refuses a negative WAL limit, and its default is WAL_SIZE_LIMIT_BYTES", async () => {
    const path = freshPath();
    const db = openControlDatabase(path);
    expect(() => WalCheckpointer.start(db, path, 5, { walSizeLimitBytes: -1 })).toThrow(RangeError);
    const c = WalCheckpointer.start(db, path);
    expect(WAL_SIZE_LIMIT_BYTES).toBe(64 * 1024 * 1024);
    await c.stop();
    db.close();
  });

  test("stop() closes the thread's connection (idempotent); the database then closes and reopens intact", async () => {
    const path = freshPath();
    const db = openControlDatabase(path);
    const c = WalCheckpointer.start(db, path, 1);
    commitRows(db, 200);
    await waitFor("a first run", () => c.stats.runs > 0);
    await Promise.all([c.stop(), c.stop()]);
    const runs = c.stats.runs;
    db.close();
    const again = openControlDatabase(path);
    expect(again.query<{ n: number }, []>("SELECT count(*) AS n FROM enrollment_tokens").get()!.n).toBe(200);
    expect(again.query<{ integrity_check: string }, []>("PRAGMA integrity_check").get()).toEqual({
      integrity_check: "ok",
    });
    again.close();
    expect(c.stats.runs).toBe(runs);
  });

  test("a thread whose database cannot be opened reports why, and stop() does not wait for it", async () => {
    const path = freshPath();
    const db = openControlDatabase(path);
    const c = WalCheckpointer.start(db, join(path, "not-a-directory", "x.db"), 1);
    await waitFor("the thread's error", () => c.stats.lastError);
    expect(c.stats.lastError).toMatch(/unable to open|no such file|SQLITE_CANTOPEN/i);
    const t0 = performance.now();
    await c.stop();
    expect(performance.now() - t0).toBeLessThan(1000);
    db.close();
  });

  test("openControlStore() starts the thread for a serving node only, and close() stops it", async () => {
    const path = freshPath();
    const autocheckpoint = (db: SqliteDriver) =>
      db.database.query<{ wal_autocheckpoint: number }, []>("PRAGMA wal_autocheckpoint").get()!
        .wal_autocheckpoint;
    const command = (await openControlStore(path)) as SqliteDriver;
    expect(autocheckpoint(command)).toBe(1000);
    await command.close();
    const serving = (await openControlStore(path, { checkpointThread: true })) as SqliteDriver;
    expect(autocheckpoint(serving)).toBe(FALLBACK_AUTOCHECKPOINT_PAGES);
    await serving.close();
  });
});
