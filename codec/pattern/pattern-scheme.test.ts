/** @module Tests of the pattern schemes: which bytes of a slice span each one picks, and the header codes. */
import { describe, expect, test } from "bun:test";
import {
  blockRule,
  checkPatternScheme,
  DEFAULT_PATTERN_SCHEME,
  decodeScheme,
  encodeScheme,
  type PatternScheme,
  ruleBytes,
  schemeRanges,
} from "./pattern-scheme.ts";

function ranges(s: PatternScheme, start: number, end: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  schemeRanges(s, start, end, (o, l) => out.push([o, l]));
  return out;
}

describe("schemeRanges()", () => {
  const cases: Array<[string, PatternScheme, number, number, Array<[number, number]>]> = [
    ["slice-start takes the first bytes", { kind: "slice-start", bytes: 16 }, 100, 200, [[100, 16]]],
    ["slice-start takes a short span whole", { kind: "slice-start", bytes: 16 }, 100, 105, [[100, 5]]],
    ["full takes the span", { kind: "full" }, 10, 50, [[10, 40]]],
    [
      "block 1:9 encrypts one block in ten",
      { kind: "block", crypt: 1, skip: 9 },
      0,
      330,
      [
        [0, 16],
        [160, 16],
        [320, 10],
      ],
    ],
    [
      "block 2:1 encrypts two of three",
      { kind: "block", crypt: 2, skip: 1 },
      5,
      100,
      [
        [5, 32],
        [53, 32],
      ],
    ],
    ["an empty span gives nothing", { kind: "full" }, 7, 7, []],
    ["slice-block lists the whole span", { kind: "slice-block", crypt: 1, skip: 9 }, 4, 330, [[4, 326]]],
  ];
  for (const [name, s, a, b, want] of cases) {
    test(`schemeRanges() ${name}`, () => expect(ranges(s, a, b)).toEqual(want));
  }
});

describe("checkPatternScheme()", () => {
  const bad: PatternScheme[] = [
    { kind: "slice-start", bytes: 0 },
    { kind: "slice-start", bytes: 70000 },
    { kind: "slice-start", bytes: 1.5 },
    { kind: "block", crypt: 0, skip: 9 },
    { kind: "block", crypt: 1, skip: -1 },
    { kind: "slice-block", crypt: 0, skip: 9 },
    { kind: "slice-block", crypt: 1, skip: 65536 },
  ];
  for (const s of bad) {
    test(`checkPatternScheme() rejects ${JSON.stringify(s)}`, () => {
      expect(() => checkPatternScheme(s)).toThrow(RangeError);
    });
  }
  test("checkPatternScheme() accepts the default", () => {
    expect(() => checkPatternScheme(DEFAULT_PATTERN_SCHEME)).not.toThrow();
  });
});

describe("encodeScheme()/decodeScheme()", () => {
  const schemes: PatternScheme[] = [
    { kind: "slice-start", bytes: 64 },
    { kind: "block", crypt: 1, skip: 9 },
    { kind: "block", crypt: 3, skip: 0 },
    { kind: "full" },
    { kind: "slice-block", crypt: 1, skip: 9 },
    { kind: "cbcs", crypt: 1, skip: 9 },
  ];
  for (const s of schemes) {
    test(`decodeScheme() round-trips ${JSON.stringify(s)}`, () => {
      const e = encodeScheme(s);
      expect(decodeScheme(e.code, e.a, e.b)).toEqual(s);
    });
  }
  const invalid: Array<[number, number, number]> = [
    [0, 0, 0],
    [4, 0, 0],
    [5, 0, 9],
    [6, 1, 9],
    [1, 0, 0],
    [1, 16, 1],
    [2, 0, 9],
    [3, 1, 0],
  ];
  for (const [c, a, b] of invalid) {
    test(`decodeScheme() rejects code ${c} with ${a}, ${b}`, () =>
      expect(decodeScheme(c, a, b)).toBeUndefined());
  }
});

describe("ruleBytes()", () => {
  const rule = blockRule({ kind: "slice-block", crypt: 1, skip: 9 })!;
  const cases: Array<[number, number]> = [
    [0, 0],
    [10, 10],
    [16, 16],
    [159, 16],
    [160, 16],
    [170, 26],
    [330, 16 + 16 + 10],
  ];
  for (const [length, want] of cases) {
    test(`ruleBytes() counts ${want} encrypted bytes in ${length} under slice-block 1:9`, () =>
      expect(ruleBytes(rule, length)).toBe(want));
  }
  test("blockRule() is undefined for schemes that encrypt whole ranges", () => {
    expect(blockRule({ kind: "block", crypt: 1, skip: 9 })).toBeUndefined();
    expect(blockRule({ kind: "full" })).toBeUndefined();
  });
});
