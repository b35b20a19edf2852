/** @module Tests for readConfigFile(): parsed JSON, an optional missing file, and read/parse failures with the caller's code. */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readConfigFile } from "./read-config-file.ts";

const dir = mkdtempSync(join(tmpdir(), "pvrlink-read-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

describe("readConfigFile()", () => {
  const ok: Array<[string, string, unknown]> = [
    ["an object", '{"http":"127.0.0.1:0","n":1}', { http: "127.0.0.1:0", n: 1 }],
    // The shape is the caller's to check: the reader only parses.
    ["an array", "[1,2]", [1, 2]],
    ["a string", '"x"', "x"],
  ];
  for (const [what, text, want] of ok) {
    test(`readConfigFile() parses ${what}`, () => {
      expect(readConfigFile(write(`ok-${what.replace(/\W/g, "-")}.json`, text), { code: "ERR_X" })).toEqual(
        want,
      );
    });
  }

  test("readConfigFile() answers undefined for a missing optional file", () => {
    expect(readConfigFile(join(dir, "absent.json"), { code: "ERR_X", optional: true })).toBeUndefined();
  });

  const bad: Array<[string, () => string, boolean, RegExp]> = [
    ["a missing file", () => join(dir, "missing.json"), false, /^Cannot read config .*missing\.json: /],
    ["invalid JSON", () => write("bad.json", "{name:"), false, /^Cannot parse config .*bad\.json: /],
    ["empty text", () => write("empty.json", ""), true, /^Cannot parse config .*empty\.json: /],
    // Only absence is forgiven: a directory where the file should be is still an error.
    ["a directory, even when optional", () => mkdirOnce(join(dir, "sub.json")), true, /^Cannot read config /],
  ];
  for (const [what, path, optional, msg] of bad) {
    test(`readConfigFile() rejects ${what} with the caller's code`, () => {
      const p = path();
      expect(() => readConfigFile(p, { code: "ERR_X", optional })).toThrow(
        expect.objectContaining({ name: "InputError", code: "ERR_X" }),
      );
      expect(() => readConfigFile(p, { code: "ERR_X", optional })).toThrow(msg);
    });
  }
});

function mkdirOnce(p: string): string {
  mkdirSync(p, { recursive: true });
  return p;
}
