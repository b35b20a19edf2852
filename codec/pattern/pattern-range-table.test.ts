import { describe, expect, test } from "bun:test";
import type { ByteRange } from "../recording-index.ts";
import { PatternRangeTable } from "./pattern-range-table.ts";

/** Ranges in order across storage blocks and checkpoints, with gaps and lengths past 32 bits. */
function ranges(n: number): ByteRange[] {
  const out: ByteRange[] = [];
  let end = 0;
  for (let i = 0; i < n; i++) {
    const offset = end + (i % 7) + (i % 1000 === 3 ? 2 ** 33 : 0);
    const length = (i % 3) + 1 + (i === 5 ? 2 ** 40 : 0) + (i % 11 === 0 ? 300 : 0);
    out.push({ offset, length });
    end = offset + length;
  }
  return out;
}

describe("PatternRangeTable", () => {
  test.each([0, 1, 65_535, 65_536, 65_537, 140_000])(
    "from() of %i ranges keeps every offset and length",
    (n) => {
      const want = ranges(n);
      const t = PatternRangeTable.from(want);
      expect(t.count).toBe(n);
      expect(t.toArray()).toEqual(want);
      for (const i of [0, n >> 1, n - 1].filter((i) => i >= 0 && i < n)) {
        expect(t.offsetAt(i)).toBe(want[i]!.offset);
        expect(t.lengthAt(i)).toBe(want[i]!.length);
      }
      const last = want[n - 1];
      expect(t.end()).toBe(last === undefined ? 0 : last.offset + last.length);
    },
  );

  test("forEach() visits ranges in order with their index", () => {
    const want = ranges(70_000);
    const seen: number[] = [];
    let ok = true;
    PatternRangeTable.from(want).forEach((offset, length, i) => {
      seen.push(i);
      if (want[i]!.offset !== offset || want[i]!.length !== length) ok = false;
    });
    expect(ok).toBe(true);
    expect(seen.length).toBe(70_000);
    expect(seen[69_999]).toBe(69_999);
  });

  test("offsetAt() and lengthAt() read any row, in any order", () => {
    const want = ranges(10_000);
    const t = PatternRangeTable.from(want);
    let ok = true;
    for (let i = 9_999; i >= 0; i -= 37) {
      if (t.offsetAt(i) !== want[i]!.offset || t.lengthAt(i) !== want[i]!.length) ok = false;
    }
    for (let i = 0; i < 10_000; i++) if (t.lengthAt(i) !== want[i]!.length) ok = false;
    expect(ok).toBe(true);
  });

  test("encodedBytes and copyEncoded() give the header's varints: gap from the last end, then length", () => {
    const t = PatternRangeTable.from([
      { offset: 5, length: 3 },
      { offset: 8 + 200, length: 1 },
      { offset: 2 ** 40, length: 2 ** 35 },
    ]);
    const out = new Uint8Array(t.encodedBytes + 2);
    expect(t.copyEncoded(out, 1)).toBe(t.encodedBytes + 1);
    // 5, 3 | 200 (0xc8 0x01), 1 | 2^40 - 209 (6 bytes), 2^35 (6 bytes)
    expect([...out.subarray(1, 7)]).toEqual([5, 3, 0xc8, 0x01, 1, 0xaf]);
    expect(t.encodedBytes).toBe(5 + 6 + 6);
  });

  test.each([
    [
      "before the previous end",
      [
        { offset: 10, length: 5 },
        { offset: 14, length: 1 },
      ],
    ],
    ["at a negative offset", [{ offset: -1, length: 5 }]],
    ["with a negative length", [{ offset: 0, length: -5 }]],
    ["with a fractional offset", [{ offset: 0.5, length: 1 }]],
    ["past 2^53", [{ offset: 2 ** 53, length: 1 }]],
  ])("push() rejects a range %s with ERR_PATTERN_RANGES", (_, rs) => {
    expect(() => PatternRangeTable.from(rs)).toThrow(expect.objectContaining({ code: "ERR_PATTERN_RANGES" }));
  });

  test.each([0, 1, 31, 32, 33, 70_000, 1_100_000])(
    "fromEncoded() over the header bytes of %i ranges reads every row, in order and at random, and takes more pushes",
    (n) => {
      const want = ranges(n);
      const source = PatternRangeTable.from(want);
      // Past 1 MiB of rows (1.1 M rows, ~2.3 MB) the bytes are cut into blocks at row boundaries.
      const encoded = new Uint8Array(source.encodedBytes);
      source.copyEncoded(encoded, 0);
      const t = PatternRangeTable.fromEncoded(encoded, n);
      expect(t.count).toBe(n);
      expect(t.encodedBytes).toBe(encoded.length);
      expect(t.end()).toBe(source.end());
      expect(t.toArray()).toEqual(want);
      let ok = true;
      for (let i = n - 1; i >= 0; i -= 997) {
        if (t.offsetAt(i) !== want[i]!.offset || t.lengthAt(i) !== want[i]!.length) ok = false;
      }
      expect(ok).toBe(true);
      // Rows pushed after the adopted ones go to a block of the table's own, never into the source bytes.
      const before = encoded.slice();
      t.push(t.end() + 5, 9);
      t.push(t.end() + 2 ** 35, 1);
      expect(encoded).toEqual(before);
      const copy = new Uint8Array(t.encodedBytes);
      t.copyEncoded(copy, 0);
      const again = PatternRangeTable.from([
        ...want,
        { offset: source.end() + 5, length: 9 },
        { offset: source.end() + 14 + 2 ** 35, length: 1 },
      ]);
      const expected = new Uint8Array(again.encodedBytes);
      again.copyEncoded(expected, 0);
      expect(copy).toEqual(expected);
    },
  );

  test.each([
    ["bytes past the rows", 3, [1, 2, 3, 4, 5, 6, 7]],
    ["a row cut by the end", 2, [1, 2, 3]],
    ["a number cut by the end", 1, [1, 0x80]],
  ] as const)("fromEncoded() rejects %s with ERR_PATTERN_RANGES", (_, count, bytes) => {
    let code: unknown;
    try {
      PatternRangeTable.fromEncoded(new Uint8Array(bytes), count);
    } catch (err) {
      code = (err as { code?: string }).code;
    }
    expect(code).toBe("ERR_PATTERN_RANGES");
  });

  test("releaseBefore() frees the blocks of rows already read, and the rows after still read in order", () => {
    const want = ranges(1_100_000);
    const t = PatternRangeTable.from(want);
    const views = t.encodedViews();
    expect(views.length).toBeGreaterThan(2);
    const rows = new Float64Array(2 * 1024);
    let ok = true;
    for (let i = 0; i < want.length; ) {
      const n = t.readRows(i, rows);
      t.releaseBefore(i);
      for (let r = 0; r < n; r++, i++) {
        if (rows[2 * r] !== want[i]!.offset || rows[2 * r + 1] !== want[i]!.length) ok = false;
      }
    }
    expect(ok).toBe(true);
    t.releaseBefore(want.length);
    // Every block but the last was the table's own buffer and is detached now; the last still holds rows.
    expect(views.slice(0, -1).every((v) => v.buffer.byteLength === 0)).toBe(true);
    expect(views[views.length - 1]!.buffer.byteLength).toBeGreaterThan(0);
    expect(t.count).toBe(want.length);
  });

  test("releaseBefore() only drops the views of an adopted table: the caller's bytes stay whole", () => {
    const source = PatternRangeTable.from(ranges(1_100_000));
    const encoded = new Uint8Array(source.encodedBytes);
    source.copyEncoded(encoded, 0);
    const t = PatternRangeTable.fromEncoded(encoded, source.count);
    t.releaseBefore(source.count);
    expect(encoded.buffer.byteLength).toBe(encoded.length);
  });

  test("from() returns a table as is", () => {
    const t = PatternRangeTable.from([{ offset: 3, length: 4 }]);
    expect(PatternRangeTable.from(t)).toBe(t);
  });
});

