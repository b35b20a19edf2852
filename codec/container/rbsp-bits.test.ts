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

  test("RbspBits reads as a bit-at-a-time reader does, value, position and error, on random data", () => {
    // The byte-at-a-time reads (readBits, readUe) against the reader they replaced, on bytes rich in zeros and
    // emulation prevention bytes, with reads that run past the end.
    // xorshift32 from a fixed seed: the same cases every run.
    let seed = 0x9e3779b9;
    const random = (n: number) => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) % n;
    };
    const kinds = ["bit", "bits", "ue", "se"] as const;
    for (let round = 0; round < 2000; round++) {
      const data = Array.from({ length: 1 + random(12) }, () => [0, 0, 3, 1, 0x80, random(256)][random(6)]!);
      const fast = bits(...data);
      const slow = new BitAtATime(new Uint8Array(data));
      for (let op = 0; op < 12; op++) {
        const kind = kinds[random(4)]!;
        const n = random(33);
        const run = (r: RbspBits | BitAtATime) => {
          try {
            const v =
              kind === "bit"
                ? r.readBit()
                : kind === "bits"
                  ? r.readBits(n)
                  : kind === "ue"
                    ? r.readUe()
                    : r.readSe();
            return { v, at: r.bytePosition, bit: r.bitOffsetInByte };
          } catch (e) {
            return { code: (e as { code?: string }).code };
          }
        };
        const want = run(slow);
        expect({ data, kind, n, got: run(fast) }).toEqual({ data, kind, n, got: want });
        if ("code" in want) break;
      }
    }
  });
});

/** The reader RbspBits was, a bit per step: the reference of the test above. */
class BitAtATime {
  #byte = 0;
  #bit = 8;
  #zeros = 0;
  #pos = 0;
  constructor(readonly b: Uint8Array) {}
  get bytePosition(): number {
    return this.#pos;
  }
  get bitOffsetInByte(): number {
    return this.#bit === 8 ? 0 : this.#bit;
  }
  #nextByte(): number {
    if (this.#pos >= this.b.length)
      throw Object.assign(new RangeError("end"), { code: "ERR_BITS_EXHAUSTED" });
    let v = this.b[this.#pos++]!;
    if (this.#zeros >= 2 && v === 3) {
      this.#zeros = 0;
      if (this.#pos >= this.b.length)
        throw Object.assign(new RangeError("end"), { code: "ERR_BITS_EXHAUSTED" });
      v = this.b[this.#pos++]!;
    }
    this.#zeros = v === 0 ? this.#zeros + 1 : 0;
    return v;
  }
  readBit(): number {
    if (this.#bit === 8) {
      this.#byte = this.#nextByte();
      this.#bit = 0;
    }
    return (this.#byte >> (7 - this.#bit++)) & 1;
  }
  readBits(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 2 + this.readBit();
    return v;
  }
  readUe(): number {
    let zeros = 0;
    while (this.readBit() === 0) {
      if (++zeros > 31) throw Object.assign(new RangeError("long"), { code: "ERR_EXP_GOLOMB" });
    }
    return 2 ** zeros - 1 + this.readBits(zeros);
  }
  readSe(): number {
    const k = this.readUe();
    return k % 2 === 1 ? (k + 1) / 2 : -(k / 2);
  }
}
