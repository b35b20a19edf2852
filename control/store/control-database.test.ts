/** @module Tests for the control database: migrations applied once, versions per component, failed migrations rolled back, on sqlite and PostgreSQL. */
import { describe, expect, test } from "bun:test";
import { storeBackend } from "../../test/support/store-backends.ts";
import { MIGRATIONS, migrate, openControlDatabase, schemaVersion } from "./control-database.ts";
import { openControlStore } from "./open-control-store.ts";
import { PostgresDriver } from "./postgres-driver.ts";
import { migratePostgres, POSTGRES_MIGRATIONS } from "./postgres-schema.ts";

test("openControlDatabase() applies every migration once and records the version", () => {
  const db = openControlDatabase(":memory:");
  expect(schemaVersion(db)).toBe(MIGRATIONS.length);
  migrate(db); // a second run is a no-op, not a "table exists" error
  expect(schemaVersion(db)).toBe(MIGRATIONS.length);
  db.close();
});

test("migrate() keeps components' versions apart and refuses a newer schema", () => {
  const db = openControlDatabase(":memory:");
  migrate(db, ["CREATE TABLE relay_x (a)"], "relay");
  expect(schemaVersion(db, "relay")).toBe(1);
  expect(schemaVersion(db)).toBe(MIGRATIONS.length);
  db.run("UPDATE schema_migrations SET version = 99 WHERE component = 'control'");
  expect(() => migrate(db)).toThrow(RangeError);
  db.close();
});

test("migrate() rolls back a failing migration whole", () => {
  const db = openControlDatabase(":memory:");
  expect(() => migrate(db, ["CREATE TABLE t1 (a); CREATE TABLE t1 (b);"], "broken")).toThrow();
  expect(schemaVersion(db, "broken")).toBe(0);
  expect(db.query("SELECT name FROM sqlite_master WHERE name = 't1'").get()).toBeNull();
  db.close();
});

describe("PostgreSQL schema", () => {
  const backend = storeBackend("postgres");

  test("migratePostgres() applies once, also from nodes starting together, and the nonce table is UNLOGGED", async () => {
    const url = await backend.freshSpec("");
    const dbs = await Promise.all([openControlStore(url), openControlStore(url), openControlStore(url)]);
    try {
      const one = dbs[0]!;
      expect(await one.get("SELECT version FROM schema_migrations WHERE component = 'control'")).toEqual({
        version: POSTGRES_MIGRATIONS.length,
      });
      expect(await one.get("SELECT relpersistence AS p FROM pg_class WHERE relname = 'nonces'")).toEqual({
        p: "u",
      });
      expect(await one.get("SELECT relpersistence AS p FROM pg_class WHERE relname = 'sessions'")).toEqual({
        p: "p",
      });
    } finally {
      for (const db of dbs) await db.close();
    }
  });

  test("migratePostgres() refuses a newer schema and rolls back a failing migration whole", async () => {
    const db = new PostgresDriver(await backend.freshSpec(""));
    try {
      await migratePostgres(db);
      await db.run("UPDATE schema_migrations SET version = 99 WHERE component = 'control'");
      await expect(migratePostgres(db)).rejects.toBeInstanceOf(RangeError);
      await db.run("UPDATE schema_migrations SET version = ? WHERE component = 'control'", [
        POSTGRES_MIGRATIONS.length,
      ]);
      const broken = [...POSTGRES_MIGRATIONS, "CREATE TABLE t1 (a int); CREATE TABLE t1 (b int);"];
      await expect(migratePostgres(db, broken)).rejects.toThrow();
      expect(await db.get("SELECT to_regclass('t1') AS t")).toEqual({ t: null });
      expect(await db.get("SELECT version FROM schema_migrations WHERE component = 'control'")).toEqual({
        version: POSTGRES_MIGRATIONS.length,
      });
    } finally {
      await db.close();
    }
  });
});
