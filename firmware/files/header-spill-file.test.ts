/** @module Tests of headerSpillFile(): a pattern header's bytes appended to an unlinked temp file and read back, with nothing left in the directory, and typed errors on a short read and after close. */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openHeaderSpills } from "../../test/support/open-header-spills.ts";
import { SeededRandom } from "../../test/support/seeded-random.ts";
import { headerSpillFile } from "./header-spill-file.ts";

const dir = mkdtempSync(join(tmpdir(), "pvrlink-spill-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("headerSpillFile()", () => {
  const sizes: Array<[string, number[]]> = [
    ["one write", [5000]],
    ["many small writes", Array.from({ length: 300 }, (_, i) => 1 + (i % 17))],
    ["frames of 1 MiB", [1 << 20, 1 << 20, 12345]],
  ];
  for (const [name, writes] of sizes) {
    test(`headerSpillFile() reads back what was written, at any position: ${name}`, () => {
      const rnd = new SeededRandom(writes.length);
      const spill = headerSpillFile(dir);
      const all = rnd.bytes(writes.reduce((a, b) => a + b, 0));
      let at = 0;
      for (const n of writes) {
        spill.write(all.subarray(at, at + n));
        at += n;
      }
      for (const [from, n] of [
        [0, all.length],
        [7, 100],
        [all.length - 3, 3],
        [all.length >> 1, all.length >> 2],
      ] as const) {
        const into = new Uint8Array(n);
        spill.read(from, into);
        expect(Buffer.from(into).equals(Buffer.from(all.subarray(from, from + n)))).toBe(true);
      }
      expect(readdirSync(dir)).toEqual([]);
      expect(openHeaderSpills()).toBe(1);
      spill.close();
      spill.close();
      expect(openHeaderSpills()).toBe(0);
    });
  }

  test("headerSpillFile() rejects a read past what was written with a RangeError", () => {
    const spill = headerSpillFile(dir);
    spill.write(new Uint8Array(100));
    expect(() => spill.read(90, new Uint8Array(20))).toThrow(RangeError);
    spill.close();
  });

  test("headerSpillFile() rejects a read or write after close with a TypeError", () => {
    const spill = headerSpillFile(dir);
    spill.write(new Uint8Array(10));
    spill.close();
    expect(() => spill.read(0, new Uint8Array(5))).toThrow(TypeError);
    expect(() => spill.write(new Uint8Array(5))).toThrow(TypeError);
  });

  test("headerSpillFile() throws the open's error for a directory that is not there", () => {
    expect(() => headerSpillFile(join(dir, "missing"))).toThrow("ENOENT");
  });
});
