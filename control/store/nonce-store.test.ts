/** @module Tests for NonceStore: replays refused and pruned on both backends, and a full sqlite database that keeps nonces in memory instead of failing. */
import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { STORE_BACKENDS, storeBackend } from "../../test/support/store-backends.ts";
import { MIGRATIONS, migrate, openControlDatabase } from "./control-database.ts";
import { isDiskFull } from "./disk-full.ts";
import { GroupCommit } from "./group-commit.ts";
import { NonceStore, PRUNE_BATCH } from "./nonce-store.ts";
import { openControlStore } from "./open-control-store.ts";
import { SqliteDriver } from "./sqlite-driver.ts";

describe.each(STORE_BACKENDS)("NonceStore on %s", (kind) => {
  const backend = storeBackend(kind);

  test("remember() accepts a nonce once per device", async () => {
    const nonces = new NonceStore(await backend.open(), 60_000);
    expect([
      await nonces.remember("d1", "n", 1),
      await nonces.remember("d1", "n", 2),
      await nonces.remember("d2", "n", 3),
    ]).toEqual([true, false, true]);
  });

  test("remember() of one nonce twice at once accepts it once", async () => {
    const nonces = new NonceStore(await backend.open(), 60_000);
    const both = await Promise.all([nonces.remember("d1", "n", 1), nonces.remember("d1", "n", 1)]);
    expect(both.sort()).toEqual([false, true]);
  });

  test("remember() of 450 nonces in one turn answers each: fresh ones true, a repeat within the turn and a stored nonce false", async () => {
    const nonces = new NonceStore(await backend.open(), 60_000);
    expect(await nonces.remember("d1", "old", 1)).toBe(true);
    // 450 nonces in one turn span two shared transactions (GroupCommit takes 256 at a time); "dup" comes first and again last.
    const asks: Array<[string, string, boolean]> = [
      ["d1", "old", false],
      ["d1", "dup", true],
      ...Array.from({ length: 446 }, (_, i): [string, string, boolean] => [`d${i % 7}`, `n${i}`, true]),
      ["d2", "old", true],
      ["d1", "dup", false],
    ];
    const got = await Promise.all(asks.map(([d, n]) => nonces.remember(d, n, 2)));
    // The two transactions may run at once on PostgreSQL (two connections), so either copy of "dup" may be the one
    // accepted: exactly one is. Every other answer is fixed.
    const dups = [got[1], got.at(-1)];
    expect(dups.filter(Boolean)).toEqual([true]);
    expect(got.slice(2, -1)).toEqual(asks.slice(2, -1).map(([, , fresh]) => fresh));
    expect(got[0]).toBe(false);
  });

  test("remember() has stored the nonce when it answers: a new NonceStore on the same store refuses it", async () => {
    const db = await backend.open();
    const answers = await Promise.all(
      ["a", "b", "c"].map((n) => new NonceStore(db, 60_000).remember("d1", n, 1)),
    );
    expect(answers).toEqual([true, true, true]);
    const restarted = new NonceStore(db, 60_000);
    expect(await Promise.all(["a", "b", "c", "d"].map((n) => restarted.remember("d1", n, 2)))).toEqual([
      false,
      false,
      false,
      true,
    ]);
  });

  test("take() refuses a copy at once, before the first is stored; stored() has it in the store for a restart", async () => {
    const db = await backend.open();
    const nonces = new NonceStore(db, 60_000);
    const claim = await nonces.take("d1", "n", 1);
    expect(claim).not.toBeNull();
    expect(await nonces.take("d1", "n", 1)).toBeNull();
    await claim!.stored();
    // The row a restarted node reads (sqlite keeps its nonces as a log, PostgreSQL as a keyed table).
    const table = kind === "sqlite" ? "nonce_log" : "nonces";
    const row = await db.get(`SELECT 1 AS one FROM ${table} WHERE device_id = 'd1' AND nonce = 'n'`);
    expect(row).toEqual({ one: 1 });
  });

  test("prune() drops nonces older than twice the window, and only those", async () => {
    const nonces = new NonceStore(await backend.open(), 1000);
    await nonces.remember("d1", "old", 0);
    await nonces.remember("d1", "new", 1500);
    expect(await nonces.prune(2001)).toBe(1);
    expect(await nonces.remember("d1", "old", 2002)).toBe(true);
    expect(await nonces.remember("d1", "new", 2002)).toBe(false);
  });

  test("prune() of more than one batch drops every old nonce, statement by statement, and keeps the new ones", async () => {
    const db = await backend.open();
    const nonces = new NonceStore(db, 1000);
    const old = 2 * PRUNE_BATCH + 7;
    // sqlite keeps its nonces as a log (nonce-store.ts); PostgreSQL as a table keyed by (device_id, nonce).
    const table = kind === "sqlite" ? "nonce_log" : "nonces";
    await db.transaction(async (tx) => {
      for (let i = 0; i < old; i++)
        await tx.run(`INSERT INTO ${table} (device_id, nonce, seen_at) VALUES (?, ?, ?)`, [
          `d${i % 3}`,
          `o${i}`,
          i % 500,
        ]);
      for (let i = 0; i < 5; i++)
        await tx.run(`INSERT INTO ${table} (device_id, nonce, seen_at) VALUES (?, ?, 9000)`, ["d1", `n${i}`]);
    });
    // Outside twice the 1 s window at 10 s: every row before 8000.
    expect(await nonces.prune(10_000)).toBe(old);
    expect((await db.get<{ n: number }>(`SELECT count(*) AS n FROM ${table}`))!.n).toBe(5);
    expect(await nonces.prune(10_000)).toBe(0);
  });
});