describe("PatternRangeTable with a block store", () => {
  /** A store in memory: what the table hands over, kept as copies, and how often it is read back. */
  function memoryStore() {
    const blocks = new Map<number, Uint8Array>();
    let reads = 0;
    return {
      blocks,
      reads: () => reads,
      put: (index: number, bytes: Uint8Array) => {
        if (blocks.has(index)) throw new RangeError(`block ${index} put twice`);
        blocks.set(index, bytes.slice());
      },
      get: (index: number, into: Uint8Array) => {
        reads++;
        into.set(blocks.get(index)!.subarray(0, into.length));
      },
    };
  }

  test.each([0, 1, 65_537, 1_200_000])("a stored table of %i ranges reads as the plain one does", (n) => {
    const want = ranges(n);
    const store = memoryStore();
    const t = new PatternRangeTable({ store });
    for (const r of want) t.push(r.offset, r.length);
    const plain = PatternRangeTable.from(want);
    // Every block but the one being written is in the store, none twice.
    const blocks = plain.encodedViews().length;
    expect(store.blocks.size).toBe(Math.max(0, blocks - 1));
    expect(t.count).toBe(n);
    expect(t.encodedBytes).toBe(plain.encodedBytes);
    expect(Buffer.concat(t.encodedViews()).equals(Buffer.concat(plain.encodedViews()))).toBe(true);
    expect(t.toArray()).toEqual(want);
    for (const i of [n - 1, 0, n >> 1, n >> 3].filter((i) => i >= 0 && i < n)) {
      expect([i, t.offsetAt(i), t.lengthAt(i)]).toEqual([i, want[i]!.offset, want[i]!.length]);
    }
    // A reader in order reads each stored block back once.
    const before = store.reads();
    const rows = new Float64Array(2048);
    for (let i = 0; i < n; ) i += t.readRows(i, rows);
    expect(store.reads() - before).toBeLessThanOrEqual(store.blocks.size);
    t.releaseBefore(n);
    t.releaseBefore(n);
  });
});
