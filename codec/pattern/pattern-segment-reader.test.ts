/** @module Tests of PatternSegmentReader: version 5's segments and stretches read in every chunking against the whole-table cipher, and every damage a clear, stable code. */
import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { makePatternKeystream } from "../../crypto/keystream.ts";
import { SeededRandom } from "../../test/support/seeded-random.ts";
import { CodecError } from "../codec-error.ts";
import { concat } from "../split/split-bytes.ts";
import { PatternCipher } from "./pattern-cipher.ts";
import { PATTERN_FIXED_BYTES } from "./pattern-header.ts";
import { encodePatternHeaderV5, type PatternHeaderV5 } from "./pattern-header-v5.ts";
import type { PatternScheme } from "./pattern-scheme.ts";
import { MAX_PATTERN_SEGMENT_BYTES, PATTERN_SEGMENT_ROWS } from "./pattern-segment.ts";
import { PatternSegmentReader } from "./pattern-segment-reader.ts";
import { PatternSegmentWriter } from "./pattern-segment-writer.ts";
import { writeVarint } from "./write-varint.ts";

const KEY = new Uint8Array(32).map((_, i) => i + 3);
const SALT = new Uint8Array(16).map((_, i) => 90 + i);
const SCHEME: PatternScheme = { kind: "slice-block", crypt: 1, skip: 9 };

function headerFor(
  bodyLength: number,
  rows: Array<[number, number]>,
): { h: PatternHeaderV5; digest: Uint8Array } {
  const h: PatternHeaderV5 = {
    scheme: SCHEME,
    salt: SALT,
    originalSha256: new Uint8Array(32).fill(7),
    directBodyLength: bodyLength,
    rangeCount: rows.length,
    rangeBytes: rows.reduce((n, [, l]) => n + l, 0),
  };
  return { h, digest: encodePatternHeaderV5(h).subarray(PATTERN_FIXED_BYTES) };
}

/**
 * A segment written here, apart from encodePatternSegment() (docs/split-format.md's layout): `rows` as
 * (gap, length) varints as given, each field overridable so it can lie.
 */
function rawSegment(s: {
  number: number;
  bodyEnd: number;
  rows: Array<[number, number]>;
  headerDigest: Uint8Array;
  count?: number;
  length?: number;
  trailing?: number;
}): Uint8Array {
  const table = new Uint8Array(16 * s.rows.length + (s.trailing ?? 0));
  let at = 0;
  for (const [gap, len] of s.rows) at = writeVarint(table, writeVarint(table, at, gap), len);
  at += s.trailing ?? 0;
  const out = new Uint8Array(20 + at + 32);
  const v = new DataView(out.buffer);
  v.setUint32(0, s.number);
  v.setUint32(4, s.length ?? out.length);
  v.setBigUint64(8, BigInt(s.bodyEnd));
  v.setUint32(16, s.count ?? s.rows.length);
  out.set(table.subarray(0, at), 20);
  out.set(
    createHash("sha256")
      .update(s.headerDigest)
      .update(out.subarray(0, 20 + at))
      .digest(),
    20 + at,
  );
  return out;
}

async function read(
  h: PatternHeaderV5,
  digest: Uint8Array,
  chunks: Uint8Array[],
  bodyFrom = 0,
): Promise<Uint8Array> {
  const r = new PatternSegmentReader(h, digest, {
    keystream: await makePatternKeystream(KEY, SALT),
    bodyFrom,
  });
  const out: Uint8Array[] = [];
  for (const c of chunks) out.push(...r.push(c));
  r.finish();
  return concat(out);
}

/** The wire PatternSegmentWriter makes for `rows` over `body` (plain: the reader's output is compared as XOR). */
function writerWire(body: Uint8Array, rows: Array<[number, number]>, digest: Uint8Array): Uint8Array {
  const ranges = rows.map(([offset, length]) => ({ offset, length }));
  const w = new PatternSegmentWriter(ranges, body.length, digest);
  const out: Uint8Array[] = [];
  let at = 0;
  while (w.nextAt !== undefined) {
    const { bytes, bodyEnd } = w.next();
    out.push(bytes, body.subarray(at, bodyEnd));
    at = bodyEnd;
  }
  const wire = concat(out);
  expect(wire.length).toBe(body.length + PatternSegmentWriter.totalBytes(ranges));
  return wire;
}

/** Rows spread over `bodyLength`: non-adjacent, some at the very start and end. */
function someRows(count: number, bodyLength: number, seed: number): Array<[number, number]> {
  const rnd = new SeededRandom(seed);
  const rows: Array<[number, number]> = [];
  const step = Math.floor(bodyLength / count);
  for (let i = 0; i < count; i++) {
    const start = i * step + (i === 0 ? 0 : 1 + rnd.below(step >> 2));
    rows.push([start, 1 + rnd.below(step >> 1)]);
  }
  return rows;
}

