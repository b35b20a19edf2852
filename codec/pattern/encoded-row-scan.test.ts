/** @module Tests of scanEncodedRows(): block cuts at row boundaries, checkpoints, the end, and every refusal. */
import { describe, expect, test } from "bun:test";
import { CodecError } from "../codec-error.ts";
import { scanEncodedRows } from "./encoded-row-scan.ts";
import { writeVarint } from "./write-varint.ts";

/** Rows (gap, length) encoded as the pattern header stores them. */
function encode(rows: [number, number][]): Uint8Array {
  const out = new Uint8Array(rows.length * 16);
  let at = 0;
  for (const [gap, len] of rows) {
    at = writeVarint(out, at, gap);
    at = writeVarint(out, at, len);
  }
  return out.slice(0, at);
}

describe("scanEncodedRows()", () => {
  const valid: {
    name: string;
    rows: [number, number][];
    o: { blockBytes: number; checkpointRows: number };
    cuts: number[];
    end: number;
    checkpoints: [number, number][];
  }[] = [
    { name: "no rows", rows: [], o: { blockBytes: 8, checkpointRows: 2 }, cuts: [], end: 0, checkpoints: [] },
    {
      name: "one-byte rows in one block",
      rows: [
        [1, 2],
        [3, 4],
        [5, 6],
      ],
      o: { blockBytes: 64, checkpointRows: 2 },
      cuts: [],
      end: 21,
      checkpoints: [
        [0, 0],
        [4, 10],
      ],
    },
    {
      name: "rows cut into 4-byte blocks at row boundaries",
      rows: [
        [1, 1],
        [1, 1],
        [1, 1],
        [1, 1],
        [1, 1],
      ],
      o: { blockBytes: 4, checkpointRows: 2 },
      cuts: [4, 8],
      end: 10,
      // Row 2 starts block 1 (position 4 + 0), row 4 block 2 (8 + 0).
      checkpoints: [
        [0, 0],
        [4, 4],
        [8, 8],
      ],
    },
    {
      name: "multi-byte varints (a row never split across blocks)",
      rows: [
        [300, 70000],
        [1, 1],
        [200, 200],
      ],
      o: { blockBytes: 6, checkpointRows: 1 },
      // Row 1 would end past 6 bytes: block 1 starts at it; row 2 still fits block 1 (6 bytes from 5).
      cuts: [5],
      end: 70702,
      checkpoints: [
        [0, 0],
        [6, 70300],
        [8, 70302],
      ],
    },
  ];
  for (const c of valid)
    test(`scanEncodedRows() reads ${c.name}`, () => {
      const r = scanEncodedRows(encode(c.rows), c.rows.length, c.o);
      expect({ cuts: r.cuts, end: r.end }).toEqual({ cuts: c.cuts, end: c.end });
      expect(c.checkpoints.map((_, k) => [r.checkPos[k], r.checkEnd[k]])).toEqual(c.checkpoints);
    });

  const refused: { name: string; bytes: Uint8Array; count: number; message: RegExp }[] = [
    {
      name: "a table that ends inside a row",
      bytes: encode([[1, 2]]).subarray(0, 1),
      count: 1,
      message: /ends inside/,
    },
    { name: "a count past the rows", bytes: encode([[1, 2]]), count: 2, message: /ends inside/ },
    {
      name: "bytes after the rows",
      bytes: encode([
        [1, 2],
        [3, 4],
      ]),
      count: 1,
      message: /2 bytes follow/,
    },
    {
      name: "a range end past 2^53",
      bytes: encode([
        [2 ** 52, 2 ** 52],
        [2 ** 52, 1],
      ]),
      count: 2,
      message: /ends inside/,
    },
  ];
  for (const c of refused)
    test(`scanEncodedRows() refuses ${c.name} with ERR_PATTERN_RANGES`, () => {
      let err: unknown;
      try {
        scanEncodedRows(c.bytes, c.count, { blockBytes: 1 << 20, checkpointRows: 32 });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(CodecError);
      expect((err as CodecError).code).toBe("ERR_PATTERN_RANGES");
      expect((err as Error).message).toMatch(c.message);
    });
});
