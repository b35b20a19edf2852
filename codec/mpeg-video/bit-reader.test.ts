/** @module Tests for BitReader and its inverse BitWriter (round trip over random field layouts). */
import { describe, expect, test } from "bun:test";
import { BitWriter } from "../../test/support/bit-writer.ts";
import { SeededRandom } from "../../test/support/seeded-random.ts";
import { BitReader } from "./bit-reader.ts";

describe("BitReader", () => {
  test("BitReader reads MSB-first fields across byte boundaries", () => {
    const r = new BitReader(new Uint8Array([0b1010_1100, 0b0101_0011, 0xff]), 0);
    expect(r.read(1)).toBe(1);
    expect(r.read(3)).toBe(0b010);
    expect(r.read(6)).toBe(0b1100_01);
    expect(r.bitPosition).toBe(10);
    expect(r.alignedByteOffset).toBe(2);
    expect(r.read(14)).toBe(0b01_0011_1111_1111);
    expect(r.bitsLeft()).toBe(0);
  });

  const overruns = [
    ["a read", (r: BitReader) => r.read(9)],
    ["a skip", (r: BitReader) => r.skip(9)],
  ] as const;
  for (const [name, op] of overruns) {
    test(`BitReader rejects ${name} past its end with RangeError ERR_BITS_EXHAUSTED`, () => {
      const r = new BitReader(new Uint8Array([1, 2, 3]), 1, 2);
      expect(() => op(r)).toThrow(RangeError);
      expect(() => op(r)).toThrow(expect.objectContaining({ code: "ERR_BITS_EXHAUSTED", offset: 1 }));
      expect(r.bitPosition).toBe(8); // a failed read consumes nothing
    });
  }

  test("BitWriter output reads back through BitReader (random layouts)", () => {
    const rnd = new SeededRandom(7);
    for (let round = 0; round < 200; round++) {
      const fields: [number, number][] = [];
      const w = new BitWriter();
      for (let i = 0; i < 1 + rnd.below(20); i++) {
        const n = 1 + rnd.below(32);
        const v = Math.floor(rnd.next() * 2 ** n);
        fields.push([v, n]);
        w.write(v, n);
      }
      const r = new BitReader(w.bytes(), 0);
      for (const [v, n] of fields) expect(r.read(n)).toBe(v);
      expect(r.bitsLeft()).toBeLessThan(8);
    }
  });

  test("BitWriter rejects a value that does not fit and a misaligned start code", () => {
    expect(() => new BitWriter().write(4, 2)).toThrow(RangeError);
    expect(() => new BitWriter().write(1, 1).startCode(0xb3)).toThrow(RangeError);
  });
});