describe("PatternSegmentReader on valid parts", () => {
  const cases: Array<[string, number, Array<[number, number]>]> = [
    ["an empty body", 0, []],
    ["a body with no rows", 5000, []],
    ["one row covering the body", 64, [[0, 64]]],
    ["a few rows", 3000, someRows(7, 3000, 1)],
    ["exactly one segment's rows", 200_000, someRows(PATTERN_SEGMENT_ROWS, 200_000, 2)],
    ["three segments' rows", 500_000, someRows(2 * PATTERN_SEGMENT_ROWS + 5, 500_000, 3)],
    [
      "rows ending at the body's end",
      41,
      [
        [3, 10],
        [30, 11],
      ],
    ],
  ];
  for (const [name, bodyLength, rows] of cases) {
    test(`PatternSegmentReader decrypts as the whole-table cipher does in any chunking: ${name}`, async () => {
      const body = new Uint8Array(bodyLength).map((_, i) => (i * 31) & 0xff);
      const expected = body.slice();
      const ranges = rows.map(([offset, length]) => ({ offset, length }));
      new PatternCipher({ ranges, scheme: SCHEME }, bodyLength, await makePatternKeystream(KEY, SALT)).apply(
        expected,
      );
      const { h, digest } = headerFor(bodyLength, rows);
      // The reader XORs what it is given: plain in, the cipher's output out.
      const wire = writerWire(body, rows, digest);
      for (const chunking of ["whole", "1 byte", "random"] as const) {
        const copy = wire.slice();
        const chunks =
          chunking === "whole"
            ? [copy]
            : chunking === "1 byte" && copy.length < 20_000
              ? Array.from({ length: copy.length }, (_, i) => copy.subarray(i, i + 1))
              : new SeededRandom(bodyLength + 1).chunks(copy);
        const out = await read(h, digest, chunks);
        expect([chunking, Buffer.from(out).equals(Buffer.from(expected))]).toEqual([chunking, true]);
      }
    });
  }

  test("PatternSegmentReader with bodyFrom reads every segment and only the stretches past it", async () => {
    const bodyLength = 300_000;
    const rows = someRows(PATTERN_SEGMENT_ROWS + 9, bodyLength, 4);
    const body = new Uint8Array(bodyLength).map((_, i) => (i * 7) & 0xff);
    const expected = body.slice();
    const ranges = rows.map(([offset, length]) => ({ offset, length }));
    new PatternCipher({ ranges, scheme: SCHEME }, bodyLength, await makePatternKeystream(KEY, SALT)).apply(
      expected,
    );
    const { h, digest } = headerFor(bodyLength, rows);
    for (const from of [1, 1000, 150_000, bodyLength - 1, bodyLength]) {
      // The resumed wire: each segment, then what of its stretch lies past `from`.
      const w = new PatternSegmentWriter(ranges, bodyLength, digest);
      const parts: Uint8Array[] = [];
      let at = 0;
      while (w.nextAt !== undefined) {
        const { bytes, bodyEnd } = w.next();
        parts.push(bytes, body.subarray(Math.max(at, Math.min(from, bodyEnd)), bodyEnd));
        at = bodyEnd;
      }
      const out = await read(h, digest, new SeededRandom(from).chunks(concat(parts)), from);
      expect([from, Buffer.from(out).equals(Buffer.from(expected.subarray(from)))]).toEqual([from, true]);
    }
  });
});

