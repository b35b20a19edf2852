/** @module Tests of the pattern header: round trips, every truncation, every bit flip, crafted bad tables. */
import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import {
  codecErrorCode as codeOf,
  expectOneStableCodePerBitFlip,
  resealSha256,
  truncations,
} from "../../test/support/header-corruption.ts";
import type { ByteRange } from "../recording-index.ts";
import {
  decodePatternHeader,
  PATTERN_DIGEST_BYTES,
  PATTERN_FIXED_BYTES,
  PATTERN_VERSIONS_READ,
  patternHeaderVersionsOf,
  peekPatternHeaderLength,
} from "./pattern-header.ts";
import {
  encodePatternHeader,
  encodePatternHeaderPieces,
  type PatternHeaderFields,
  rebindPatternHeader,
} from "./pattern-header-encoder.ts";
import { PatternRangeTable } from "./pattern-range-table.ts";

const HASH = createHash("sha256").update("original").digest();
const SALT = new Uint8Array(16).fill(7);

function fields(ranges: ByteRange[], directBodyLength = 100_000): PatternHeaderFields {
  return {
    scheme: { kind: "slice-start", bytes: 64 },
    salt: SALT,
    originalSha256: HASH,
    directBodyLength,
    ranges,
  };
}

/** Recomputes the trailing digest so a crafted header is well-formed but says something wrong. */
function reseal(h: Uint8Array): Uint8Array {
  return resealSha256(h, PATTERN_DIGEST_BYTES);
}

/** A header with its table bytes replaced (length and digest fixed up). */
function withTable(table: number[], count: number, total: number, body = 100_000): Uint8Array {
  const h = new Uint8Array(PATTERN_FIXED_BYTES + table.length + PATTERN_DIGEST_BYTES);
  h.set(encodePatternHeader(fields([])).subarray(0, PATTERN_FIXED_BYTES));
  const v = new DataView(h.buffer);
  v.setUint32(16, h.length);
  v.setBigUint64(68, BigInt(body));
  v.setUint32(76, count);
  v.setBigUint64(80, BigInt(total));
  h.set(table, PATTERN_FIXED_BYTES);
  return reseal(h);
}

const SAMPLE: ByteRange[] = [
  { offset: 0, length: 64 },
  { offset: 200, length: 10 },
  { offset: 70_000, length: 300 },
  { offset: 99_990, length: 10 },
];

