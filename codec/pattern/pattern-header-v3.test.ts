/** @module Tests of pattern header versions 3 and 4: round trips, every truncation, every bit flip, crafted bad tables with a valid digest. */
import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import {
  codecErrorCode as codeOf,
  expectOneStableCodePerBitFlip,
  resealSha256,
  truncations,
} from "../../test/support/header-corruption.ts";
import { SeededRandom } from "../../test/support/seeded-random.ts";
import { CbcsEsWalk, cbcsEsEncryptedBytes } from "./cbcs-es-walk.ts";
import { type EsPatternPlan, RUN_FIELDS } from "./es-pattern-plan.ts";
import { decodePatternHeader, PATTERN_DIGEST_BYTES, PATTERN_FIXED_BYTES } from "./pattern-header.ts";
import {
  decodePatternHeaderV3,
  encodePatternHeaderV3,
  type PatternHeaderV3Fields,
  patternHeaderV3Length,
  runsBodyEnd,
} from "./pattern-header-v3.ts";
import { PatternRangeTable } from "./pattern-range-table.ts";
import { writeVarint } from "./write-varint.ts";

const HASH = createHash("sha256").update("original").digest();
const SALT = new Uint8Array(16).fill(9);

function plan(slices: Array<[number, number]>, runs: number[][], encryptedBytes = 10): EsPatternPlan {
  const table = new PatternRangeTable();
  for (const [o, l] of slices) table.push(o, l);
  return {
    scheme: { kind: "slice-block", crypt: 1, skip: 9 },
    slices: table,
    runs: new Float64Array(runs.flat()),
    runCount: runs.length,
    encryptedBytes,
  };
}

const SAMPLE = plan(
  [
    [4, 300],
    [320, 5000],
    [70_000, 20],
  ],
  [
    [0, 184, 0, 188, 20],
    [3680, 100, 4000, 188, 1],
    [3780, 184, 4200, 188, 400],
  ],
);

function fields(p = SAMPLE, directBodyLength = 100_000): PatternHeaderV3Fields {
  return { plan: p, salt: SALT, originalSha256: HASH, directBodyLength };
}

/** A header whose table bytes are `table` (count at 76, total at 80), resealed: well-formed but lying. */
function withTable(table: number[], count: number, total = 0, body = 100_000): Uint8Array {
  const good = encodePatternHeaderV3(fields(plan([], [], 0)));
  const out = new Uint8Array(PATTERN_FIXED_BYTES + table.length + PATTERN_DIGEST_BYTES);
  out.set(good.subarray(0, PATTERN_FIXED_BYTES));
  out.set(table, PATTERN_FIXED_BYTES);
  const v = new DataView(out.buffer);
  v.setUint32(16, out.length);
  v.setBigUint64(68, BigInt(body));
  v.setUint32(76, count);
  v.setBigUint64(80, BigInt(total));
  return resealSha256(out, PATTERN_DIGEST_BYTES);
}

function varints(...values: number[]): number[] {
  const out = new Uint8Array(8 * values.length);
  let at = 0;
  for (const x of values) at = writeVarint(out, at, x);
  return [...out.subarray(0, at)];
}

