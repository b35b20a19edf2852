/** @module Tests for PermissionCache: a verdict follows every change to lists, groups and devices at once, on both backends, and a verdict read across a change is not kept. */
import { describe, expect, test } from "bun:test";
import { STORE_BACKENDS, storeBackend } from "../../test/support/store-backends.ts";
import { AllowListStore } from "./allow-list-store.ts";
import { DeviceStore } from "./device-store.ts";
import { PermissionCache } from "./permission-cache.ts";

describe.each(STORE_BACKENDS)("PermissionCache on %s", (kind) => {
  const backend = storeBackend(kind);

  test("permits() follows each change to lists, groups and devices as soon as the change is stored", async () => {
    const db = await backend.open();
    const devices = new DeviceStore(db);
    const allow = new AllowListStore(db, 10);
    const callee = (await devices.enroll("callee")).id;
    await devices.enroll("bob");
    // Each step changes the store, then every verdict is read twice (the second a cache hit where cached).
    const steps: Array<[string, () => Promise<unknown>, { bob: boolean; eve: boolean }]> = [
      ["an empty list", async () => {}, { bob: false, eve: false }],
      ["Add bob", () => allow.edit(callee, { add: ["bob"] }), { bob: true, eve: false }],
      ["Delete bob", () => allow.edit(callee, { delete: ["bob"] }), { bob: false, eve: false }],
      [
        "Add @fam before the group exists",
        () => allow.edit(callee, { add: ["@fam"] }),
        { bob: false, eve: false },
      ],
      ["create group fam", () => allow.createGroup(callee, "fam"), { bob: false, eve: false }],
      [
        "add eve to fam",
        () => allow.editMembers(callee, "callee", "fam", { add: ["eve"] }),
        { bob: false, eve: true },
      ],
      [
        "delete eve from fam",
        () => allow.editMembers(callee, "callee", "fam", { delete: ["eve"] }),
        { bob: false, eve: false },
      ],
      [
        "add eve again",
        () => allow.editMembers(callee, "callee", "fam", { add: ["eve"] }),
        { bob: false, eve: true },
      ],
      ["delete group fam", () => allow.deleteGroup(callee, "fam"), { bob: false, eve: false }],
      ["Create [bob, eve]", () => allow.edit(callee, { create: ["bob", "eve"] }), { bob: true, eve: true }],
      ["policy device", () => allow.setPolicy(callee, "device"), { bob: false, eve: false }],
      [
        "policy node, Add eve",
        async () => {
          await allow.setPolicy(callee, "node");
          await allow.edit(callee, { add: ["eve"] });
        },
        { bob: false, eve: true },
      ],
      [
        "group @pals holds bob; the list names it",
        async () => {
          await allow.createGroup(callee, "pals");
          await allow.editMembers(callee, "callee", "pals", { add: ["bob"] });
          await allow.edit(callee, { add: ["@pals"] });
        },
        { bob: true, eve: true },
      ],
      ["the callee removed", () => devices.remove(callee), { bob: false, eve: false }],
    ];
    for (const [what, change, want] of steps) {
      await change();
      const got = {
        bob: [await allow.permits(callee, "bob"), await allow.permits(callee, "BOB")],
        eve: [await allow.permits(callee, "eve"), await allow.permits(callee, "eve")],
      };
      expect({ what, ...got }).toEqual({ what, bob: [want.bob, want.bob], eve: [want.eve, want.eve] });
    }
  });

  test("verdict() reads the store again after clear(), and does not keep a verdict read across a clear()", async () => {
    const cache = PermissionCache.of(await backend.open());
    let reads = 0;
    const read = (v: boolean) => async () => {
      reads++;
      return v;
    };
    expect(await cache.verdict("c", "bob", read(true))).toBe(true);
    expect(await cache.verdict("c", "bob", read(true))).toBe(true);
    // sqlite keeps verdicts (this process is the only writer); PostgreSQL reads every time (other nodes write).
    expect(reads).toBe(kind === "sqlite" ? 1 : 2);
    cache.clear();
    expect(await cache.verdict("c", "bob", read(false))).toBe(false);
    // A change lands while a verdict is being read: that verdict is answered but not kept.
    const racing = async () => {
      reads++;
      cache.clear();
      return true;
    };
    cache.clear();
    const before = reads;
    expect(await cache.verdict("c", "eve", racing)).toBe(true);
    expect(await cache.verdict("c", "eve", read(false))).toBe(false);
    expect(reads).toBe(before + 2);
  });
});
