/** @module Tests of pattern header version 5: round trips of its fields, and every bad field a stable code. */
import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { expectCodecError } from "../../test/support/expect-codec-error.ts";
import { PATTERN_FIXED_BYTES, peekPatternHeaderLength } from "./pattern-header.ts";
import {
  decodePatternHeaderV5,
  encodePatternHeaderV5,
  PATTERN_HEADER_V5_BYTES,
  type PatternHeaderV5,
} from "./pattern-header-v5.ts";

const BASE: PatternHeaderV5 = {
  scheme: { kind: "slice-block", crypt: 1, skip: 9 },
  salt: new Uint8Array(16).fill(3),
  originalSha256: new Uint8Array(32).fill(9),
  directBodyLength: 1_000_000,
  rangeCount: 4321,
  rangeBytes: 55_555,
};

/** `good` with byte `at` set to `value` and the digest made again: a field that lies, not damage. */
function rewrite(good: Uint8Array, patch: (v: DataView) => void): Uint8Array {
  const out = good.slice();
  patch(new DataView(out.buffer));
  out.set(createHash("sha256").update(out.subarray(0, PATTERN_FIXED_BYTES)).digest(), PATTERN_FIXED_BYTES);
  return out;
}

describe("pattern header version 5", () => {
  test.each([
    ["slice-block", BASE],
    [
      "slice-start, no rows",
      { ...BASE, scheme: { kind: "slice-start", bytes: 64 }, rangeCount: 0, rangeBytes: 0 },
    ],
    [
      "full, an empty body",
      { ...BASE, scheme: { kind: "full" }, directBodyLength: 0, rangeCount: 0, rangeBytes: 0 },
    ],
    [
      "block, a body past 4 GiB",
      { ...BASE, scheme: { kind: "block", crypt: 1, skip: 9 }, directBodyLength: 2 ** 40 },
    ],
  ] as const)("encodePatternHeaderV5() round-trips %s", (_, h) => {
    const bytes = encodePatternHeaderV5(h as PatternHeaderV5);
    expect(bytes.length).toBe(PATTERN_HEADER_V5_BYTES);
    expect(peekPatternHeaderLength(bytes)).toBe(PATTERN_HEADER_V5_BYTES);
    expect(decodePatternHeaderV5(bytes)).toEqual(h as PatternHeaderV5);
  });

  const good = encodePatternHeaderV5(BASE);
  const bad: Array<[string, Uint8Array, string]> = [
    ["a flipped byte", Uint8Array.from(good, (b, i) => (i === 70 ? b ^ 1 : b)), "ERR_PATTERN_HEADER_DIGEST"],
    ["a cut header", good.subarray(0, 100), "ERR_PATTERN_TRUNCATED"],
    ["version 1 bytes", rewrite(good, (v) => v.setUint8(8, 1)), "ERR_PATTERN_VERSION"],
    ["the cbcs scheme", rewrite(good, (v) => v.setUint8(9, 5)), "ERR_PATTERN_SCHEME"],
    ["reserved bytes set", rewrite(good, (v) => v.setUint16(14, 1)), "ERR_PATTERN_FLAGS"],
    ["range bytes past the body", rewrite(good, (v) => v.setBigUint64(80, 2_000_000n)), "ERR_PATTERN_LENGTH"],
    ["a body past 2^53", rewrite(good, (v) => v.setBigUint64(68, 2n ** 60n)), "ERR_PATTERN_LENGTH"],
  ];
  for (const [name, bytes, code] of bad)
    test(`decodePatternHeaderV5() rejects ${name} with ${code}`, () =>
      expectCodecError(() => decodePatternHeaderV5(bytes), code));

  const badFields: Array<[string, Partial<PatternHeaderV5>, string]> = [
    ["the cbcs scheme", { scheme: { kind: "cbcs", crypt: 1, skip: 9 } }, "ERR_PATTERN_SCHEME"],
    ["a short salt", { salt: new Uint8Array(15) }, "ERR_PATTERN_SALT"],
    ["a short hash", { originalSha256: new Uint8Array(31) }, "ERR_PATTERN_HASH"],
    ["range bytes past the body", { rangeBytes: 2_000_000 }, "ERR_PATTERN_LENGTH"],
    ["a negative body", { directBodyLength: -1 }, "ERR_PATTERN_LENGTH"],
    ["a range count past 32 bits", { rangeCount: 2 ** 32 }, "ERR_PATTERN_RANGES"],
  ];
  for (const [name, fields, code] of badFields)
    test(`encodePatternHeaderV5() rejects ${name} with ${code}`, () =>
      expectCodecError(() => encodePatternHeaderV5({ ...BASE, ...fields } as PatternHeaderV5), code));
});
