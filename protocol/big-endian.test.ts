/** @module Tests for the big-endian helpers against DataView, the reference they replace. */
import { describe, expect, test } from "bun:test";
import { readU16, readU32, writeU16, writeU32 } from "./big-endian.ts";

describe("big-endian helpers", () => {
  const values32 = [0, 1, 0x7f, 0x80, 0xff, 0x1234, 0x8000_0000, 0x2112a442, 0xffff_ffff, 0xdead_beef];
  test.each(values32)("writeU32() and readU32() agree with DataView for 0x%s", (v) => {
    const ours = new Uint8Array(7);
    writeU32(ours, 3, v);
    const ref = new Uint8Array(7);
    new DataView(ref.buffer).setUint32(3, v);
    expect(ours).toEqual(ref);
    expect(readU32(ref, 3)).toBe(v);
  });

  test.each([0, 1, 0x80, 0xff, 0x100, 0x8000, 0xffff])(
    "writeU16() and readU16() agree with DataView for %d",
    (v) => {
      const ours = new Uint8Array(5);
      writeU16(ours, 1, v);
      const ref = new Uint8Array(5);
      new DataView(ref.buffer).setUint16(1, v);
      expect(ours).toEqual(ref);
      expect(readU16(ref, 1)).toBe(v);
    },
  );

  test("readU32() honours a view's offset into a larger buffer", () => {
    const whole = new Uint8Array([9, 9, 0x21, 0x12, 0xa4, 0x42, 9]);
    expect(readU32(whole.subarray(2), 0)).toBe(0x2112a442);
  });

  test("writeU16() keeps only the low 16 bits, as DataView.setUint16 does", () => {
    const b = new Uint8Array(2);
    writeU16(b, 0, 0x1_2345);
    expect(readU16(b, 0)).toBe(0x2345);
  });

  test("random values round-trip (1,000 draws)", () => {
    const b = new Uint8Array(4);
    for (let i = 0; i < 1000; i++) {
      const v = Math.floor(Math.random() * 2 ** 32);
      writeU32(b, 0, v);
      expect(readU32(b, 0)).toBe(v);
      expect(new DataView(b.buffer).getUint32(0)).toBe(v);
    }
  });
});
