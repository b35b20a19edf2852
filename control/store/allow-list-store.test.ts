/** @module Tests for AllowListStore: Create/Add/Delete edits, all-or-nothing failures, device policy, entry normalisation. */
import { beforeEach, describe, expect, test } from "bun:test";
import { STORE_BACKENDS, storeBackend } from "../../test/support/store-backends.ts";
import { ApiError } from "../errors/api-error.ts";
import { AllowListStore, normalizeEntry } from "./allow-list-store.ts";
import { DeviceStore } from "./device-store.ts";

describe.each(STORE_BACKENDS)("AllowListStore on %s", (kind) => {
  const backend = storeBackend(kind);
  let devices: DeviceStore;
  let allow: AllowListStore;
  let ia: string;

  beforeEach(async () => {
    const db = await backend.open();
    devices = new DeviceStore(db);
    allow = new AllowListStore(db, 10);
    ia = (await devices.enroll("Ia")).id;
  });

  describe("AllowListStore.edit() (seed A FIG. 3)", () => {
    // Each row applies its edits in sequence to a fresh list and expects the resulting entries.
    const cases: Array<[string, Array<{ create?: string[]; add?: string[]; delete?: string[] }>, string[]]> =
      [
        ["(a) Create replaces all", [{ add: ["Ix"] }, { create: ["Ib", "If"] }], ["ib", "if"]],
        ["(b) Add appends", [{ create: ["Ib", "If"] }, { add: ["Ic", "Ie"] }], ["ib", "ic", "ie", "if"]],
        ["(c) Delete removes", [{ create: ["Ib", "If"] }, { delete: ["If"] }], ["ib"]],
        [
          "(d) Add and Delete in one request",
          [{ create: ["Ib", "If"] }, { add: ["Ic", "Ie"], delete: ["If"] }],
          ["ib", "ic", "ie"],
        ],
        ["Add is idempotent and case-insensitive", [{ add: ["Bob", "bob", "BOB"] }], ["bob"]],
        ["Delete of an absent entry is a no-op", [{ delete: ["nobody"] }], []],
        [
          "groups are entries too",
          [{ add: ["@Family", "+81-90-1234-5678", "a@b.example"] }],
          ["+81-90-1234-5678", "@family", "a@b.example"],
        ],
      ];
    for (const [name, edits, want] of cases) {
      test(name, async () => {
        let last: string[] = [];
        for (const e of edits) last = (await allow.edit(ia, e)).entries;
        expect(last).toEqual(want);
        expect((await allow.list(ia)).entries).toEqual(want);
      });
    }

    test("a request that fails changes nothing (S1005: N)", async () => {
      await allow.edit(ia, { create: ["keep"] });
      await expect(allow.edit(ia, { create: ["a", "b"], add: ["bad name"] })).rejects.toBeInstanceOf(
        ApiError,
      );
      const many = Array.from({ length: 11 }, (_, i) => `d${i}`);
      await expect(allow.edit(ia, { add: many })).rejects.toBeInstanceOf(ApiError);
      expect((await allow.list(ia)).entries).toEqual(["keep"]);
    });

    test("policy device keeps no copy and refuses edits", async () => {
      await allow.edit(ia, { create: ["x"] });
      expect(await allow.setPolicy(ia, "device")).toEqual({ policy: "device", entries: [] });
      await expect(allow.edit(ia, { add: ["y"] })).rejects.toMatchObject({ code: "policy_is_device" });
    });
  });

  describe("AllowListStore.permits() and groups", () => {
    test("permits() matches a listed name or a group the caller belongs to, nothing else", async () => {
      const ib = (await devices.enroll("Ib")).id;
      await allow.edit(ia, { create: ["Ic", "@friends"] });
      expect(await allow.permits(ia, "IC")).toBe(true);
      expect(await allow.permits(ia, "Ib")).toBe(false);
      await allow.createGroup(ia, "friends");
      await allow.editMembers(ia, "Ia", "friends", { add: ["Ib", "Iz"] });
      expect(await allow.permits(ia, "Ib")).toBe(true);
      expect(await allow.permits(ia, "iz")).toBe(true);
      await allow.editMembers(ia, "Ia", "friends", { delete: ["Ib"] });
      expect(await allow.permits(ia, "Ib")).toBe(false);
      // A group the callee does not list does not help.
      await allow.createGroup(ia, "others");
      await allow.editMembers(ia, "Ia", "others", { add: ["Iq"] });
      expect(await allow.permits(ia, "Iq")).toBe(false);
      // Nor does another device's group of a listed name: "@pals" resolves in ia's namespace only.
      await allow.edit(ia, { add: ["@pals"] });
      await allow.createGroup(ib, "pals");
      await allow.editMembers(ib, "Ib", "pals", { add: ["Iq"] });
      expect(await allow.permits(ia, "Iq")).toBe(false);
    });

    // Issue 21 item 1: bob's "@family" must never come to mean a group that carol made.
    const takeovers: [string, (bob: string, carol: string) => Promise<unknown>][] = [
      ["the owner deletes the group", (bob) => allow.deleteGroup(bob, "family")],
      ["the owner's device is deleted", (bob) => devices.remove(bob)],
    ];
    for (const [how, end] of takeovers) {
      test(`deleteGroup() leaves no '@family' behind to re-bind when ${how}`, async () => {
        const bob = (await devices.enroll("bob")).id;
        const carol = (await devices.enroll("carol")).id;
        await allow.createGroup(bob, "family");
        await allow.editMembers(bob, "bob", "family", { add: ["alice"] });
        await allow.edit(bob, { add: ["@family"] });
        await allow.edit(ia, { add: ["@family"] });
        expect(await allow.permits(bob, "alice")).toBe(true);
        await end(bob, carol);
        expect((await allow.list(ia)).entries).not.toContain("@family");
        if (how.includes("group")) expect((await allow.list(bob)).entries).not.toContain("@family");
        // The name stays bob's: carol cannot bind it, so "@family" in any list can never mean her group.
        await expect(allow.createGroup(carol, "family")).rejects.toMatchObject({ code: "group_exists" });
        expect(await allow.permits(bob, "carol")).toBe(false);
        expect(await allow.permits(ia, "carol")).toBe(false);
      });
    }

    test("createGroup() lets the name's first owner create it again, and that group starts unreferenced", async () => {
      const bob = (await devices.enroll("bob")).id;
      await allow.createGroup(bob, "family");
      await allow.edit(bob, { add: ["@family"] });
      await allow.deleteGroup(bob, "family");
      await allow.createGroup(bob, "family");
      await allow.editMembers(bob, "bob", "family", { add: ["alice"] });
      expect(await allow.permits(bob, "alice")).toBe(false);
    });

    test("groups: unique names, owner-only edits, hidden from outsiders", async () => {
      const ib = (await devices.enroll("Ib")).id;
      const ic = (await devices.enroll("Ic")).id;
      await allow.createGroup(ia, "Team");
      await expect(allow.createGroup(ib, "team")).rejects.toMatchObject({ code: "group_exists" });
      await allow.editMembers(ia, "Ia", "team", { add: ["Ib"] });
      expect((await allow.getGroup(ib, "Ib", "team")).members).toEqual(["ib"]);
      await expect(allow.editMembers(ib, "Ib", "team", { add: ["Ic"] })).rejects.toMatchObject({
        code: "not_group_owner",
      });
      await expect(allow.getGroup(ic, "Ic", "team")).rejects.toMatchObject({ code: "group_not_found" });
      await expect(allow.editMembers(ic, "Ic", "team", { add: ["Ic"] })).rejects.toMatchObject({
        code: "group_not_found",
      });
      await allow.deleteGroup(ia, "team");
      await expect(allow.getGroup(ia, "Ia", "team")).rejects.toMatchObject({ code: "group_not_found" });
    });
  });
});

describe("normalizeEntry()", () => {
  for (const bad of ["", "@", "@bad name", "has space", "@@x", "x".repeat(65), "-lead", "a/b"]) {
    test(`normalizeEntry() rejects '${bad.slice(0, 20)}'`, () => {
      expect(() => normalizeEntry(bad, "add[0]")).toThrow(expect.objectContaining({ code: "bad_request" }));
    });
  }
  test("normalizeEntry() rejects non-strings", () => {
    expect(() => normalizeEntry(3, "add[0]")).toThrow(ApiError);
  });
});
