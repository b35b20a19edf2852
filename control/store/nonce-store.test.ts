/** @module Tests for NonceStore: replays refused, pruning, and a full database that keeps nonces in memory instead of failing. */
import { expect, test } from "bun:test";
import { openControlDatabase } from "./control-database.ts";
import { isDiskFull } from "./disk-full.ts";
import { NonceStore } from "./nonce-store.ts";

test("NonceStore.remember() accepts a nonce once per device", () => {
  using db = openControlDatabase(":memory:");
  const nonces = new NonceStore(db, 60_000);
  expect([
    nonces.remember("d1", "n", 1),
    nonces.remember("d1", "n", 2),
    nonces.remember("d2", "n", 3),
  ]).toEqual([true, false, true]);
});

test("NonceStore.remember() on a full database keeps refusing replays, from memory, and prune() ages them out", () => {
  using db = openControlDatabase(":memory:");
  const nonces = new NonceStore(db, 1000);
  expect(nonces.remember("d1", "before", 0)).toBe(true);
  // sqlite's page cap stands in for a full disk: every insert now fails with SQLITE_FULL.
  const pages = db.query<{ page_count: number }, []>("PRAGMA page_count").get()!.page_count;
  db.run(`PRAGMA max_page_count = ${pages}`);
  let full: unknown;
  try {
    for (let i = 0; i < 10_000; i++) db.run("INSERT INTO nonces VALUES ('x', ?, 0)", [String(i)]);
  } catch (err) {
    full = err;
  }
  expect(isDiskFull(full)).toBe(true);
  expect(nonces.remember("d1", "before", 10)).toBe(false);
  expect(nonces.remember("d1", "during", 10)).toBe(true);
  expect(nonces.remember("d1", "during", 11)).toBe(false);
  nonces.prune(10 + 2 * 1000 + 1);
  expect(nonces.remember("d1", "during", 3000)).toBe(true);
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