test("NonceStore.remember() on a full sqlite database keeps refusing replays, from memory, and prune() ages them out", async () => {
  const db = openControlDatabase(":memory:");
  const nonces = new NonceStore(new SqliteDriver(db), 1000);
  expect(await nonces.remember("d1", "before", 0)).toBe(true);
  // sqlite's page cap stands in for a full disk: every insert now fails with SQLITE_FULL.
  const pages = db.query<{ page_count: number }, []>("PRAGMA page_count").get()!.page_count;
  db.run(`PRAGMA max_page_count = ${pages}`);
  let full: unknown;
  try {
    for (let i = 0; i < 10_000; i++) db.run("INSERT INTO nonce_log VALUES (0, 'x', ?)", [String(i)]);
  } catch (err) {
    full = err;
  }
  expect(isDiskFull(full)).toBe(true);
  expect(await nonces.remember("d1", "before", 10)).toBe(false);
  expect(await nonces.remember("d1", "during", 10)).toBe(true);
  expect(await nonces.remember("d1", "during", 11)).toBe(false);
  await nonces.prune(10 + 2 * 1000 + 1);
  expect(await nonces.remember("d1", "during", 3000)).toBe(true);
  db.close();
});

test("NonceStore on sqlite: a nonce stored before a restart (a new connection to the file) is refused after it, and one pruned is not", async () => {
  const dir = mkdtempSync(join(tmpdir(), "pvrlink-nonces-"));
  try {
    const path = join(dir, "control.db");
    const first = new SqliteDriver(openControlDatabase(path));
    const before = new NonceStore(first, 1000);
    expect(await before.remember("d1", "old", 0)).toBe(true);
    expect(await Promise.all(["a", "b"].map((n) => before.remember("d1", n, 5000)))).toEqual([true, true]);
    await first.close();
    await using second = new SqliteDriver(openControlDatabase(path));
    const after = new NonceStore(second, 1000);
    expect(await after.prune(2500)).toBe(1);
    const asks: Array<[string, boolean]> = [
      ["a", false],
      ["b", false],
      ["old", true],
      ["c", true],
      ["c", false],
    ];
    const got: boolean[] = [];
    for (const [n] of asks) got.push(await after.remember("d1", n, 5001));
    expect(got).toEqual(asks.map(([, fresh]) => fresh));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("NonceStore.take() on sqlite: the nonce's row waits for the next shared commit, and stored() starts one if none comes", async () => {
  const db = await openControlStore(":memory:");
  try {
    const nonces = new NonceStore(db, 60_000);
    const logged = async () => (await db.get<{ n: number }>("SELECT count(*) AS n FROM nonce_log"))!.n;
    const rides = await nonces.take("d1", "rides", 1);
    await new Promise((resolve) => setImmediate(resolve));
    expect(await logged()).toBe(0);
    // Another write of the node (a QUERY's session) carries it.
    await GroupCommit.of(db).run((tx) =>
      tx.run("INSERT INTO enrollment_tokens (token_hash, expires_at) VALUES ('t', 1)"),
    );
    expect(await logged()).toBe(1);
    await rides!.stored();
    const alone = await nonces.take("d1", "alone", 1);
    await alone!.stored();
    expect(await logged()).toBe(2);
  } finally {
    await db.close();
  }
});

test("the sqlite migration to nonce_log keeps the window's nonces: a replay after the upgrade is refused", () => {
  const db = new Database(":memory:");
  // Up to the version before nonce_log, wherever later migrations put it.
  const toLog = MIGRATIONS.findIndex((m) => m.includes("CREATE TABLE nonce_log"));
  expect(toLog).toBeGreaterThan(0);
  migrate(db, MIGRATIONS.slice(0, toLog));
  db.run("INSERT INTO nonces (device_id, nonce, seen_at) VALUES ('d1', 'kept', 7)");
  migrate(db);
  expect(db.query("SELECT seen_at, device_id, nonce FROM nonce_log").all()).toEqual([
    { seen_at: 7, device_id: "d1", nonce: "kept" },
  ]);
  expect(db.query("SELECT name FROM sqlite_master WHERE name = 'nonces'").get()).toBeNull();
  db.close();
});

test("isDiskFull() knows sqlite's and the filesystem's full, and nothing else", () => {
  const cases: [unknown, boolean][] = [
    [Object.assign(new Error("database or disk is full"), { code: "SQLITE_FULL" }), true],
    [Object.assign(new Error("x"), { code: "ENOSPC" }), true],
    [Object.assign(new Error("x"), { code: "EDQUOT" }), true],
    [Object.assign(new Error("x"), { code: "SQLITE_BUSY" }), false],
    [new Error("boom"), false],
    [null, false],
  ];
  for (const [err, want] of cases) expect(isDiskFull(err)).toBe(want);
});
