/** @module Tests for DeviceOwnerStore on both backends: a claim wins only with a newer keepalive time. */
import { describe, expect, test } from "bun:test";
import { STORE_BACKENDS, storeBackend } from "../../test/support/store-backends.ts";
import { DeviceOwnerStore } from "./device-owner-store.ts";

describe.each(STORE_BACKENDS)("DeviceOwnerStore on %s", (kind) => {
  const backend = storeBackend(kind);

  test("claim(): first claim wins, a newer one takes over, a stale or equal one loses", async () => {
    const owners = new DeviceOwnerStore(await backend.open());
    expect(await owners.ownerOf("dev_a")).toBeNull();
    const steps: Array<[string, number, boolean, string]> = [
      ["udp-1", 1000, true, "udp-1"],
      ["udp-2", 2000, true, "udp-2"],
      ["udp-1", 1500, false, "udp-2"], // the old node's late write: stale, loses
      ["udp-1", 2000, false, "udp-2"], // same time: the record stands
      ["udp-1", 2001, true, "udp-1"],
    ];
    for (const [node, at, won, owner] of steps) {
      expect(await owners.claim("dev_a", node, at)).toBe(won);
      expect((await owners.ownerOf("dev_a"))?.nodeId).toBe(owner);
    }
  });

  test("claim(): of two nodes claiming at once, the later keepalive wins whatever the order", async () => {
    const owners = new DeviceOwnerStore(await backend.open());
    await Promise.all([owners.claim("dev_b", "udp-2", 5000), owners.claim("dev_b", "udp-1", 4000)]);
    expect(await owners.ownerOf("dev_b")).toEqual({ nodeId: "udp-2", keepaliveAt: 5000 });
  });
});