describe("PatternSegmentReader on damaged parts", () => {
  const rows: Array<[number, number]> = [
    [10, 20],
    [100, 5],
    [200, 50],
  ];
  const bodyLength = 400;
  const { h, digest } = headerFor(bodyLength, rows);
  const body = (from: number, to: number) => new Uint8Array(to - from);
  const seg0 = rawSegment({ number: 0, bodyEnd: 100, rows: [[10, 20]], headerDigest: digest });
  const seg1 = rawSegment({
    number: 1,
    bodyEnd: 400,
    rows: [
      [0, 5],
      [95, 50],
    ],
    headerDigest: digest,
  });
  const good = concat([seg0, body(0, 100), seg1, body(100, 400)]);
  const other = headerFor(bodyLength + 1, rows).digest;

  const cases: Array<[string, Uint8Array, string]> = [
    ["a part cut inside a segment", good.subarray(0, seg0.length - 3), "ERR_PATTERN_TRUNCATED"],
    ["a part cut inside a segment's first 8 bytes", good.subarray(0, 5), "ERR_PATTERN_TRUNCATED"],
    ["a part cut inside a stretch", good.subarray(0, good.length - 1), "ERR_PATTERN_TRUNCATED"],
    ["a part without its last segment", concat([seg0, body(0, 100)]), "ERR_PATTERN_TRUNCATED"],
    ["segment 1 first", concat([seg1, body(0, 300)]), "ERR_PATTERN_SEGMENT_ORDER"],
    ["segment 0 twice", concat([seg0, body(0, 100), seg0, body(0, 100)]), "ERR_PATTERN_SEGMENT_ORDER"],
    [
      "a row past its stretch",
      concat([rawSegment({ number: 0, bodyEnd: 100, rows: [[90, 20]], headerDigest: digest }), body(0, 100)]),
      "ERR_PATTERN_RANGES",
    ],
    [
      "a stretch past the body",
      rawSegment({ number: 0, bodyEnd: 401, rows: [], headerDigest: digest }),
      "ERR_PATTERN_RANGES",
    ],
    [
      "a stretch that does not move on",
      concat([seg0, body(0, 100), rawSegment({ number: 1, bodyEnd: 100, rows: [], headerDigest: digest })]),
      "ERR_PATTERN_RANGES",
    ],
    [
      "adjacent rows",
      rawSegment({
        number: 0,
        bodyEnd: 400,
        rows: [
          [10, 20],
          [0, 5],
        ],
        headerDigest: digest,
      }),
      "ERR_PATTERN_RANGES",
    ],
    [
      "an empty row",
      rawSegment({ number: 0, bodyEnd: 400, rows: [[10, 0]], headerDigest: digest }),
      "ERR_PATTERN_RANGES",
    ],
    [
      "bytes after the rows",
      rawSegment({ number: 0, bodyEnd: 100, rows: [[10, 20]], headerDigest: digest, trailing: 2 }),
      "ERR_PATTERN_RANGES",
    ],
    [
      "a row count the segment cannot hold",
      rawSegment({ number: 0, bodyEnd: 100, rows: [[10, 20]], headerDigest: digest, count: 9 }),
      "ERR_PATTERN_SEGMENT_LENGTH",
    ],
    [
      "more rows than a segment carries",
      rawSegment({
        number: 0,
        bodyEnd: 100,
        rows: [[10, 20]],
        headerDigest: digest,
        count: PATTERN_SEGMENT_ROWS + 1,
      }),
      "ERR_PATTERN_SEGMENT_LENGTH",
    ],
    [
      "an oversize segment (only its first 8 bytes sent)",
      rawSegment({
        number: 0,
        bodyEnd: 100,
        rows: [],
        headerDigest: digest,
        length: MAX_PATTERN_SEGMENT_BYTES + 1,
      }).subarray(0, 8),
      "ERR_PATTERN_SEGMENT_LENGTH",
    ],
    [
      "a segment shorter than its fixed bytes",
      rawSegment({ number: 0, bodyEnd: 100, rows: [], headerDigest: digest, length: 51 }),
      "ERR_PATTERN_SEGMENT_LENGTH",
    ],
    ["a flipped row byte", flip(good, 20), "ERR_PATTERN_SEGMENT_DIGEST"],
    ["a flipped body end", flip(good, 15), "ERR_PATTERN_SEGMENT_DIGEST"],
    [
      "a segment of another part's header",
      concat([rawSegment({ number: 0, bodyEnd: 100, rows: [[10, 20]], headerDigest: other }), body(0, 100)]),
      "ERR_PATTERN_SEGMENT_DIGEST",
    ],
    [
      "rows short of the header's count",
      concat([
        seg0,
        body(0, 100),
        rawSegment({ number: 1, bodyEnd: 400, rows: [[0, 5]], headerDigest: digest }),
        body(100, 400),
      ]),
      "ERR_PATTERN_LENGTH",
    ],
    [
      "rows past the header's count",
      concat([
        seg0,
        body(0, 100),
        rawSegment({
          number: 1,
          bodyEnd: 400,
          rows: [
            [0, 5],
            [95, 50],
            [5, 5],
          ],
          headerDigest: digest,
        }),
      ]),
      "ERR_PATTERN_LENGTH",
    ],
    ["bytes after the body", concat([good, new Uint8Array(1)]), "ERR_PATTERN_LENGTH"],
  ];
  test("the damage cases start from a part that reads", async () => {
    expect((await read(h, digest, [good.slice()])).length).toBe(bodyLength);
  });
  for (const [name, wire, code] of cases) {
    test(`PatternSegmentReader rejects ${name} with ${code}, whole and byte by byte`, async () => {
      for (const chunks of [[wire.slice()], Array.from(wire.slice(), (b) => Uint8Array.of(b))]) {
        let caught: unknown;
        try {
          await read(h, digest, chunks);
        } catch (err) {
          caught = err;
        }
        expect(caught).toBeInstanceOf(CodecError);
        expect((caught as CodecError).code).toBe(code);
      }
    });
  }
});

function flip(bytes: Uint8Array, at: number): Uint8Array {
  const out = bytes.slice();
  out[at]! ^= 0x40;
  return out;
}
