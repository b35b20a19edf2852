import { describe, expect, test } from "bun:test";
import { CBCS_TAIL_MIN_DATA_BYTES, cbcsSliceBlocks } from "./cbcs-slice-blocks.ts";

const ONE_NINE = { crypt: 1, skip: 9 };

function blocks(dataStart: number, nalEnd: number, scheme: { crypt: number; skip: number; tail?: boolean }) {
  const out: Array<[number, boolean]> = [];
  const span = cbcsSliceBlocks(dataStart, nalEnd, scheme, (at, chain) => out.push([at, chain]));
  return { out, span };
}

describe("cbcsSliceBlocks()", () => {
  const cases: Array<{
    name: string;
    from: number;
    to: number;
    scheme: { crypt: number; skip: number; tail?: boolean };
    want: Array<[number, boolean]>;
    span: number;
  }> = [
    { name: "data under one block: nothing", from: 10, to: 25, scheme: ONE_NINE, want: [], span: 15 },
    {
      name: "one to two blocks: the first block only",
      from: 10,
      to: 41,
      scheme: ONE_NINE,
      want: [[10, true]],
      span: 31,
    },
    {
      name: "two blocks exactly: first block, then the tail as its own chain",
      from: 0,
      to: 32,
      scheme: ONE_NINE,
      want: [
        [0, true],
        [16, true],
      ],
      span: 16,
    },
    {
      name: "a partial block before the tail stays clear",
      from: 0,
      to: 47,
      scheme: ONE_NINE,
      want: [
        [0, true],
        [31, true],
      ],
      span: 31,
    },
    {
      name: "1:9 over the span, the tail after it (the pattern's blocks never reach it)",
      from: 100,
      to: 100 + 176,
      scheme: ONE_NINE,
      want: [
        [100, true],
        [260, true],
      ],
      span: 160,
    },
    {
      name: "a pattern block that would end past the span is not taken",
      from: 0,
      to: 175,
      scheme: ONE_NINE,
      want: [
        [0, true],
        [159, true],
      ],
      span: 159,
    },
    {
      name: "1:9 whole periods then the tail",
      from: 0,
      to: 336,
      scheme: ONE_NINE,
      want: [
        [0, true],
        [160, false],
        [320, true],
      ],
      span: 320,
    },
    {
      name: "crypt 2 keeps a chain across its run",
      from: 0,
      to: 100,
      scheme: { crypt: 2, skip: 1 },
      want: [
        [0, true],
        [16, false],
        [48, false],
        [64, false],
        [84, true],
      ],
      span: 84,
    },
    {
      name: "tail: false is the plain pattern to the slice's end",
      from: 0,
      to: 336,
      scheme: { ...ONE_NINE, tail: false },
      want: [
        [0, true],
        [160, false],
        [320, false],
      ],
      span: 336,
    },
  ];
  for (const c of cases) {
    test(`cbcsSliceBlocks() ${c.name}`, () => {
      const { out, span } = blocks(c.from, c.to, c.scheme);
      expect(out).toEqual(c.want);
      expect(span).toBe(c.span);
    });
  }

  test("cbcsSliceBlocks() encrypts the last 16 bytes of every slice with at least two blocks of data, never overlapping", () => {
    for (let len = 0; len < 1000; len++) {
      const { out, span } = blocks(7, 7 + len, ONE_NINE);
      for (let k = 1; k < out.length; k++) expect(out[k]![0]).toBeGreaterThanOrEqual(out[k - 1]![0] + 16);
      if (len >= CBCS_TAIL_MIN_DATA_BYTES) {
        expect(out.at(-1)).toEqual([7 + len - 16, true]);
        expect(span).toBe(len - 16);
      }
      if (len >= 16) expect(out[0]).toEqual([7, true]);
    }
  });
});
