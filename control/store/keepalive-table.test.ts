/** @module Tests for KeepaliveTable: connected while fresher than three intervals, persisted by batch. */
import { expect, test } from "bun:test";
import { openControlDatabase } from "./control-database.ts";
import { DeviceStore } from "./device-store.ts";
import { KeepaliveTable } from "./keepalive-table.ts";

test("KeepaliveTable: connected while fresher than 3 intervals, persisted by flush()", () => {
  const db = openControlDatabase(":memory:");
  const a = new DeviceStore(db).enroll("a").id;
  const t = new KeepaliveTable(db, 3);
  expect(t.isConnected(a, 0)).toBe(false);
  t.record(a, "198.51.100.1", 40000, 25, 1000);
  expect(t.isConnected(a, 1000 + 74_999)).toBe(true);
  expect(t.isConnected(a, 1000 + 75_000)).toBe(false);
  t.record("dev_deleted", "198.51.100.2", 1, 25, 1000);
  expect(t.flush()).toBe(2);
  expect(t.flush()).toBe(0);
  const reloaded = new KeepaliveTable(db, 3);
  expect(reloaded.get(a)).toEqual({ address: "198.51.100.1", port: 40000, intervalSec: 25, at: 1000 });
  expect(reloaded.get("dev_deleted")).toBeNull(); // unknown devices are not persisted
});