describe("encodePatternHeaderV3() and decodePatternHeaderV3()", () => {
  test("decodePatternHeaderV3() reads back what encodePatternHeaderV3() wrote", () => {
    const h = decodePatternHeaderV3(encodePatternHeaderV3(fields()));
    expect(h.plan.scheme).toEqual(SAMPLE.scheme);
    expect(h.plan.slices.toArray()).toEqual(SAMPLE.slices.toArray());
    expect([...h.plan.runs]).toEqual([...(SAMPLE.runs as Float64Array)]);
    expect(h.plan.runCount).toBe(3);
    expect(h.plan.encryptedBytes).toBe(10);
    expect(h.directBodyLength).toBe(100_000);
    expect(Buffer.from(h.salt).equals(Buffer.from(SALT))).toBe(true);
    expect(Buffer.from(h.originalSha256).equals(HASH)).toBe(true);
  });

  test("decodePatternHeader() refuses a version 3 header with ERR_PATTERN_VERSION", () => {
    expect(codeOf(() => decodePatternHeader(encodePatternHeaderV3(fields())))).toBe("ERR_PATTERN_VERSION");
  });

  test("patternHeaderV3Length() is the length encodePatternHeaderV3() makes", () => {
    expect(patternHeaderV3Length(SAMPLE)).toBe(encodePatternHeaderV3(fields()).length);
    const empty = plan([], [], 0);
    expect(patternHeaderV3Length(empty)).toBe(encodePatternHeaderV3(fields(empty)).length);
  });

  // Each field's varint crosses a length boundary (1 to 2 bytes at 128, 4 to 5 at 2^28, past 2^31, 2^35): the
  // length is counted without writing the runs, so it must count as writeVarint() writes.
  const sizeCases: Array<[string, number[][]]> = [
    ["127 and 128", [[127, 127, 127, 128, 128]]],
    ["16383 and 16384", [[16_383, 16_384, 16_383, 16_384, 16_384]]],
    ["2^28 - 1 and 2^28", [[2 ** 28 - 1, 2 ** 28, 2 ** 28 - 1, 2 ** 28 + 5, 1]]],
    ["2^31 and 2^35", [[2 ** 31, 7, 2 ** 35, 7, 3]]],
  ];
  for (const [name, runs] of sizeCases) {
    test(`patternHeaderV3Length() counts run varints of ${name} as encodePatternHeaderV3() writes them`, () => {
      const p = plan([], runs, 0);
      const header = encodePatternHeaderV3(fields(p, 2 ** 40));
      expect(patternHeaderV3Length(p)).toBe(header.length);
      expect([...decodePatternHeaderV3(header).plan.runs]).toEqual(runs.flat());
    });
  }

  test("runsBodyEnd() is where the last run's last unit ends", () => {
    expect(runsBodyEnd(SAMPLE)).toBe(4200 + 188 * 399 + 184);
    expect(runsBodyEnd(plan([], []))).toBe(0);
  });

  const refused: Array<[string, PatternHeaderV3Fields, string]> = [
    ["a short salt", { ...fields(), salt: new Uint8Array(15) }, "ERR_PATTERN_SALT"],
    ["a short hash", { ...fields(), originalSha256: new Uint8Array(31) }, "ERR_PATTERN_HASH"],
    ["runs past the body", fields(SAMPLE, 1000), "ERR_PATTERN_RUNS"],
    [
      "runs out of ES order",
      fields(
        plan(
          [],
          [
            [500, 10, 0, 10, 1],
            [0, 10, 20, 10, 1],
          ],
        ),
      ),
      "ERR_PATTERN_RUNS",
    ],
    ["a run shorter than its stride", fields(plan([], [[0, 10, 0, 5, 2]])), "ERR_PATTERN_RUNS"],
    ["more encrypted bytes than body", fields(plan([], [], 200_000)), "ERR_PATTERN_LENGTH"],
  ];
  for (const [name, f, code] of refused) {
    test(`encodePatternHeaderV3() refuses ${name} with ${code}`, () =>
      expect(codeOf(() => encodePatternHeaderV3(f))).toBe(code));
  }
});

