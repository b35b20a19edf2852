/** @module Tests of pattern header version 2 (the cbcs scheme's CBC chain starts): round trips, every truncation and bit flip, crafted bad chains. */
import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import {
  codecErrorCode as codeOf,
  expectOneStableCodePerBitFlip,
  resealSha256,
  truncations,
} from "../../test/support/header-corruption.ts";
import {
  decodePatternHeader,
  PATTERN_DIGEST_BYTES,
  PATTERN_VERSION,
  PATTERN_VERSION_CHAINS,
} from "./pattern-header.ts";
import { encodePatternHeader, type PatternHeaderFields } from "./pattern-header-encoder.ts";

const HASH = createHash("sha256").update("original").digest();
const SALT = new Uint8Array(16).fill(9);
/** Four blocks: one cut in two ranges (10 + 6), chains at blocks 0 and 2. */
const FIELDS: PatternHeaderFields = {
  scheme: { kind: "cbcs", crypt: 1, skip: 9 },
  salt: SALT,
  originalSha256: HASH,
  directBodyLength: 10_000,
  ranges: [
    { offset: 100, length: 16 },
    { offset: 300, length: 10 },
    { offset: 320, length: 6 },
    { offset: 5000, length: 32 },
  ],
  chainStarts: [0, 2],
};

const reseal = (h: Uint8Array) => resealSha256(h, PATTERN_DIGEST_BYTES);

describe("pattern header version 2 (cbcs)", () => {
  const good = encodePatternHeader(FIELDS);

  test("encodePatternHeader() writes version 2 for cbcs and decodePatternHeader() reads the chains back", () => {
    expect(good[8]).toBe(PATTERN_VERSION_CHAINS);
    const h = decodePatternHeader(good);
    expect(h.scheme).toEqual({ kind: "cbcs", crypt: 1, skip: 9 });
    expect(h.chainStarts).toEqual([0, 2]);
    expect(h.encryptedBytes).toBe(64);
    expect(h.ranges.toArray()).toEqual([...(FIELDS.ranges as [])]);
  });

  test("encodePatternHeader() still writes version 1, without chains, for the other schemes", () => {
    const v1 = encodePatternHeader({
      ...FIELDS,
      scheme: { kind: "slice-block", crypt: 1, skip: 9 },
      chainStarts: [],
    });
    expect(v1[8]).toBe(PATTERN_VERSION);
    expect(decodePatternHeader(v1).chainStarts).toEqual([]);
  });

  const bad: Array<[string, Partial<PatternHeaderFields>]> = [
    ["encrypted bytes that are not whole blocks", { ranges: [{ offset: 0, length: 20 }], chainStarts: [0] }],
    ["a first chain after block 0", { chainStarts: [1, 2] }],
    ["chains out of order", { chainStarts: [0, 2, 1] }],
    ["a chain past the last block", { chainStarts: [0, 4] }],
    ["chains on a keystream scheme", { scheme: { kind: "full" }, chainStarts: [0] }],
  ];
  for (const [name, change] of bad) {
    test(`encodePatternHeader() rejects ${name} with ERR_PATTERN_CHAINS`, () =>
      expect(codeOf(() => encodePatternHeader({ ...FIELDS, ...change }))).toBe("ERR_PATTERN_CHAINS"));
  }

  test("decodePatternHeader() rejects version 1 carrying the cbcs scheme, and version 2 carrying another", () => {
    expect(codeOf(() => decodePatternHeader(reseal(Object.assign(good.slice(), { 8: 1 }))))).toBe(
      "ERR_PATTERN_VERSION",
    );
    const v1 = encodePatternHeader({ ...FIELDS, scheme: { kind: "full" }, chainStarts: [] });
    expect(codeOf(() => decodePatternHeader(reseal(Object.assign(v1.slice(), { 8: 2 }))))).toBe(
      "ERR_PATTERN_VERSION",
    );
  });

  test("decodePatternHeader() rejects crafted chains with ERR_PATTERN_CHAINS", () => {
    // The chain list is the last table bytes before the digest: count 2, deltas 0, 2. Make the second delta 0.
    const h = good.slice();
    const at = h.length - PATTERN_DIGEST_BYTES - 1;
    expect(h[at]).toBe(2);
    h[at] = 0;
    expect(codeOf(() => decodePatternHeader(reseal(h)))).toBe("ERR_PATTERN_CHAINS");
  });

  test("decodePatternHeader() rejects every truncation of a version 2 header", () => {
    for (const { bytes } of truncations(good)) {
      expect(["ERR_PATTERN_TRUNCATED", "ERR_PATTERN_HEADER_LENGTH"]).toContain(
        codeOf(() => decodePatternHeader(bytes)),
      );
    }
  });

  test("decodePatternHeader() rejects every single-bit flip of a version 2 header with one stable code", () => {
    expectOneStableCodePerBitFlip(good, decodePatternHeader, [
      "ERR_PATTERN_MAGIC",
      "ERR_PATTERN_VERSION",
      "ERR_PATTERN_HEADER_LENGTH",
      "ERR_PATTERN_TRUNCATED",
      "ERR_PATTERN_HEADER_DIGEST",
    ]);
  });
});
