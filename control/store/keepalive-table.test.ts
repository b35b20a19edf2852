/** @module Tests for KeepaliveTable on both backends: connected while fresher than three intervals, persisted by batch. */
import { describe, expect, test } from "bun:test";
import { STORE_BACKENDS, storeBackend } from "../../test/support/store-backends.ts";
import { DeviceStore } from "./device-store.ts";
import { KeepaliveTable } from "./keepalive-table.ts";

describe.each(STORE_BACKENDS)("KeepaliveTable on %s", (kind) => {
  const backend = storeBackend(kind);

  test("connected while fresher than 3 intervals, persisted by flush()", async () => {
    const db = await backend.open();
    const a = (await new DeviceStore(db).enroll("a")).id;
    const t = await KeepaliveTable.load(db, 3);
    expect(t.isConnected(a, 0)).toBe(false);
    t.record(a, "198.51.100.1", 40000, 25, 1000);
    expect(t.isConnected(a, 1000 + 74_999)).toBe(true);
    expect(t.isConnected(a, 1000 + 75_000)).toBe(false);
    t.record("dev_deleted", "198.51.100.2", 1, 25, 1000);
    expect(await t.flush()).toBe(2);
    expect(await t.flush()).toBe(0);
    t.record(a, "198.51.100.3", 40001, 30, 2000);
    expect(await t.flush()).toBe(1);
    const reloaded = await KeepaliveTable.load(db, 3);
    expect(reloaded.get(a)).toEqual({ address: "198.51.100.3", port: 40001, intervalSec: 30, at: 2000 });
    expect(reloaded.get("dev_deleted")).toBeNull(); // unknown devices are not persisted
  });
});