describe("decodePatternHeaderV3() on damaged headers", () => {
  const good = encodePatternHeaderV3(fields());

  test("decodePatternHeaderV3() rejects every truncation", () => {
    for (const { bytes } of truncations(good)) {
      expect(["ERR_PATTERN_TRUNCATED", "ERR_PATTERN_HEADER_LENGTH"]).toContain(
        codeOf(() => decodePatternHeaderV3(bytes)),
      );
    }
  });

  test("decodePatternHeaderV3() rejects every single-bit flip with one stable code", () => {
    expectOneStableCodePerBitFlip(good, decodePatternHeaderV3, [
      "ERR_PATTERN_MAGIC",
      "ERR_PATTERN_VERSION",
      "ERR_PATTERN_HEADER_LENGTH",
      "ERR_PATTERN_TRUNCATED",
      "ERR_PATTERN_HEADER_DIGEST",
    ]);
  });

  const reseal = (h: Uint8Array) => resealSha256(h, PATTERN_DIGEST_BYTES);
  const crafted: Array<[string, () => Uint8Array, string]> = [
    ["version 1", () => reseal(Object.assign(good.slice(), { 8: 1 })), "ERR_PATTERN_VERSION"],
    [
      "a scheme other than slice-block",
      () => reseal(Object.assign(good.slice(), { 9: 1 })),
      "ERR_PATTERN_SCHEME",
    ],
    ["reserved bytes set", () => reseal(Object.assign(good.slice(), { 14: 1 })), "ERR_PATTERN_FLAGS"],
    ["more encrypted bytes than body", () => withTable(varints(0), 0, 200_000), "ERR_PATTERN_LENGTH"],
    ["a slice count the table cannot hold", () => withTable(varints(0, 1, 0), 9), "ERR_PATTERN_RANGES"],
    ["an empty slice", () => withTable(varints(4, 0, 0), 1), "ERR_PATTERN_RANGES"],
    ["a run count the table cannot hold", () => withTable(varints(1000), 0), "ERR_PATTERN_RUNS"],
    ["an empty run", () => withTable(varints(1, 0, 0, 0, 4, 1), 0), "ERR_PATTERN_RUNS"],
    ["a run of no units", () => withTable(varints(1, 0, 10, 0, 0, 0), 0), "ERR_PATTERN_RUNS"],
    [
      "a run past the body",
      () => withTable(varints(1, 0, 184, 0, 4, 1000), 0, 0, 10_000),
      "ERR_PATTERN_RUNS",
    ],
    ["bytes after the runs", () => withTable([...varints(0), 0, 0, 0, 0, 0, 0], 0), "ERR_PATTERN_RUNS"],
    ["a table ending inside a varint", () => withTable([0x81], 0), "ERR_PATTERN_RANGES"],
    [
      "a number past 2^53",
      () => withTable([...varints(1), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 1, 0, 0, 1], 0),
      "ERR_PATTERN_RANGES",
    ],
  ];
  for (const [name, make, code] of crafted) {
    test(`decodePatternHeaderV3() rejects ${name} with ${code}`, () =>
      expect(codeOf(() => decodePatternHeaderV3(make()))).toBe(code));
  }

  test("decodePatternHeaderV3() runs fields are RUN_FIELDS numbers per run", () => {
    expect(decodePatternHeaderV3(good).plan.runs.length).toBe(RUN_FIELDS * 3);
  });
});

