/** @module Tests for deviceStateCounts() on both backends, through a node's keepalive table and an HTTP node's store view. */
import { describe, expect, test } from "bun:test";
import { STORE_BACKENDS, storeBackend } from "../../test/support/store-backends.ts";
import { DeviceOwnerStore } from "../cluster/device-owner-store.ts";
import { StoreKeepaliveView } from "../cluster/store-keepalive-view.ts";
import { DeviceStore } from "../store/device-store.ts";
import { KeepaliveTable } from "../store/keepalive-table.ts";
import type { SqlDriver } from "../store/sql-driver.ts";
import { deviceStateCounts } from "./device-state-counts.ts";

/** Five devices: fresh, stale, fresh but disabled, silent, and one removed after its keepalive arrived. */
async function population(db: SqlDriver) {
  const devices = new DeviceStore(db);
  const [fresh, stale, disabled, silent, removed] = await Promise.all(
    ["fresh", "stale", "disabled", "silent", "removed"].map(async (n) => (await devices.enroll(n)).id),
  );
  await devices.setDisabled(disabled!, true);
  return { devices, fresh: fresh!, stale: stale!, disabled: disabled!, silent: silent!, removed: removed! };
}

describe.each(STORE_BACKENDS)("deviceStateCounts() on %s", (kind) => {
  const backend = storeBackend(kind);

  const cases: Array<{
    name: string;
    lookup: "table" | "store view";
    removeThree: boolean;
    want: { connected: number; disconnected: number; disabled: number };
  }> = [
    {
      name: "a node's keepalive table",
      lookup: "table",
      removeThree: false,
      want: { connected: 2, disconnected: 2, disabled: 1 },
    },
    // Three removed, one of them with its mapping still in the table (as when removed through another node):
    // counted connected, and disconnected held at 0 instead of -1.
    {
      name: "a table still holding a removed device",
      lookup: "table",
      removeThree: true,
      want: { connected: 2, disconnected: 0, disabled: 1 },
    },
    {
      name: "an HTTP node's store view",
      lookup: "store view",
      removeThree: false,
      want: { connected: 2, disconnected: 2, disabled: 1 },
    },
    // The view joins devices: the removed device's owner row counts no more.
    {
      name: "a store view after removals",
      lookup: "store view",
      removeThree: true,
      want: { connected: 1, disconnected: 0, disabled: 1 },
    },
  ];

  test.each(cases)("deviceStateCounts() counts through $name", async ({ lookup, removeThree, want }) => {
    const db = await backend.open();
    const p = await population(db);
    const now = Date.now();
    let keepalives: KeepaliveTable | StoreKeepaliveView;
    if (lookup === "table") {
      const table = await KeepaliveTable.load(db, 3);
      table.record(p.fresh, "198.51.100.1", 40000, 25, now);
      table.record(p.stale, "198.51.100.2", 40000, 25, now - 75_000); // three intervals old: not connected
      table.record(p.disabled, "198.51.100.3", 40000, 25, now);
      table.record(p.removed, "198.51.100.4", 40000, 25, now);
      keepalives = table;
    } else {
      const owners = new DeviceOwnerStore(db);
      for (const id of [p.fresh, p.disabled, p.removed]) await owners.claim(id, "udp-1", now);
      keepalives = new StoreKeepaliveView(db, owners);
    }
    if (removeThree) for (const id of [p.removed, p.silent, p.stale]) await p.devices.remove(id);
    expect(await deviceStateCounts({ devices: p.devices, keepalives })).toEqual(want);
  });

  test("deviceStateCounts() rejects when the store cannot be read", async () => {
    const db = await backend.open();
    const p = await population(db);
    const table = await KeepaliveTable.load(db, 3);
    await db.close();
    await expect(deviceStateCounts({ devices: p.devices, keepalives: table })).rejects.toThrow();
  });
});
