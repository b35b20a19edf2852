/** @module Tests of SpilledVarintReader: the numbers TableVarintReader reads, read from a spill through a small window, with its errors at the same offsets. */
import { describe, expect, test } from "bun:test";
import { CodecError } from "../codec-error.ts";
import type { HeaderSpill } from "./header-spill.ts";
import { SpilledVarintReader } from "./spilled-varint-reader.ts";
import { TableVarintReader } from "./table-varint-reader.ts";
import { writeVarint } from "./write-varint.ts";

/** A spill over fixed bytes, counting its reads. */
function spillOf(bytes: Uint8Array): HeaderSpill & { reads: number } {
  return {
    reads: 0,
    write() {
      throw new TypeError("Cannot write: read only");
    },
    read(position, into) {
      this.reads++;
      if (position + into.length > bytes.length) throw new RangeError("Cannot read: past the end");
      into.set(bytes.subarray(position, position + into.length));
    },
    close() {},
  };
}

/** Every number `reader` gives until it throws, and the error's code and offset. */
function drain(reader: { next(): number; at: number }): { values: number[]; error: string } {
  const values: number[] = [];
  for (;;) {
    try {
      values.push(reader.next());
    } catch (err) {
      if (!(err instanceof CodecError)) throw err;
      return { values, error: `${err.code}@${err.offset}` };
    }
  }
}

describe("SpilledVarintReader", () => {
  const numbers = [0, 1, 127, 128, 300, 16383, 16384, 2 ** 31, 2 ** 53 - 1, 5, 2 ** 40];
  const table = new Uint8Array(200);
  let end = 10;
  for (const n of numbers) end = writeVarint(table, end, n);
  const cases: Array<[string, Uint8Array, number, number]> = [
    ["well-formed numbers across window edges", table, 10, end],
    ["a number cut by the table's end", table, 10, end - 3],
    ["a number past 8 bytes", new Uint8Array(30).fill(0xff), 0, 30],
    ["a number past 2^53", Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f), 0, 8],
    ["an empty table", table, 10, 10],
  ];
  for (const [name, bytes, from, to] of cases) {
    for (const window of [8, 9, 13, 64 * 1024]) {
      test(`next() reads as TableVarintReader does, ${window}-byte window: ${name}`, () => {
        const spill = spillOf(bytes);
        const got = drain(new SpilledVarintReader(spill, from, to, window));
        expect(got).toEqual(drain(new TableVarintReader(bytes, from, to)));
        if (name.startsWith("well")) expect(got.values).toEqual(numbers);
        if (window === 8 && name.startsWith("well")) expect(spill.reads).toBeGreaterThan(3);
      });
    }
  }
});
