/** @module screenOf(): the test kit's terminal model, checked so the progress test can fail for the right reason. */
import { describe, expect, test } from "bun:test";
import { screenOf } from "./terminal-screen.ts";

describe("screenOf()", () => {
  const cases: [string, string, number, string[], number][] = [
    [
      "redraws one line in place with \\r and ESC[K",
      "\rlong line 1\u001b[K\rshort\u001b[K\r\n",
      20,
      ["short", ""],
      0,
    ],
    ["keeps what a redraw without ESC[K leaves", "\rabcdef\rxy", 20, ["xycdef"], 0],
    ["wraps a line longer than the width", "0123456789abc", 10, ["0123456789", "abc"], 1],
    ["does not wrap a line exactly as wide", "0123456789\r\n", 10, ["0123456789", ""], 0],
  ];
  for (const [name, output, columns, lines, wraps] of cases) {
    test(`screenOf() ${name}`, () => {
      expect(screenOf(output, columns)).toEqual({ lines, wraps });
    });
  }
});
