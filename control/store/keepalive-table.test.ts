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

  test("an unchanged mapping is written again only once its stored time is two intervals old", async () => {
    const db = await backend.open();
    const a = (await new DeviceStore(db).enroll("a")).id;
    const t = await KeepaliveTable.load(db, 3);
    t.record(a, "198.51.100.1", 40000, 25, 0);
    expect(await t.flush()).toBe(1);
    const cases: Array<[number, number]> = [
      [25_000, 0], // one interval on: unchanged, the stored time still keeps it connected past the next keepalive
      [49_999, 0],
      [50_000, 1], // two intervals: written
      [75_000, 0],
    ];
    for (const [now, writes] of cases) {
      t.record(a, "198.51.100.1", 40000, 25, now);
      expect({ now, writes: await t.flush() }).toEqual({ now, writes });
    }
    // After a crash the reloaded time (50 s) keeps the device connected until past its next keepalive (100 s).
    const crashed = await KeepaliveTable.load(db, 3);
    expect(crashed.isConnected(a, 100_000)).toBe(true);
    // A changed mapping is written at once; a clean shutdown writes the newest time of every device.
    t.record(a, "198.51.100.2", 40000, 25, 80_000);
    expect(await t.flush()).toBe(1);
    t.record(a, "198.51.100.2", 40000, 25, 90_000);
    expect(await t.flush()).toBe(0);
    expect(await t.flush({ final: true })).toBe(1);
    expect((await KeepaliveTable.load(db, 3)).get(a)?.at).toBe(90_000);
  });

  test("flush() calls that overlap write each mapping, one flush at a time", async () => {
    const db = await backend.open();
    const devices = await new DeviceStore(db).enrollMany(Array.from({ length: 500 }, (_, i) => `o${i}`));
    const t = await KeepaliveTable.load(db, 3);
    devices.forEach((d, i) => {
      t.record(d.id, "198.51.100.1", 20_000 + i, 25, 1_000);
    });
    const first = t.flush();
    // Arrives while the first flush is between its steps: changed, so dirty again, and written by the second.
    t.record(devices[0]!.id, "198.51.100.2", 1, 25, 2_000);
    const second = t.flush();
    const order: string[] = [];
    const done = [first.then(() => order.push("first")), second.then(() => order.push("second"))];
    await Promise.all(done);
    // The second waited: unserialised, its one row would have been written while the first had steps to go.
    expect(order).toEqual(["first", "second"]);
    expect([await first, await second]).toEqual([500, 1]);
    expect((await KeepaliveTable.load(db, 3)).get(devices[0]!.id)).toEqual({
      address: "198.51.100.2",
      port: 1,
      intervalSec: 25,
      at: 2_000,
    });
  });

  test("flush() writes more rows than one statement holds, with unknown devices among them", async () => {
    const db = await backend.open();
    const devices = await new DeviceStore(db).enrollMany(Array.from({ length: 450 }, (_, i) => `d${i}`));
    const t = await KeepaliveTable.load(db, 3);
    devices.forEach((d, i) => {
      t.record(d.id, `198.51.100.${i % 250}`, 10_000 + i, 20 + (i % 7), 5_000 + i);
      if (i % 100 === 0) t.record(`dev_gone_${i}`, "198.51.100.9", 9, 25, 5_000);
    });
    expect(await t.flush()).toBe(455);
    const reloaded = await KeepaliveTable.load(db, 3);
    devices.forEach((d, i) => {
      expect(reloaded.get(d.id)).toEqual({
        address: `198.51.100.${i % 250}`,
        port: 10_000 + i,
        intervalSec: 20 + (i % 7),
        at: 5_000 + i,
      });
    });
    expect(reloaded.get("dev_gone_0")).toBeNull();
  });
});
