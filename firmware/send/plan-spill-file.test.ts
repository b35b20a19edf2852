/** @module Tests of PlanSpillFiles: a range table kept in its unlinked temp files reads back as it was written, and nothing is left behind. */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PatternRangeTable } from "../../codec/pattern/pattern-range-table.ts";
import { openHeaderSpills } from "../../test/support/open-header-spills.ts";
import { PlanSpillFiles } from "./plan-spill-file.ts";

const dir = mkdtempSync(join(tmpdir(), "pvrlink-spill-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("PlanSpillFiles", () => {
  test.each([0, 10, 1_500_000])(
    "a table of %i rows in a spill file reads back whole, in order and at random",
    (n) => {
      using spill = new PlanSpillFiles(dir);
      const stored = new PatternRangeTable({ store: spill.store() });
      const plain = new PatternRangeTable();
      for (let i = 0; i < n; i++) {
        const offset = i * 200 + (i % 13) + (i === n - 1 ? 2 ** 36 : 0);
        stored.push(offset, 1 + (i % 150));
        plain.push(offset, 1 + (i % 150));
      }
      // The files are unlinked when made: nothing shows in the directory, even while they are in use.
      expect(readdirSync(dir)).toEqual([]);
      expect(Buffer.concat(stored.encodedViews()).equals(Buffer.concat(plain.encodedViews()))).toBe(true);
      for (const i of [n - 1, 0, n >> 1, 7].filter((i) => i >= 0 && i < n))
        expect([stored.offsetAt(i), stored.lengthAt(i)]).toEqual([plain.offsetAt(i), plain.lengthAt(i)]);
      const a = new Float64Array(4096);
      const b = new Float64Array(4096);
      for (let i = 0; i < n; ) {
        const k = stored.readRows(i, a);
        expect(plain.readRows(i, b)).toBe(k);
        expect(Buffer.from(a.buffer, 0, 16 * k).equals(Buffer.from(b.buffer, 0, 16 * k))).toBe(true);
        i += k;
      }
    },
  );

  test("PlanSpillFiles refuses a new store once disposed, and a block that was never put", () => {
    const spill = new PlanSpillFiles(dir);
    const store = spill.store();
    expect(() => store.get(3, new Uint8Array(10))).toThrow(RangeError);
    spill[Symbol.dispose]();
    spill[Symbol.dispose]();
    expect(() => spill.store()).toThrow(TypeError);
  });

  const ends: Array<[string, (spill: PlanSpillFiles) => void]> = [
    ["a send that ends well", () => {}],
    [
      "a send that fails while reading its header back",
      (spill) => {
        const h = spill.header();
        h.write(new Uint8Array(10));
        expect(() => h.read(5, new Uint8Array(10))).toThrow(RangeError);
      },
    ],
  ];
  for (const [name, during] of ends) {
    test(`PlanSpillFiles.header() files are closed with the plan's files: ${name}`, () => {
      const before = openHeaderSpills();
      {
        using spill = new PlanSpillFiles(dir);
        const h = spill.header();
        h.write(Uint8Array.of(1, 2, 3));
        const into = new Uint8Array(2);
        h.read(1, into);
        expect([...into]).toEqual([2, 3]);
        during(spill);
        expect(openHeaderSpills()).toBeGreaterThan(before);
        expect(readdirSync(dir)).toEqual([]);
      }
      expect(openHeaderSpills()).toBe(before);
    });
  }

  test("PlanSpillFiles.header() refuses a new header file once disposed", () => {
    const spill = new PlanSpillFiles(dir);
    spill[Symbol.dispose]();
    expect(() => spill.header()).toThrow(TypeError);
  });
});
