/** @module Tests for the control database: migrations applied once, versions per component, failed migrations rolled back. */
import { expect, test } from "bun:test";
import { MIGRATIONS, migrate, openControlDatabase, schemaVersion } from "./control-database.ts";

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