describe("pattern header version 4 (cbcs in ES coordinates)", () => {
  const cbcs = (tail?: boolean): PatternHeaderV3Fields =>
    fields({
      ...SAMPLE,
      scheme: { kind: "cbcs", crypt: 1, skip: 9, ...(tail === undefined ? {} : { tail }) },
    });
  const good = encodePatternHeaderV3(cbcs());
  const reseal = (h: Uint8Array) => resealSha256(h, PATTERN_DIGEST_BYTES);

  test("encodePatternHeaderV3() writes a cbcs plan as version 4, and decodePatternHeaderV3() reads it back", () => {
    expect(good[8]).toBe(4);
    const h = decodePatternHeaderV3(good);
    expect(h.plan.scheme).toEqual({ kind: "cbcs", crypt: 1, skip: 9 });
    expect(h.plan.slices.toArray()).toEqual(SAMPLE.slices.toArray());
    expect([...h.plan.runs]).toEqual([...(SAMPLE.runs as Float64Array)]);
    expect(codeOf(() => decodePatternHeader(good))).toBe("ERR_PATTERN_VERSION");
  });

  test("decodePatternHeaderV3() reads back `tail: false` (flag bit 0)", () => {
    const bytes = encodePatternHeaderV3(cbcs(false));
    expect(bytes[15]).toBe(1);
    expect(decodePatternHeaderV3(bytes).plan.scheme).toEqual({
      kind: "cbcs",
      crypt: 1,
      skip: 9,
      tail: false,
    });
  });

  test("decodePatternHeaderV3() rejects every single-bit flip of a version 4 header with one stable code", () => {
    expectOneStableCodePerBitFlip(good, decodePatternHeaderV3, [
      "ERR_PATTERN_MAGIC",
      "ERR_PATTERN_VERSION",
      "ERR_PATTERN_HEADER_LENGTH",
      "ERR_PATTERN_TRUNCATED",
      "ERR_PATTERN_HEADER_DIGEST",
    ]);
  });

  /** A version 4 header with these table bytes, resealed. */
  const v4 = (h: Uint8Array) => reseal(Object.assign(h.slice(), { 8: 4, 9: 5 }));
  const crafted: Array<[string, () => Uint8Array, string]> = [
    [
      "version 4 with scheme slice-block",
      () => reseal(Object.assign(good.slice(), { 9: 4 })),
      "ERR_PATTERN_SCHEME",
    ],
    [
      "version 3 with scheme cbcs",
      () => reseal(Object.assign(encodePatternHeaderV3(fields()), { 9: 5 })),
      "ERR_PATTERN_SCHEME",
    ],
    [
      "version 4 with an unknown flag",
      () => reseal(Object.assign(good.slice(), { 15: 2 })),
      "ERR_PATTERN_FLAGS",
    ],
    [
      "version 3 with the no-tail flag",
      () => reseal(Object.assign(encodePatternHeaderV3(fields()), { 15: 1 })),
      "ERR_PATTERN_FLAGS",
    ],
    ["a huge slice count", () => v4(withTable(varints(0), 0xffffffff)), "ERR_PATTERN_RANGES"],
    ["a huge run count", () => v4(withTable(varints(2 ** 40), 0)), "ERR_PATTERN_RUNS"],
    ["a table ending inside a varint", () => v4(withTable([0x80, 0x80], 1)), "ERR_PATTERN_RANGES"],
    ["an empty slice", () => v4(withTable(varints(4, 0, 0), 1)), "ERR_PATTERN_RANGES"],
    [
      "a run past the body",
      () => v4(withTable(varints(1, 0, 184, 0, 4, 1000), 0, 0, 10_000)),
      "ERR_PATTERN_RUNS",
    ],
  ];
  for (const [name, make, code] of crafted) {
    test(`decodePatternHeaderV3() rejects ${name} with ${code}`, () =>
      expect(codeOf(() => decodePatternHeaderV3(make()))).toBe(code));
  }

  test("decodePatternHeaderV3() on random table bytes of a version 4 header: a plan or one stable code, never a hang", () => {
    for (let seed = 1; seed <= 300; seed++) {
      const rand = new SeededRandom(seed);
      const table = [...rand.bytes(1 + rand.below(60))];
      const bytes = v4(withTable(table, rand.below(8), 0, 1_000_000));
      let code = "";
      try {
        const h = decodePatternHeaderV3(bytes);
        // A plan that reads must also walk to its end, and count what the walk gives.
        const plan = { ...h.plan, scheme: { kind: "cbcs" as const, crypt: 1, skip: 9 } };
        const walk = new CbcsEsWalk(plan);
        const pieces = new Float64Array(64);
        while (walk.fill(pieces, new Uint8Array(32)) > 0);
        expect(cbcsEsEncryptedBytes(plan)).toBe(16 * walk.blocks);
      } catch (e) {
        code = (e as { code?: string }).code ?? "none";
      }
      expect(["", "ERR_PATTERN_RANGES", "ERR_PATTERN_RUNS", "ERR_PATTERN_LENGTH"]).toContain(code);
    }
  });
});
