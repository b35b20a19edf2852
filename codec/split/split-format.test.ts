/** @module Tests of the split part header: round trips, every truncation, every bit flip, crafted bad fields. */
import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import {
  bitFlips,
  codecErrorCode as codeOf,
  resealSha256,
  truncations,
} from "../../test/support/header-corruption.ts";
import type { ByteRange } from "../recording-index.ts";
import {
  checkSplitPair,
  decodeSplitHeader,
  encodeSplitHeaders,
  MAX_SPLIT_RANGES,
  peekSplitHeaderLength,
  SPLIT_DIGEST_BYTES,
  SPLIT_FIXED_BYTES,
  type SplitPlan,
  splitHeaderLengthFor,
} from "./split-format.ts";

const HASH = createHash("sha256").update("original").digest();

function plan(
  ranges: ByteRange[],
  originalLength = 1000,
  container: SplitPlan["container"] = "ts",
): SplitPlan {
  return { container, originalLength, sha256: HASH, ranges };
}

/** Recomputes the trailing digest so a test can craft a header that is well-formed but says something wrong. */
function reseal(header: Uint8Array): Uint8Array {
  return resealSha256(header, SPLIT_DIGEST_BYTES);
}

describe("encodeSplitHeaders()", () => {
  const cases: [string, SplitPlan][] = [
    ["no ranges", plan([], 0, "es")],
    ["no ranges, non-empty original", plan([], 1000, "ps")],
    ["one range covering everything", plan([{ offset: 0, length: 1000 }], 1000, "mp4")],
    [
      "adjacent ranges",
      plan(
        [
          { offset: 0, length: 10 },
          { offset: 10, length: 5 },
        ],
        1000,
        "m2ts",
      ),
    ],
    ["ranges beyond 4 GiB", plan([{ offset: 2 ** 33, length: 2 ** 32 + 7 }], 2 ** 40, "ts")],
  ];
  for (const [name, p] of cases) {
    test(`round-trips ${name}`, () => {
      const h = encodeSplitHeaders(p);
      for (const part of ["protected", "direct"] as const) {
        const bytes = h[part];
        expect(bytes.length).toBe(splitHeaderLengthFor(p.ranges.length));
        expect(peekSplitHeaderLength(bytes)).toBe(bytes.length);
        const d = decodeSplitHeader(bytes);
        expect(d.part).toBe(part);
        expect(d.container).toBe(p.container);
        expect(d.originalLength).toBe(p.originalLength);
        expect(Buffer.from(d.sha256).equals(HASH)).toBe(true);
        expect(d.ranges).toEqual(p.ranges.map((r, serial) => ({ serial, ...r })));
        const sum = p.ranges.reduce((s, r) => s + r.length, 0);
        expect(d.bodyLength).toBe(part === "protected" ? sum : p.originalLength - sum);
      }
      checkSplitPair(decodeSplitHeader(h.protected), decodeSplitHeader(h.direct));
    });
  }

  const bad: [string, SplitPlan, string][] = [
    [
      "overlapping ranges",
      plan([
        { offset: 0, length: 10 },
        { offset: 5, length: 10 },
      ]),
      "ERR_SPLIT_RANGES",
    ],
    [
      "unsorted ranges",
      plan([
        { offset: 50, length: 10 },
        { offset: 0, length: 10 },
      ]),
      "ERR_SPLIT_RANGES",
    ],
    ["an empty range", plan([{ offset: 5, length: 0 }]), "ERR_SPLIT_RANGES"],
    ["a range past the end", plan([{ offset: 995, length: 10 }]), "ERR_SPLIT_RANGES"],
    ["a negative offset", plan([{ offset: -1, length: 10 }]), "ERR_SPLIT_RANGES"],
    ["a fractional length", plan([{ offset: 0, length: 1.5 }]), "ERR_SPLIT_RANGES"],
    ["a negative original length", plan([], -1), "ERR_SPLIT_LENGTH"],
    ["a short hash", { ...plan([]), sha256: new Uint8Array(31) }, "ERR_SPLIT_HASH"],
  ];
  for (const [name, p, code] of bad) {
    test(`rejects ${name} with ${code}`, () => {
      expect(codeOf(() => encodeSplitHeaders(p))).toBe(code);
    });
  }

  test("rejects more ranges than MAX_SPLIT_RANGES", () => {
    const ranges = { length: MAX_SPLIT_RANGES + 1 } as unknown as ByteRange[];
    expect(codeOf(() => encodeSplitHeaders(plan(ranges, 2 ** 40)))).toBe("ERR_SPLIT_RANGES");
  });
});

