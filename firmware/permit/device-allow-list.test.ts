/** @module Tests for DeviceAllowList: fixed entries from config, the 0600 list file, defaults and local groups. */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DeviceAllowList, normalizeEntry } from "./device-allow-list.ts";

const dirs: string[] = [];
const fresh = () => {
  const d = mkdtempSync(join(tmpdir(), "pvrlink-permit-"));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("DeviceAllowList", () => {
  const verdicts: Array<[string, string[], Record<string, string[]>, string, boolean]> = [
    ["permits a listed name", ["alice"], {}, "alice", true],
    ["compares names case-insensitively", ["alice"], {}, "ALICE ", true],
    ["refuses an unlisted name", ["alice"], {}, "bob", false],
    ["permits a member of a listed local group", ["@family"], { family: ["bob"] }, "bob", true],
    ["refuses a member of an unlisted group", ["alice"], { family: ["bob"] }, "bob", false],
    ["refuses everyone for a listed group that does not exist", ["@ghosts"], {}, "bob", false],
    ["refuses everyone when the list is empty", [], { family: ["bob"] }, "bob", false],
  ];
  for (const [name, entries, groups, caller, want] of verdicts) {
    test(`permits() ${name}`, () => {
      const l = new DeviceAllowList(fresh());
      l.write({ policy: "device", entries, groups });
      expect(l.permits(caller)).toBe(want);
    });
  }

  test("permits() honours the config file's fixed entries", () => {
    const l = new DeviceAllowList(fresh(), ["Carol"]);
    expect(l.permits("carol")).toBe(true);
    expect(l.permits("dave")).toBe(false);
  });

  test("write() stores the list 0600, sorted and without duplicates", () => {
    const l = new DeviceAllowList(fresh());
    l.write({ policy: "device", entries: ["b", "a", "b"], groups: { g: ["y", "x", "x"] } });
    expect(l.read()).toEqual({ policy: "device", entries: ["a", "b"], groups: { g: ["x", "y"] } });
    expect(statSync(l.path).mode & 0o777).toBe(0o600);
  });

  test("read() gives the default policy and an empty list when no file exists", () => {
    expect(new DeviceAllowList(fresh()).read("device")).toEqual({
      policy: "device",
      entries: [],
      groups: {},
    });
  });

  const damaged: Array<[string, string]> = [
    ["not JSON", "{"],
    ["an unknown policy", JSON.stringify({ policy: "anyone", entries: [], groups: {} })],
    ["entries that are not strings", JSON.stringify({ policy: "device", entries: [1], groups: {} })],
    ["groups that are not lists", JSON.stringify({ policy: "device", entries: [], groups: { g: "x" } })],
  ];
  for (const [name, text] of damaged) {
    test(`read() rejects a file with ${name} (ERR_PERMIT_FILE) and permits nobody`, () => {
      const l = new DeviceAllowList(fresh());
      writeFileSync(l.path, text);
      expect(() => l.read()).toThrow(expect.objectContaining({ code: "ERR_PERMIT_FILE" }));
      expect(() => l.permits("alice")).toThrow();
    });
  }

  const entries: Array<[string, string, string | null]> = [
    ["lower-cases a name", " Alice ", "alice"],
    ["keeps a phone-number name", "+49 30 1234", "+49 30 1234"],
    ["lower-cases a group reference", "@Family", "@family"],
    ["rejects an empty name", "  ", null],
    ["rejects a control character", "al\u0007ice", null],
    ["rejects a group with spaces", "@my family", null],
  ];
  for (const [name, raw, want] of entries) {
    test(`normalizeEntry() ${name}`, () => {
      if (want === null) expect(() => normalizeEntry(raw)).toThrow();
      else expect(normalizeEntry(raw)).toBe(want);
    });
  }
});
