/** @module Tests of writePatternFixedHead(): each field at its documented offset (docs/security.md, "Wire format: the pattern header"). */
import { describe, expect, test } from "bun:test";
import { type PatternFixedHead, writePatternFixedHead } from "./pattern-fixed-head.ts";
import { PATTERN_FIXED_BYTES } from "./pattern-header.ts";
import { varintBytes, writeVarint } from "./write-varint.ts";

const salt = Uint8Array.from({ length: 16 }, (_, i) => i + 1);
const sha = Uint8Array.from({ length: 32 }, (_, i) => 0xa0 + i);

describe("writePatternFixedHead()", () => {
  const cases: { name: string; head: PatternFixedHead; flags: number }[] = [
    {
      name: "version 1, slice-start 64",
      head: {
        version: 1,
        scheme: { code: 1, a: 64, b: 0 },
        length: 1234,
        salt,
        originalSha256: sha,
        directBodyLength: 2 ** 40 + 7,
        rangeCount: 70_000,
        rangeBytes: 2 ** 33 + 1,
      },
      flags: 0,
    },
    {
      name: "version 4 with the no-tail flag",
      head: {
        version: 4,
        scheme: { code: 5, a: 1, b: 9 },
        flags: 1,
        length: 0xfffffff0,
        salt,
        originalSha256: sha,
        directBodyLength: 5,
        rangeCount: 0xffffffff,
        rangeBytes: 0,
      },
      flags: 1,
    },
  ];
  for (const c of cases)
    test(`writePatternFixedHead() writes ${c.name} at the documented offsets`, () => {
      // Written into the middle of a larger buffer: the DataView must honour the view's byteOffset.
      const backing = new Uint8Array(PATTERN_FIXED_BYTES + 10);
      const out = backing.subarray(5, 5 + PATTERN_FIXED_BYTES);
      writePatternFixedHead(out, c.head);
      const v = new DataView(out.buffer, out.byteOffset, out.byteLength);
      expect(new TextDecoder().decode(out.subarray(0, 8))).toBe("PVRPATRN");
      const got: unknown = {
        version: v.getUint8(8),
        scheme: { code: v.getUint8(9), a: v.getUint16(10), b: v.getUint16(12) },
        flags: v.getUint16(14),
        length: v.getUint32(16),
        salt: out.slice(20, 36),
        originalSha256: out.slice(36, 68),
        directBodyLength: Number(v.getBigUint64(68)),
        rangeCount: v.getUint32(76),
        rangeBytes: Number(v.getBigUint64(80)),
      };
      expect(got).toEqual({ ...c.head, flags: c.flags });
      expect([...backing.subarray(0, 5), ...backing.subarray(5 + PATTERN_FIXED_BYTES)]).toEqual(
        Array(10).fill(0),
      );
    });
});

describe("varintBytes()", () => {
  for (const v of [0, 1, 127, 128, 16_383, 16_384, 2 ** 31 - 1, 2 ** 31, 2 ** 35, 2 ** 53 - 1])
    test(`varintBytes(${v}) is what writeVarint() writes`, () => {
      expect(varintBytes(v)).toBe(writeVarint(new Uint8Array(8), 0, v));
    });
});