describe("encodePatternHeader()/decodePatternHeader()", () => {
  const tables: Array<[string, ByteRange[]]> = [
    ["no ranges", []],
    ["one range at 0", [{ offset: 0, length: 1 }]],
    ["ranges with long gaps (multi-byte varints)", SAMPLE],
    ["a range ending at the body's end", [{ offset: 99_999, length: 1 }]],
  ];
  for (const [name, ranges] of tables) {
    test(`decodePatternHeader() round-trips ${name}`, () => {
      const bytes = encodePatternHeader(fields(ranges));
      const h = decodePatternHeader(bytes);
      expect(h.ranges.toArray()).toEqual(ranges);
      expect(h.encryptedBytes).toBe(ranges.reduce((a, r) => a + r.length, 0));
      expect(h.salt).toEqual(SALT);
      expect(Buffer.from(h.originalSha256).equals(HASH)).toBe(true);
      expect(h.directBodyLength).toBe(100_000);
      expect(h.headerLength).toBe(bytes.length);
      expect(h.scheme).toEqual({ kind: "slice-start", bytes: 64 });
      expect(peekPatternHeaderLength(bytes.subarray(0, 20))).toBe(bytes.length);
    });
  }

  test("decodePatternHeader() round-trips a body past 2^32 bytes", () => {
    const big = 2 ** 40;
    const ranges = [{ offset: 2 ** 33, length: 5 }];
    expect(decodePatternHeader(encodePatternHeader(fields(ranges, big))).ranges.toArray()).toEqual(ranges);
  });

  test("encodePatternHeaderPieces() sends the table's own bytes: joined they are encodePatternHeader(), and decode back across storage blocks", () => {
    // 600 000 ranges of 1-2 varint bytes each: more than one 1 MiB storage block.
    const table = new PatternRangeTable();
    let end = 0;
    for (let i = 0; i < 600_000; i++) {
      table.push(end + 1 + (i % 200), 1 + (i % 3));
      end = table.end();
    }
    const f = { ...fields([]), ranges: table, directBodyLength: end };
    const pieces = encodePatternHeaderPieces(f);
    const views = table.encodedViews();
    expect(views.length).toBeGreaterThan(1);
    // Every table piece is the table's storage itself, no copy of it.
    expect(pieces.slice(1, -1).map((p) => [p.buffer, p.byteOffset, p.length])).toEqual(
      views.map((v) => [v.buffer, v.byteOffset, v.length]),
    );
    const whole = encodePatternHeader(f);
    expect(Buffer.concat(pieces).equals(whole)).toBe(true);
    const back = decodePatternHeader(whole);
    expect(back.ranges.count).toBe(600_000);
    expect(back.ranges.end()).toBe(end);
    expect(back.ranges.offsetAt(599_999)).toBe(table.offsetAt(599_999));
    expect(back.ranges.lengthAt(300_001)).toBe(table.lengthAt(300_001));
  });

  // Each side of every varint length step, on both the shift path (< 2^31) and the division path.
  const steps = [0x7f, 0x80, 0x3fff, 0x4000, 0x1fffff, 0x200000, 0xfffffff, 0x10000000, 2 ** 31 - 1, 2 ** 31];
  for (const v of [...steps, 2 ** 35 - 1, 2 ** 35, 2 ** 49 + 3]) {
    test(`decodePatternHeader() round-trips a gap and a length of ${v}`, () => {
      const ranges = [
        { offset: 0, length: 1 },
        { offset: 1 + v, length: v },
      ];
      const body = 2 + 2 * v;
      const bytes = encodePatternHeader(fields(ranges, body));
      const h = decodePatternHeader(bytes);
      expect(h.ranges.toArray()).toEqual(ranges);
      // 1 byte per varint below 2^7, one more per 7 bits above.
      const per = Math.max(1, Math.ceil(Math.log2(v + 1) / 7));
      expect(bytes.length).toBe(PATTERN_FIXED_BYTES + 2 + 2 * per + PATTERN_DIGEST_BYTES);
    });
  }

  for (const [name, ranges] of tables) {
    test(`rebindPatternHeader() gives what encodePatternHeader() gives with the new fields: ${name}`, () => {
      const end =
        ranges.length === 0 ? 0 : ranges[ranges.length - 1]!.offset + ranges[ranges.length - 1]!.length;
      const first = encodePatternHeader({
        ...fields(ranges),
        originalSha256: new Uint8Array(32),
        directBodyLength: end,
      });
      const kept = first.slice();
      const wanted = encodePatternHeader(fields(ranges));
      const binding = { originalSha256: HASH, directBodyLength: 100_000, tableEnd: end };
      // A copy by default, leaving the first header as it was; in place, the first header itself.
      expect(rebindPatternHeader(first, binding)).toEqual(wanted);
      expect(first).toEqual(kept);
      const inPlace = rebindPatternHeader(first, binding, { inPlace: true });
      expect(inPlace).toBe(first);
      expect(inPlace).toEqual(wanted);
    });
  }

  const unbindable: Array<[string, () => unknown, string]> = [
    [
      "a body shorter than the table",
      () =>
        rebindPatternHeader(encodePatternHeader(fields(SAMPLE)), {
          originalSha256: HASH,
          directBodyLength: 99_999,
          tableEnd: 100_000,
        }),
      "ERR_PATTERN_RANGES",
    ],
    [
      "a short hash",
      () =>
        rebindPatternHeader(encodePatternHeader(fields(SAMPLE)), {
          originalSha256: HASH.subarray(1),
          directBodyLength: 100_000,
          tableEnd: 100_000,
        }),
      "ERR_PATTERN_HASH",
    ],
    [
      "a fractional length",
      () =>
        rebindPatternHeader(encodePatternHeader(fields(SAMPLE)), {
          originalSha256: HASH,
          directBodyLength: 1.5,
          tableEnd: 0,
        }),
      "ERR_PATTERN_LENGTH",
    ],
  ];
  for (const [name, fn, code] of unbindable) {
    test(`rebindPatternHeader() rejects ${name}`, () => expect(codeOf(fn)).toBe(code));
  }

  const refused: Array<[string, PatternHeaderFields, string]> = [
    [
      "adjacent ranges",
      fields([
        { offset: 0, length: 4 },
        { offset: 4, length: 4 },
      ]),
      "ERR_PATTERN_RANGES",
    ],
    [
      "overlapping ranges",
      fields([
        { offset: 0, length: 8 },
        { offset: 4, length: 8 },
      ]),
      "ERR_PATTERN_RANGES",
    ],
    ["an empty range", fields([{ offset: 3, length: 0 }]), "ERR_PATTERN_RANGES"],
    ["a range past the body", fields([{ offset: 99_999, length: 2 }]), "ERR_PATTERN_RANGES"],
    ["a short salt", { ...fields([]), salt: new Uint8Array(8) }, "ERR_PATTERN_SALT"],
    ["a short hash", { ...fields([]), originalSha256: new Uint8Array(31) }, "ERR_PATTERN_HASH"],
  ];
  for (const [name, f, code] of refused) {
    test(`encodePatternHeader() refuses ${name} with ${code}`, () =>
      expect(codeOf(() => encodePatternHeader(f))).toBe(code));
  }
});

