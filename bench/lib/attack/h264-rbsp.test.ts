/** @module Tests of the attacker's RBSP helpers: emulation prevention round-trips, ue(v) written and read back, bit copies. */
import { describe, expect, test } from "bun:test";
import { SeededRandom } from "../../../test/support/seeded-random.ts";
import { annexBNal, BitWriter, readUeAt, unescapeRbsp } from "./h264-rbsp.ts";

describe("h264-rbsp", () => {
  test.each([
    ["no zeros", [0x65, 0x88, 0x84]],
    [
      "two zeros then 0x00..0x03 get an emulation prevention byte",
      [0x41, 0, 0, 0, 0, 0, 1, 0, 0, 2, 0, 0, 3],
    ],
    ["two zeros then 0x04 need none", [0x41, 0, 0, 4, 0, 0, 0xff]],
  ])("annexBNal() then unescapeRbsp() gives the RBSP back: %s", (_, bytes) => {
    const rbsp = new Uint8Array(bytes);
    const nal = annexBNal(rbsp);
    expect([...nal.subarray(0, 4)]).toEqual([0, 0, 0, 1]);
    for (let i = 6; i < nal.length; i++) {
      // No start code prefix inside the NAL unit.
      expect(nal[i - 2] === 0 && nal[i - 1] === 0 && nal[i]! <= 2).toBe(false);
    }
    expect([...unescapeRbsp(nal, 4, nal.length).rbsp]).toEqual(bytes);
  });

  test("annexBNal() round-trips random RBSPs through unescapeRbsp(), with each byte's position", () => {
    const rnd = new SeededRandom(20);
    for (let n = 0; n < 200; n++) {
      const rbsp = new Uint8Array(1 + rnd.below(64)).map(() => (rnd.below(4) === 0 ? 0 : rnd.below(256)));
      const nal = annexBNal(rbsp);
      const { rbsp: back, at } = unescapeRbsp(nal, 4, nal.length);
      expect([...back]).toEqual([...rbsp]);
      for (let i = 0; i < back.length; i++) expect(nal[at[i]!]).toBe(back[i]!);
    }
  });

  test("BitWriter.ue() writes what readUeAt() reads, and copy() keeps bits at any alignment", () => {
    const values = [0, 1, 2, 3, 7, 8, 254, 255, 65534, 1_000_000];
    const w = new BitWriter();
    w.bit(1);
    for (const v of values) w.ue(v);
    const bits = w.length;
    const b = w.bytes();
    let p = 1;
    for (const v of values) {
      const r = readUeAt(b, p, bits)!;
      expect(r.value).toBe(v);
      p = r.next;
    }
    expect(p).toBe(bits);
    const c = new BitWriter();
    c.bit(0);
    c.bit(1);
    c.bit(1);
    c.copy(b, 1, bits);
    c.trailing();
    expect(c.length % 8).toBe(0);
    let q = 3;
    for (const v of values) {
      const r = readUeAt(c.bytes(), q, c.length)!;
      expect(r.value).toBe(v);
      q = r.next;
    }
  });

  test("readUeAt() gives undefined for a code cut off or longer than 32 bits", () => {
    expect(readUeAt(new Uint8Array([0x00, 0x00]), 0, 16)).toBeUndefined();
    expect(readUeAt(new Uint8Array([0x01]), 0, 8)).toBeUndefined();
    expect(readUeAt(new Uint8Array(8), 0, 64)).toBeUndefined();
  });
});
