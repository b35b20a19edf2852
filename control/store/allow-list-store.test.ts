/** @module Tests for AllowListStore: Create/Add/Delete edits, all-or-nothing failures, device policy, entry normalisation. */
import type { Database } from "bun:sqlite";
import { beforeEach, describe, expect, test } from "bun:test";
import { ApiError } from "../errors/api-error.ts";
import { AllowListStore, normalizeEntry } from "./allow-list-store.ts";
import { openControlDatabase } from "./control-database.ts";
import { DeviceStore } from "./device-store.ts";

let db: Database;
let devices: DeviceStore;
let allow: AllowListStore;
let ia: string;

beforeEach(() => {
  db = openControlDatabase(":memory:");
  devices = new DeviceStore(db);
  allow = new AllowListStore(db, 10);
  ia = devices.enroll("Ia").id;
});

describe("AllowListStore.edit() (seed A FIG. 3)", () => {
  // Each row applies its edits in sequence to a fresh list and expects the resulting entries.
  const cases: Array<[string, Array<{ create?: string[]; add?: string[]; delete?: string[] }>, string[]]> = [
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
    test(name, () => {
      let last: string[] = [];
      for (const e of edits) last = allow.edit(ia, e).entries;
      expect(last).toEqual(want);
      expect(allow.list(ia).entries).toEqual(want);
    });
  }

  test("a request that fails changes nothing (S1005: N)", () => {
    allow.edit(ia, { create: ["keep"] });
    expect(() => allow.edit(ia, { create: ["a", "b"], add: ["bad name"] })).toThrow(ApiError);
    const many = Array.from({ length: 11 }, (_, i) => `d${i}`);
    expect(() => allow.edit(ia, { add: many })).toThrow(ApiError);
    expect(allow.list(ia).entries).toEqual(["keep"]);
  });

  test("policy device keeps no copy and refuses edits", () => {
    allow.edit(ia, { create: ["x"] });
    expect(allow.setPolicy(ia, "device")).toEqual({ policy: "device", entries: [] });
    expect(() => allow.edit(ia, { add: ["y"] })).toThrow(
      expect.objectContaining({ code: "policy_is_device" }),
    );
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

describe("AllowListStore.permits() and groups", () => {
  test("permits() matches a listed name or a group the caller belongs to, nothing else", () => {
    const ib = devices.enroll("Ib").id;
    allow.edit(ia, { create: ["Ic", "@friends"] });
    expect(allow.permits(ia, "IC")).toBe(true);
    expect(allow.permits(ia, "Ib")).toBe(false);
    allow.createGroup(ia, "friends");
    allow.editMembers(ia, "Ia", "friends", { add: ["Ib", "Iz"] });
    expect(allow.permits(ia, "Ib")).toBe(true);
    expect(allow.permits(ia, "iz")).toBe(true);
    allow.editMembers(ia, "Ia", "friends", { delete: ["Ib"] });
    expect(allow.permits(ia, "Ib")).toBe(false);
    // A group the callee does not list does not help.
    allow.createGroup(ia, "others");
    allow.editMembers(ia, "Ia", "others", { add: ["Iq"] });
    expect(allow.permits(ia, "Iq")).toBe(false);
    // Nor does another device's group of a listed name: "@pals" resolves in ia's namespace only.
    allow.edit(ia, { add: ["@pals"] });
    allow.createGroup(ib, "pals");
    allow.editMembers(ib, "Ib", "pals", { add: ["Iq"] });
    expect(allow.permits(ia, "Iq")).toBe(false);
  });

  // Issue 21 item 1: bob's "@family" must never come to mean a group that carol made.
  const takeovers: [string, (bob: string, carol: string) => void][] = [
    ["the owner deletes the group", (bob) => allow.deleteGroup(bob, "family")],
    ["the owner's device is deleted", (bob) => void devices.remove(bob)],
  ];
  for (const [how, end] of takeovers) {
    test(`deleteGroup() leaves no '@family' behind to re-bind when ${how}`, () => {
      const bob = devices.enroll("bob").id;
      const carol = devices.enroll("carol").id;
      allow.createGroup(bob, "family");
      allow.editMembers(bob, "bob", "family", { add: ["alice"] });
      allow.edit(bob, { add: ["@family"] });
      allow.edit(ia, { add: ["@family"] });
      expect(allow.permits(bob, "alice")).toBe(true);
      end(bob, carol);
      expect(allow.list(ia).entries).not.toContain("@family");
      if (how.includes("group")) expect(allow.list(bob).entries).not.toContain("@family");
      // The name stays bob's: carol cannot bind it, so "@family" in any list can never mean her group.
      expect(() => allow.createGroup(carol, "family")).toThrow(
        expect.objectContaining({ code: "group_exists" }),
      );
      expect(allow.permits(bob, "carol")).toBe(false);
      expect(allow.permits(ia, "carol")).toBe(false);
    });
  }

  test("createGroup() lets the name's first owner create it again, and that group starts unreferenced", () => {
    const bob = devices.enroll("bob").id;
    allow.createGroup(bob, "family");
    allow.edit(bob, { add: ["@family"] });
    allow.deleteGroup(bob, "family");
    allow.createGroup(bob, "family");
    allow.editMembers(bob, "bob", "family", { add: ["alice"] });
    expect(allow.permits(bob, "alice")).toBe(false);
  });

  test("groups: unique names, owner-only edits, hidden from outsiders", () => {
    const ib = devices.enroll("Ib").id;
    const ic = devices.enroll("Ic").id;
    allow.createGroup(ia, "Team");
    expect(() => allow.createGroup(ib, "team")).toThrow(expect.objectContaining({ code: "group_exists" }));
    allow.editMembers(ia, "Ia", "team", { add: ["Ib"] });
    expect(allow.getGroup(ib, "Ib", "team").members).toEqual(["ib"]);
    expect(() => allow.editMembers(ib, "Ib", "team", { add: ["Ic"] })).toThrow(
      expect.objectContaining({ code: "not_group_owner" }),
    );
    expect(() => allow.getGroup(ic, "Ic", "team")).toThrow(
      expect.objectContaining({ code: "group_not_found" }),
    );
    expect(() => allow.editMembers(ic, "Ic", "team", { add: ["Ic"] })).toThrow(
      expect.objectContaining({ code: "group_not_found" }),
    );
    allow.deleteGroup(ia, "team");
    expect(() => allow.getGroup(ia, "Ia", "team")).toThrow(
      expect.objectContaining({ code: "group_not_found" }),
    );
  });
});