describe("decodePatternHeader() on damaged headers", () => {
  const good = encodePatternHeader(fields(SAMPLE));

  test("decodePatternHeader() rejects every truncation", () => {
    for (const { bytes } of truncations(good)) {
      const code = codeOf(() => decodePatternHeader(bytes));
      expect(["ERR_PATTERN_TRUNCATED", "ERR_PATTERN_HEADER_LENGTH"]).toContain(code);
    }
  });

  test("decodePatternHeader() rejects every single-bit flip with one stable code", () => {
    expectOneStableCodePerBitFlip(good, decodePatternHeader, [
      "ERR_PATTERN_MAGIC",
      "ERR_PATTERN_VERSION",
      "ERR_PATTERN_HEADER_LENGTH",
      "ERR_PATTERN_TRUNCATED",
      "ERR_PATTERN_HEADER_DIGEST",
    ]);
  });

  const crafted: Array<[string, () => Uint8Array, string]> = [
    ["an unknown scheme", () => reseal(Object.assign(good.slice(), { 9: 9 })), "ERR_PATTERN_SCHEME"],
    ["reserved bytes set", () => reseal(Object.assign(good.slice(), { 15: 1 })), "ERR_PATTERN_FLAGS"],
    ["a count the table cannot hold", () => withTable([0, 1], 5, 1), "ERR_PATTERN_RANGES"],
    ["bytes after the table", () => withTable([0, 1, 5, 1, 0], 2, 2), "ERR_PATTERN_RANGES"],
    ["a table ending inside a varint", () => withTable([0, 0x81], 1, 1), "ERR_PATTERN_RANGES"],
    [
      "a varint longer than 8 bytes",
      () => withTable([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 1], 1, 1),
      "ERR_PATTERN_RANGES",
    ],
    ["a zero-length range", () => withTable([0, 0], 1, 0), "ERR_PATTERN_RANGES"],
    ["adjacent ranges", () => withTable([0, 4, 0, 4], 2, 8), "ERR_PATTERN_RANGES"],
    ["a range past the body", () => withTable([0x90, 0x4e, 10], 1, 10, 10_000), "ERR_PATTERN_RANGES"],
    ["a total that contradicts the table", () => withTable([0, 4], 1, 5), "ERR_PATTERN_LENGTH"],
    ["a total beyond the body", () => withTable([], 0, 200_000), "ERR_PATTERN_LENGTH"],
  ];
  for (const [name, make, code] of crafted) {
    test(`decodePatternHeader() rejects ${name} with ${code}`, () =>
      expect(codeOf(() => decodePatternHeader(make()))).toBe(code));
  }

  const peeks: Array<[string, number[], string]> = [
    ["another magic", [...new TextEncoder().encode("PVRSPLIT")], "ERR_PATTERN_MAGIC"],
    ["version 6", [...new TextEncoder().encode("PVRPATRN"), 6], "ERR_PATTERN_VERSION"],
  ];
  for (const [name, bytes, code] of peeks) {
    test(`peekPatternHeaderLength() rejects ${name} with ${code}`, () => {
      expect(codeOf(() => peekPatternHeaderLength(new Uint8Array(bytes)))).toBe(code);
    });
  }
  test("peekPatternHeaderLength() rejects a length over the limit", () => {
    const h = good.slice(0, 20);
    new DataView(h.buffer).setUint32(16, 0xffffffff);
    expect(codeOf(() => peekPatternHeaderLength(h))).toBe("ERR_PATTERN_HEADER_LENGTH");
  });
  test("peekPatternHeaderLength() waits for 20 bytes", () => {
    expect(peekPatternHeaderLength(good.subarray(0, 19))).toBeUndefined();
  });
});

describe("patternHeaderVersionsOf()", () => {
  test.each([
    ["an MPEG-2 plan in its own coordinates", { scheme: { kind: "slice-block" } }, [5, 1]],
    ["a slice-start plan", { scheme: { kind: "slice-start" } }, [5, 1]],
    ["a cbcs plan in body offsets", { scheme: { kind: "cbcs" } }, [2]],
    [
      "a slice-block plan in ES coordinates",
      { scheme: { kind: "slice-block" }, es: { scheme: { kind: "slice-block" } } },
      [3],
    ],
    ["a cbcs plan in ES coordinates", { scheme: { kind: "cbcs" }, es: { scheme: { kind: "cbcs" } } }, [4]],
  ] as const)("patternHeaderVersionsOf() gives %s versions %p", (_, plan, versions) => {
    expect(patternHeaderVersionsOf(plan)).toEqual([...versions]);
    for (const v of versions) expect(PATTERN_VERSIONS_READ).toContain(v);
  });
});