describe("decodeSplitHeader()", () => {
  const header = encodeSplitHeaders(
    plan([
      { offset: 3, length: 100 },
      { offset: 200, length: 50 },
      { offset: 999, length: 1 },
    ]),
  ).protected;

  test("rejects every truncation with ERR_SPLIT_TRUNCATED", () => {
    for (const { length: n, bytes } of truncations(header)) {
      expect(`${n}: ${codeOf(() => decodeSplitHeader(bytes))}`).toBe(`${n}: ERR_SPLIT_TRUNCATED`);
    }
  });

  test("rejects every single bit flip with a stable ERR_SPLIT_* code", () => {
    const expected = (byte: number): string =>
      byte < 8
        ? "ERR_SPLIT_MAGIC"
        : byte === 8
          ? "ERR_SPLIT_VERSION"
          : (byte >= 12 && byte < 16) || (byte >= 32 && byte < 36)
            ? "ERR_SPLIT_HEADER_LENGTH"
            : "ERR_SPLIT_HEADER_DIGEST";
    for (const { byte, bit, bytes: bad } of bitFlips(header)) {
      const got = codeOf(() => decodeSplitHeader(bad));
      expect(`${byte}.${bit}: ${got}`).toBe(`${byte}.${bit}: ${expected(byte)}`);
      // The same verdict twice: codes are stable, not dependent on state.
      expect(codeOf(() => decodeSplitHeader(bad))).toBe(got);
    }
  });

  test("accepts a header followed by body bytes", () => {
    const withBody = new Uint8Array(header.length + 10);
    withBody.set(header);
    expect(decodeSplitHeader(withBody).headerLength).toBe(header.length);
  });

  const crafted: [string, (h: Uint8Array, v: DataView) => void, string][] = [
    ["part 0", (_, v) => v.setUint8(9, 0), "ERR_SPLIT_PART"],
    ["part 3", (_, v) => v.setUint8(9, 3), "ERR_SPLIT_PART"],
    ["container 0", (_, v) => v.setUint8(10, 0), "ERR_SPLIT_CONTAINER"],
    ["container 6", (_, v) => v.setUint8(10, 6), "ERR_SPLIT_CONTAINER"],
    ["non-zero flags", (_, v) => v.setUint8(11, 1), "ERR_SPLIT_FLAGS"],
    ["original length past 2^53", (_, v) => v.setBigUint64(16, 2n ** 60n), "ERR_SPLIT_LENGTH"],
    ["body length not the range sum", (_, v) => v.setBigUint64(24, 150n), "ERR_SPLIT_LENGTH"],
    ["a serial out of order", (_, v) => v.setUint32(SPLIT_FIXED_BYTES + 20, 5), "ERR_SPLIT_RANGES"],
    [
      "a range past the original",
      (_, v) => v.setBigUint64(SPLIT_FIXED_BYTES + 40 + 4, 1000n),
      "ERR_SPLIT_RANGES",
    ],
    ["overlapping ranges", (_, v) => v.setBigUint64(SPLIT_FIXED_BYTES + 20 + 4, 50n), "ERR_SPLIT_RANGES"],
  ];
  for (const [name, edit, code] of crafted) {
    test(`rejects a well-sealed header with ${name} as ${code}`, () => {
      const h = header.slice();
      edit(h, new DataView(h.buffer));
      expect(codeOf(() => decodeSplitHeader(reseal(h)))).toBe(code);
    });
  }

  test("rejects a file that is not a part with ERR_SPLIT_MAGIC, even when short", () => {
    expect(codeOf(() => decodeSplitHeader(new TextEncoder().encode("G")))).toBe("ERR_SPLIT_MAGIC");
    expect(codeOf(() => decodeSplitHeader(new Uint8Array(200)))).toBe("ERR_SPLIT_MAGIC");
  });

  test("peekSplitHeaderLength() waits for the fixed fields", () => {
    expect(peekSplitHeaderLength(header.subarray(0, SPLIT_FIXED_BYTES - 1))).toBeUndefined();
    expect(peekSplitHeaderLength(header.subarray(0, SPLIT_FIXED_BYTES))).toBe(header.length);
  });
});

describe("checkSplitPair()", () => {
  const base = plan([{ offset: 10, length: 20 }]);
  const a = encodeSplitHeaders(base);
  const cases: [string, SplitPlan | undefined, "protected" | "direct"][] = [
    ["two protected parts", undefined, "protected"],
    ["different hashes", { ...base, sha256: createHash("sha256").update("x").digest() }, "direct"],
    ["different lengths", { ...base, originalLength: 1001 }, "direct"],
    ["different containers", { ...base, container: "ps" }, "direct"],
    ["different tables", { ...base, ranges: [{ offset: 11, length: 20 }] }, "direct"],
  ];
  for (const [name, other, part] of cases) {
    test(`rejects ${name} with ERR_SPLIT_PAIR`, () => {
      const b = encodeSplitHeaders(other ?? base)[part];
      expect(codeOf(() => checkSplitPair(decodeSplitHeader(a.protected), decodeSplitHeader(b)))).toBe(
        "ERR_SPLIT_PAIR",
      );
    });
  }
});
