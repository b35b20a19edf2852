/** @module Tests for RbspBits: u(n), ue(v), se(v), emulation prevention, and the end of the data. */
import { describe, expect, test } from "bun:test";
import { RbspBits } from "./rbsp-bits.ts";

const bits = (...bytes: number[]) => new RbspBits(new Uint8Array(bytes), 0, bytes.length);

describe("RbspBits", () => {
  test("RbspBits reads u(n), ue(v) and se(v) MSB-first (ITU-T H.264 9.1 table 9-2, 9-3)", () => {
    // 1 | 010 | 011 | 00100 | 00101 | 0... : ue 0, 1, 2, 3; se of codeNum 4 is -2.
    const r = bits(0b1010_0110, 0b0100_0010, 0b1000_0000);
    expect(r.readUe()).toBe(0);
    expect(r.readUe()).toBe(1);
    expect(r.readUe()).toBe(2);
    expect(r.readUe()).toBe(3);
    expect(r.readSe()).toBe(-2);
    expect(r.readBits(6)).toBe(0);
  });

  test("RbspBits drops an emulation prevention byte after two zero bytes", () => {
    const r = bits(0x00, 0x00, 0x03, 0x01);
    expect(r.readBits(24)).toBe(0x000001);
  });

  const cut = [0x00, 0x00, 0x03];
  const longUe = [0, 0, 0, 0, 0x80];
  const overruns: [string, number[], (r: RbspBits) => unknown, string][] = [
    ["u(n) past the end", cut, (r) => r.readBits(17), "ERR_BITS_EXHAUSTED"],
    [
      "a cut-off ue(v)",
      cut,
      (r) => {
        r.readBits(15);
        return r.readUe();
      },
      "ERR_BITS_EXHAUSTED",
    ],
    [
      "data ending in an emulation prevention byte",
      cut,
      (r) => {
        r.readBits(16);
        return r.readBit();
      },
      "ERR_BITS_EXHAUSTED",
    ],
    ["a ue(v) of more than 31 leading zeros", longUe, (r) => r.readUe(), "ERR_EXP_GOLOMB"],
  ];
  for (const [name, data, read, code] of overruns) {
    test(`RbspBits rejects ${name} with RangeError ${code}`, () => {
      expect(() => read(bits(...data))).toThrow(RangeError);
      expect(() => read(bits(...data))).toThrow(expect.objectContaining({ code }));
    });
  }
});
